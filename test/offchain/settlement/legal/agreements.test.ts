import { expect } from "chai";
import { Wallet, verifyTypedData, TypedDataEncoder } from "ethers";
import {
  agreementDomain,
  agreementIsIntact,
  agreementMessage,
  agreementTypedData,
  buildAgreement,
  canonicalHash,
  canonicalize,
  isAgreementSignedBy,
  LegalError,
  FINANCING_AGREEMENT_TYPES,
  maintenanceBreachReturn,
  returnText,
} from "../../../../offchain/settlement/legal";
import { seedTerms } from "./seed";

const client = new Wallet("0x" + "11".repeat(32));
const platform = new Wallet("0x" + "22".repeat(32));
const registry = "0x" + "33".repeat(20);
const domain = agreementDomain(31337, registry);

describe("legal: canonical JSON", () => {
  it("sorts keys, drops whitespace and writes every integer as a decimal string", () => {
    expect(canonicalize({ b: 1, a: [2n, "x", true, null], c: { z: 10n ** 30n, y: -5 } })).to.equal(
      '{"a":["2","x",true,null],"b":"1","c":{"y":"-5","z":"1000000000000000000000000000000"}}',
    );
  });

  it("refuses fractions, undefined and dates instead of writing something ambiguous", () => {
    for (const bad of [{ a: 1.5 }, { a: undefined }, { a: new Date(0) }, { a: Number.NaN }]) {
      expect(() => canonicalize(bad))
        .to.throw(LegalError)
        .with.property("code", "LEGAL_NOT_CANONICAL");
    }
  });

  it("gives the same hash whatever order the keys were written in", () => {
    expect(canonicalHash({ x: 1n, y: { b: "2", a: "1" } })).to.equal(canonicalHash({ y: { a: "1", b: "2" }, x: 1 }));
  });
});

describe("legal: financing agreement", () => {
  const doc = buildAgreement(seedTerms(client.address, platform.address));

  it("renders the seed's terms as readable clauses: own funds, 2x, 8% and 43.84 a day on 200,000 at 3x", () => {
    expect(doc.text).to.contain("The Client provides 100,000.00 CNY");
    expect(doc.text).to.contain("Leverage is 2x");
    expect(doc.text).to.contain("100,000.00 CNY is financed");
    expect(doc.text).to.contain("8.00% a year");
    expect(doc.text).to.contain("Initial margin 20.00% and maintenance margin 15.00%");
    expect(doc.text).to.contain("mbSMALL, mbTECH, mbBANK");
    expect(doc.text).to.contain("80.00% to the Client, 10.00% to the capital providers and 10.00% to the Platform");
    const threeX = buildAgreement(
      seedTerms(client.address, platform.address, { leverageBps: 30_000, financedAmount: 200_000_000_000n }),
    );
    expect(threeX.text).to.contain("43.83561643 a day on the full Financed Amount, charged as 43.835617");
  });

  it("states when maintenance margin is reached, with DESIGN's formula r < (m·L − 1) / (L·(1 − m))", () => {
    expect(returnText(maintenanceBreachReturn(20_000, 2_500))).to.equal("-33.33%");
    expect(returnText(maintenanceBreachReturn(30_000, 2_500))).to.equal("-11.11%");
    expect(doc.text).to.contain(
      "the account reaches maintenance margin when the positions have lost 41.17% of their value",
    );
  });

  it("hashes the canonical JSON of the terms and the text hash; any change of a term changes the hash", () => {
    expect(doc.termsHash).to.match(/^0x[0-9a-f]{64}$/);
    // A third party re-parses the canonical bytes with any JSON parser and gets the same bytes and hash back.
    expect(canonicalize(JSON.parse(doc.canonical))).to.equal(doc.canonical);
    expect(canonicalHash(JSON.parse(doc.canonical))).to.equal(doc.termsHash);
    expect(doc.canonical).to.contain('"ownFunds":"100000000000"');
    expect(agreementIsIntact(doc)).to.equal(true);
    const again = buildAgreement(seedTerms(client.address, platform.address));
    expect(again.termsHash).to.equal(doc.termsHash);
    const changed = buildAgreement(
      seedTerms(client.address, platform.address, {
        interest: { ...doc.terms.interest, annualRateBps: 801 },
      }),
    );
    expect(changed.termsHash).to.not.equal(doc.termsHash);
    expect(agreementIsIntact({ ...doc, text: doc.text.replace("8.00%", "7.00%") })).to.equal(false);
  });

  it("produces signatures that plain ethers verifies for client and platform", async () => {
    const message = agreementMessage(doc);
    const td = agreementTypedData(domain, message);
    const clientSig = await client.signTypedData(td.domain, td.types, td.message);
    const platformSig = await platform.signTypedData(td.domain, td.types, td.message);
    expect(verifyTypedData(domain, FINANCING_AGREEMENT_TYPES, message, clientSig)).to.equal(client.address);
    expect(verifyTypedData(domain, FINANCING_AGREEMENT_TYPES, message, platformSig)).to.equal(platform.address);
    expect(isAgreementSignedBy(domain, message, clientSig, client.address)).to.equal(true);
    expect(isAgreementSignedBy(domain, message, clientSig, platform.address)).to.equal(false);
    expect(isAgreementSignedBy(domain, { ...message, version: 2 }, clientSig, client.address)).to.equal(false);
    expect(isAgreementSignedBy(domain, message, "0xdead", client.address)).to.equal(false);
    // The struct type string is the one AgreementRegistry hashes.
    expect(TypedDataEncoder.from(FINANCING_AGREEMENT_TYPES).encodeType("FinancingAgreement")).to.equal(
      "FinancingAgreement(bytes32 agreementId,address client,address platform,bytes32 termsHash," +
        "uint32 version,uint64 effectiveAt,uint64 expiresAt)",
    );
  });

  it("states both margin modes side by side, whichever the client chose (issue 23)", () => {
    const seed = seedTerms(client.address, platform.address);
    const mode = {
      chosen: "fixed" as const,
      fixedUntil: "2027-03-01",
      dynamicCapMaintenanceBps: 4_000,
      fixedVolatilityBps: 600,
      fixedMaintenanceBps: 1_977,
      fixedInitialBps: 2_477,
    };
    const fixed = buildAgreement({ ...seed, margin: { ...seed.margin, mode } });
    expect(fixed.text).to.contain("4a. Margin mode. The Client chose the fixed mode until 2027-03-01");
    expect(fixed.text).to.contain("up to a maintenance margin of 40.00%");
    expect(fixed.text).to.contain("initial margin 24.77% and maintenance margin 19.77% for the whole term");
    expect(fixed.text).to.contain("at a volatility of 6.00% a day");
    const dynamic = buildAgreement({
      ...seed,
      margin: { ...seed.margin, mode: { ...mode, chosen: "dynamic", fixedUntil: null } },
    });
    expect(dynamic.text).to.contain("The Client chose the dynamic mode.");
    expect(dynamic.termsHash).to.not.equal(fixed.termsHash);
    expect(doc.text).to.not.contain("4a. Margin mode"); // terms without modes read as before
    for (const [bad, field] of [
      [{ ...mode, fixedUntil: null }, "margin.mode.fixedUntil"],
      [{ ...mode, chosen: "dynamic" as const }, "margin.mode.fixedUntil"],
      [{ ...mode, fixedUntil: "1 March" }, "margin.mode.fixedUntil"],
      [{ ...mode, fixedInitialBps: 1_977 }, "margin.mode.fixedInitialBps"],
      [{ ...mode, fixedInitialBps: 6_000 }, "margin.mode.fixedInitialBps"], // 2× needs initial ≤ 50 %
      [{ ...mode, dynamicCapMaintenanceBps: 1_000 }, "margin.mode.dynamicCapMaintenanceBps"],
    ] as const) {
      expect(() => buildAgreement({ ...seed, margin: { ...seed.margin, mode: bad } }), field)
        .to.throw(LegalError)
        .with.nested.property("details.field", field);
    }
  });

  it("refuses inconsistent terms, naming the field", () => {
    const cases: [Partial<ReturnType<typeof seedTerms>>, string][] = [
      [{ financedAmount: 1n }, "financedAmount"],
      [{ profitSplit: { clientBps: 8_000, capitalProvidersBps: 1_000, platformBps: 999 } }, "profitSplit"],
      [{ expiresAt: 1 }, "expiresAt"],
      [{ leverageBps: 60_000, financedAmount: 500_000_000_000n }, "margin.initialMarginBps"],
      [{ agreementId: "0x" + "00".repeat(32) }, "agreementId"],
      [{ platform: { address: client.address, name: "x" } }, "platform.address"],
      [
        {
          margin: {
            initialMarginBps: 1_500,
            maintenanceMarginBps: 2_000,
            liquidationMarginBps: 1_000,
            marginCallWindowSeconds: 1,
          },
        },
        "margin",
      ],
    ];
    for (const [over, field] of cases) {
      expect(() => buildAgreement(seedTerms(client.address, platform.address, over)), field)
        .to.throw(LegalError)
        .with.nested.property("details.field", field);
    }
  });
});
