import { expect } from "chai";
import {
  bankAmount,
  buildPain001,
  computeFinalSettlement,
  settlementPayoutTransfers,
  parseXml,
  validatePain001,
  LegalError,
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

describe("legal: ISO 20022 pain.001.001.09 cash-leg instructions", () => {
  const xml = buildPain001(payouts());

  it("writes a message the structural validator accepts, with NbOfTxs and CtrlSum computed", () => {
    const r = validatePain001(xml);
    expect(r.issues).to.deep.equal([]);
    expect(r.valid).to.equal(true);
    expect(r.transactions).to.equal(3);
    expect(r.controlSum).to.equal("220000.50");
    expect(xml).to.contain("<NbOfTxs>3</NbOfTxs>");
    expect(xml).to.contain("<CtrlSum>220000.50</CtrlSum>");
    expect(xml).to.contain('<InstdAmt Ccy="CNY">108000.00</InstdAmt>');
    expect(xml).to.contain("<IBAN>DE89370400440532013000</IBAN>");
  });

  it("puts the required elements in the schema's order", () => {
    const doc = parseXml(xml);
    expect(doc.attrs.xmlns).to.equal("urn:iso:std:iso:20022:tech:xsd:pain.001.001.09");
    const init = doc.children[0];
    const names = (e: { children: { name: string }[] }) => e.children.map((c) => c.name);
    expect(names(init)).to.deep.equal(["GrpHdr", "PmtInf"]);
    expect(names(init.children[0])).to.deep.equal(["MsgId", "CreDtTm", "NbOfTxs", "CtrlSum", "InitgPty"]);
    const pmt = init.children[1];
    expect(names(pmt)).to.deep.equal([
      "PmtInfId",
      "PmtMtd",
      "NbOfTxs",
      "CtrlSum",
      "ReqdExctnDt",
      "Dbtr",
      "DbtrAcct",
      "DbtrAgt",
      "ChrgBr",
      "CdtTrfTxInf",
      "CdtTrfTxInf",
      "CdtTrfTxInf",
    ]);
    expect(names(pmt.children[9])).to.deep.equal(["PmtId", "Amt", "CdtrAgt", "Cdtr", "CdtrAcct", "RmtInf"]);
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

  describe("validator", () => {
    const issuesOf = (doc: string) => validatePain001(doc).issues.map((i) => `${i.path}: ${i.message}`);

    it("catches NbOfTxs and CtrlSum that disagree with the transactions", () => {
      const bad = xml.replace("<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>4</NbOfTxs>").replace(/220000\.50/g, "220000.49");
      const issues = issuesOf(bad);
      expect(issues).to.include("/Document/CstmrCdtTrfInitn/GrpHdr/NbOfTxs: says 4, the message has 3");
      expect(issues).to.include(
        "/Document/CstmrCdtTrfInitn/GrpHdr/CtrlSum: says 220000.49, the amounts sum to 220000.50",
      );
      expect(issues.some((i) => i.includes("PmtInf[1]/CtrlSum: says 220000.49"))).to.equal(true);
    });

    it("catches elements out of order, missing and unknown", () => {
      const swapped = xml.replace(
        /(<PmtId>[\s\S]*?<\/PmtId>)(\s*)(<Amt>[\s\S]*?<\/Amt>)/,
        (_m, pmtId: string, ws: string, amt: string) => `${amt}${ws}${pmtId}`,
      );
      expect(issuesOf(swapped)).to.include("/Document/CstmrCdtTrfInitn/PmtInf[1]/CdtTrfTxInf[1]: missing PmtId");
      const noE2E = xml.replace("<EndToEndId>FS-a1a1a1a1-POOL</EndToEndId>", "");
      expect(issuesOf(noE2E)).to.include(
        "/Document/CstmrCdtTrfInitn/PmtInf[1]/CdtTrfTxInf[2]/PmtId: missing EndToEndId",
      );
      const unknown = xml.replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>TRF</PmtMtd><Foo>1</Foo>");
      expect(issuesOf(unknown)).to.include(
        "/Document/CstmrCdtTrfInitn/PmtInf[1]/Foo: unexpected element (unknown, repeated or out of order)",
      );
    });

    it("checks max lengths, amount format, currency code, IBAN and BIC patterns and code lists", () => {
      const bad = xml
        .replace("MB-PAY-20280101-0001", "M".repeat(36))
        .replace('<InstdAmt Ccy="CNY">108000.00', '<InstdAmt Ccy="cny">108000.000001')
        .replace("GB82WEST12345698765432", "GB83WEST12345698765432")
        .replace("COBADEFFXXX", "coba")
        .replace("<PmtMtd>TRF", "<PmtMtd>XXX")
        .replace("2028-01-02", "2028-02-30");
      const issues = issuesOf(bad);
      const has = (fragment: string) =>
        expect(
          issues.some((i) => i.includes(fragment)),
          fragment,
        ).to.equal(true);
      has("GrpHdr/MsgId: Max35Text: length 36 outside 1..35");
      has("CdtTrfTxInf[1]/Amt/InstdAmt/@Ccy: not an ISO 4217 code");
      has("CdtTrfTxInf[1]/Amt/InstdAmt: Amount: more than 5 fraction digits");
      has("IBAN: IBAN check digits do not verify");
      has("BICFI: BICFI: not a BIC");
      has("PmtMtd: PaymentMethod: PmtMtd must be TRF, CHK or TRA");
      has("ReqdExctnDt/Dt: ISODate: no such date");
      const tooManyDigits = xml.replace("108000.00", "1234567890123456789");
      expect(issuesOf(tooManyDigits).some((i) => i.includes("more than 18 digits"))).to.equal(true);
      const sixDecimals = xml.replace("108000.00", "108000.001");
      expect(issuesOf(sixDecimals).some((i) => i.includes("more decimals than CNY has (2)"))).to.equal(true);
    });

    it("catches a duplicate EndToEndId, the wrong namespace, a DOCTYPE and malformed XML", () => {
      expect(issuesOf(xml.replace("FS-a1a1a1a1-POOL", "FS-a1a1a1a1-CLIENT"))).to.include(
        "/Document/CstmrCdtTrfInitn/PmtInf[1]/CdtTrfTxInf[2]: duplicate EndToEndId FS-a1a1a1a1-CLIENT",
      );
      expect(issuesOf(xml.replace("pain.001.001.09", "pain.001.001.03"))).to.include(
        "/Document: namespace must be urn:iso:std:iso:20022:tech:xsd:pain.001.001.09",
      );
      const dtd = xml.replace("<Document", '<!DOCTYPE x [<!ENTITY a "b">]><Document');
      expect(issuesOf(dtd)[0]).to.match(/DOCTYPE and other declarations are not accepted/);
      expect(issuesOf(xml.replace("</GrpHdr>", "</GrpHeader>"))[0]).to.match(/does not match/);
    });
  });
});

describe("legal: final settlement cash leg", () => {
  it("turns the seed's final settlement into a valid pain.001 paying 220,000.00 to the three parties", () => {
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
    const r = validatePain001(xml);
    expect(r.issues).to.deep.equal([]);
    expect(r.controlSum).to.equal("220000.00");
  });
});
