import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { main } from "../../../../offchain/settlement/legal/cli";
import {
  bankAmount,
  buildPain001,
  computeFinalSettlement,
  settlementPayoutTransfers,
  parseXml,
  validatePain001,
  LegalError,
  PAIN001_XSD_FILE,
  type CreditTransferMessage,
} from "../../../../offchain/settlement/legal";
import { CNY, seedTerms } from "./seed";

/** The seed's final settlement payouts (client 108,000; capital pool 109,000; platform 3,000) from the custodian. */
function payouts(): CreditTransferMessage {
  return {
    messageId: "MB-PAY-20280101-0001",
    createdAt: "2028-01-01T09:00:00+08:00",
    initiatingParty: { name: "MarginBridge Platform Ltd.", orgId: "91310000MA1FL0000X" },
    payments: [
      {
        paymentInfoId: "MB-FS-a1a1a1a1",
        requestedExecutionDate: "2028-01-02",
        debtor: { name: "MarginBridge Custody Account" },
        debtorAccount: { iban: "DE89 3704 0044 0532 0130 00" },
        debtorAgent: { bic: "COBADEFFXXX" },
        chargeBearer: "SLEV",
        transfers: [
          {
            endToEndId: "FS-a1a1a1a1-CLIENT",
            amount: 108_000n * CNY,
            decimals: 6,
            currency: "CNY",
            creditor: { name: 'Zhang & Sons <Ltd> "A"' },
            creditorAccount: { other: "6222020200112233445", scheme: "CNAPS-ACCT" },
            creditorAgent: { clearingMemberId: "102100099996", clearingSystem: "CNAPS" },
            remittance: "Final settlement of agreement 0xa1a1…a1: own funds 100,000.00 + profit share 8,000.00",
          },
          {
            endToEndId: "FS-a1a1a1a1-POOL",
            amount: 109_000n * CNY,
            decimals: 6,
            currency: "CNY",
            creditor: { name: "MarginBridge Capital Pool" },
            creditorAccount: { iban: "GB82WEST12345698765432" },
            remittance: "Interest 8,000.00, principal 100,000.00, profit share 1,000.00",
          },
          {
            endToEndId: "FS-a1a1a1a1-PLATFORM",
            amount: 3_000_500_000n,
            decimals: 6,
            currency: "CNY",
            creditor: { name: "MarginBridge Platform Ltd." },
            creditorAccount: { other: "31001234567890" },
          },
        ],
      },
    ],
  };
}

describe("legal: ISO 20022 pain.001.001.10 cash-leg instructions, checked by the ISO schema (libxml2)", () => {
  const xml = buildPain001(payouts());
  const issuesOf = async (doc: string) => (await validatePain001(doc)).issues;
  const schemaRefuses = async (doc: string, fragment: RegExp) => {
    const issues = await issuesOf(doc);
    expect(issues.length, `refused: ${fragment}`).to.be.above(0);
    expect(issues.every((i) => i.layer === "schema")).to.equal(true);
    expect(issues.map((i) => i.message).join("\n")).to.match(fragment);
  };
  const accepted = async (doc: string) => expect(await issuesOf(doc)).to.deep.equal([]);

  it("ships the ISO schema unchanged (its published hash)", () => {
    const hash = createHash("sha256").update(readFileSync(PAIN001_XSD_FILE)).digest("hex");
    expect(hash).to.equal("90cfb613c7bc11d8bec4e9049af404ff2c28fb2275621f145a302a6d2494c09c");
  });

  it("writes a message the ISO schema and the business rules accept, with NbOfTxs and CtrlSum computed", async () => {
    const r = await validatePain001(xml);
    expect(r.issues).to.deep.equal([]);
    expect(r.valid).to.equal(true);
    expect(r.transactions).to.equal(3);
    expect(r.controlSum).to.equal("220000.50");
    expect(xml).to.contain("<NbOfTxs>3</NbOfTxs>");
    expect(xml).to.contain("<CtrlSum>220000.50</CtrlSum>");
    expect(xml).to.contain('<InstdAmt Ccy="CNY">108000.00</InstdAmt>');
    expect(xml).to.contain("<IBAN>DE89370400440532013000</IBAN>");
    expect(parseXml(xml).attrs.xmlns).to.equal("urn:iso:std:iso:20022:tech:xsd:pain.001.001.10");
  });

  it("escapes XML special characters, and the text reads back unchanged", () => {
    expect(xml).to.contain("Zhang &amp; Sons &lt;Ltd&gt; &quot;A&quot;");
    const tx = parseXml(xml).children[0].children[1].children[9];
    expect(tx.children[3].children[0].text).to.equal('Zhang & Sons <Ltd> "A"');
  });

  it("refuses amounts that are not whole fen instead of rounding silently", () => {
    expect(() => bankAmount({ amount: 1_000_001n, decimals: 6, currency: "CNY", endToEndId: "X" }))
      .to.throw(LegalError)
      .with.property("code", "LEGAL_INVALID_INPUT");
    expect(bankAmount({ amount: 1_230_000n, decimals: 6, currency: "CNY", endToEndId: "X" })).to.equal("1.23");
  });

  it("the builder refuses identifiers beyond the schema's lengths and patterns, naming the field; cuts names", async () => {
    const refused = (edit: (m: CreditTransferMessage) => void, field: string) => {
      const m = payouts();
      edit(m);
      expect(() => buildPain001(m), field)
        .to.throw(LegalError)
        .that.satisfies((e: LegalError) => e.code === "LEGAL_INVALID_INPUT" && e.details.field === field);
    };
    refused((m) => (m.messageId = "M".repeat(36)), "messageId");
    refused((m) => (m.payments[0].transfers[1].endToEndId = "E".repeat(36)), "payments[0].transfers[1].endToEndId");
    refused((m) => (m.payments[0].debtorAgent = { bic: "COBA" }), "payments[0].debtorAgent.bic");
    refused(
      (m) => (m.payments[0].transfers[2].creditorAccount = { other: "1".repeat(35) }),
      "payments[0].transfers[2].creditorAccount.other",
    );
    refused((m) => (m.payments[0].debtorAccount = { iban: "1234" }), "payments[0].debtorAccount.iban");
    refused((m) => (m.payments[0].debtor.name = "  "), "payments[0].debtor.name");
    const long = payouts();
    long.payments[0].transfers[0].creditor.name = "张".repeat(150);
    long.payments[0].transfers[0].remittance = "R".repeat(300);
    const cut = buildPain001(long);
    expect(cut).to.contain(`<Nm>${"张".repeat(140)}</Nm>`);
    expect(cut).to.contain(`<Ustrd>${"R".repeat(140)}</Ustrd>`);
    await accepted(cut);
  });

  describe("the ISO schema refuses (where the old hand-written validator accepted)", () => {
    it("an element in a foreign namespace", async () => {
      await schemaRefuses(
        xml.replace("<PmtMtd>TRF</PmtMtd>", '<PmtMtd>TRF</PmtMtd><x:Note xmlns:x="urn:example">hi</x:Note>'),
        /Note/,
      );
    });
    it("a four-letter country code", async () => {
      await schemaRefuses(
        xml.replace(
          "<Nm>MarginBridge Capital Pool</Nm>",
          "<Nm>MarginBridge Capital Pool</Nm><PstlAdr><Ctry>CHNA</Ctry></PstlAdr>",
        ),
        /Ctry|CountryCode|pattern/,
      );
    });
    it("a time zone beyond ±14:00", async () => {
      await schemaRefuses(xml.replace("2028-01-01T09:00:00+08:00", "2028-01-01T09:00:00+15:00"), /CreDtTm|dateTime/);
    });
    it("stray text between elements", async () => {
      await schemaRefuses(
        xml.replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>TRF</PmtMtd>stray"),
        /text|Character content|mixed/i,
      );
    });
    it("elements out of order, missing or unknown, over-long text, a bad code", async () => {
      await schemaRefuses(xml.replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>TRF</PmtMtd><Foo>1</Foo>"), /Foo/);
      await schemaRefuses(xml.replace("<EndToEndId>FS-a1a1a1a1-POOL</EndToEndId>", ""), /EndToEndId/);
      await schemaRefuses(xml.replace("MB-PAY-20280101-0001", "M".repeat(36)), /MsgId|length/);
      await schemaRefuses(xml.replace("<PmtMtd>TRF", "<PmtMtd>XXX"), /PmtMtd|enumeration/);
      await schemaRefuses(xml.replace('Ccy="CNY">108000.00', 'Ccy="cny">108000.00'), /Ccy|pattern/);
      await schemaRefuses(xml.replace("2028-01-02", "2028-02-30"), /Dt|date/);
      await schemaRefuses(xml.replace("108000.00", "1234567890123456789"), /InstdAmt|digits/);
      await schemaRefuses(xml.replace("pain.001.001.10", "pain.001.001.03"), /Document|namespace|declaration/i);
      await schemaRefuses(xml.replace("</GrpHdr>", "</GrpHeader>"), /GrpHeader|mismatch|parser/i);
    });
  });

  describe("the ISO schema accepts (where the old hand-written validator refused)", () => {
    it("a prefixed root and elements", async () => {
      const prefixed = xml
        .replace(/<(\/?)([A-Za-z][A-Za-z0-9]*)([\s>/])/g, "<$1p:$2$3")
        .replace('xmlns="urn:iso', 'xmlns:p="urn:iso');
      expect(prefixed).to.contain("<p:Document xmlns:p=");
      const r = await validatePain001(prefixed);
      expect(r.issues).to.deep.equal([]);
      expect(r.controlSum).to.equal("220000.50");
    });
    it("xsi:schemaLocation on the root", async () => {
      await accepted(
        xml.replace(
          '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"',
          '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10 pain.001.001.10.xsd"',
        ),
      );
    });
    it("CNAPS as the clearing system, a postal address, a UETR", async () => {
      expect(xml).to.contain("<Prtry>CNAPS</Prtry>");
      await accepted(
        xml
          .replace(
            "<Nm>MarginBridge Capital Pool</Nm>",
            "<Nm>MarginBridge Capital Pool</Nm><PstlAdr><TwnNm>上海</TwnNm><Ctry>CN</Ctry></PstlAdr>",
          )
          .replace(
            "<EndToEndId>FS-a1a1a1a1-POOL</EndToEndId>",
            "<EndToEndId>FS-a1a1a1a1-POOL</EndToEndId><UETR>8a562c67-ca16-48ba-b074-65581be6f011</UETR>",
          ),
      );
    });
    it("a + sign and trailing zeros in an amount (the same number)", async () => {
      await accepted(xml.replace('Ccy="CNY">108000.00', 'Ccy="CNY">+108000.000'));
    });
  });

  describe("business rules on a schema-valid document", () => {
    const rules = async (doc: string) => {
      const issues = await issuesOf(doc);
      expect(issues.every((i) => i.layer === "rule")).to.equal(true);
      return issues.map((i) => `${i.path}: ${i.message}`);
    };
    it("NbOfTxs and CtrlSum agree with the transactions (group and each PmtInf)", async () => {
      const bad = xml.replace("<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>4</NbOfTxs>").replace(/220000\.50/g, "220000.49");
      const issues = await rules(bad);
      expect(issues).to.include("/Document/CstmrCdtTrfInitn/GrpHdr/NbOfTxs: says 4, the message has 3");
      expect(issues).to.include(
        "/Document/CstmrCdtTrfInitn/GrpHdr/CtrlSum: says 220000.49, the amounts sum to 220000.50",
      );
      expect(issues.some((i) => i.includes("PmtInf[1]/CtrlSum: says 220000.49"))).to.equal(true);
    });
    it("unique EndToEndId, IBAN check digits, no more decimals than the currency has", async () => {
      expect(await rules(xml.replace("FS-a1a1a1a1-POOL", "FS-a1a1a1a1-CLIENT"))).to.include(
        "/Document/CstmrCdtTrfInitn/PmtInf[1]/CdtTrfTxInf[2]: duplicate EndToEndId FS-a1a1a1a1-CLIENT",
      );
      expect((await rules(xml.replace("GB82WEST12345698765432", "GB83WEST12345698765432"))).join()).to.match(
        /IBAN: IBAN check digits do not verify/,
      );
      const sub = xml.replace("108000.00", "108000.001").replace(/220000\.50/g, "220000.501");
      expect(await rules(sub)).to.include(
        "/Document/CstmrCdtTrfInitn/PmtInf[1]/CdtTrfTxInf[1]/Amt/InstdAmt: more decimals than CNY has (2)",
      );
    });
  });

  it("the CLI validates a file: exit 0 for the builder's output, 1 for a broken one", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mb-pain001-"));
    const file = path.join(dir, "p.xml");
    const run = async (): Promise<number> => {
      const original = console.log;
      console.log = () => undefined;
      try {
        return await main(["validate-pain001", file]);
      } finally {
        console.log = original;
      }
    };
    writeFileSync(file, xml);
    expect(await run()).to.equal(0);
    writeFileSync(file, xml.replace("<PmtMtd>TRF", "<PmtMtd>XXX"));
    expect(await run()).to.equal(1);
    rmSync(dir, { recursive: true });
  });
});

describe("legal: final settlement cash leg", () => {
  it("turns the seed's final settlement into a valid pain.001 paying 220,000.00 to the three parties", async () => {
    const s = computeFinalSettlement({
      terms: seedTerms("0x00000000000000000000000000000000000000A1", "0x00000000000000000000000000000000000000F1"),
      settledOn: "2028-01-01",
      closingCash: 220_000n * CNY + 5n, // 5 base units of dust that no bank can pay
      principal: 100_000n * CNY,
      interestDue: 8_000n * CNY,
      feesDue: [{ code: "MGMT", label: "Account management", amount: 2_000n * CNY }],
      insuranceFundAvailable: 0n,
    });
    const { transfers, dust } = settlementPayoutTransfers(s, {
      client: { name: "Client A", account: { other: "6222020200112233445" } },
      capitalProviders: { name: "MarginBridge Capital Pool", account: { iban: "GB82WEST12345698765432" } },
      platform: { name: "MarginBridge Platform Ltd.", account: { other: "31001234567890" } },
    });
    expect(dust).to.equal(5n);
    expect(transfers.map((t) => [t.endToEndId, t.amount])).to.deep.equal([
      ["FS-a1a1a1a1a1a1a1a1-CLIENT", 108_000n * CNY],
      ["FS-a1a1a1a1a1a1a1a1-POOL", 109_000n * CNY],
      ["FS-a1a1a1a1a1a1a1a1-PLATFORM", 3_000n * CNY],
    ]);
    const xml = buildPain001({
      messageId: "MB-FS-0001",
      createdAt: "2028-01-01T09:00:00+08:00",
      initiatingParty: { name: "MarginBridge Platform Ltd." },
      payments: [
        {
          paymentInfoId: "MB-FS-0001-1",
          requestedExecutionDate: "2028-01-02",
          debtor: { name: "MarginBridge Custody Account" },
          debtorAccount: { other: "31009999999999" },
          debtorAgent: { clearingMemberId: "102100099996", clearingSystem: "CNAPS" },
          transfers,
        },
      ],
    });
    const r = await validatePain001(xml);
    expect(r.issues).to.deep.equal([]);
    expect(r.controlSum).to.equal("220000.00");
  });
});
