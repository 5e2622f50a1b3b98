import fc from "fast-check";
import { expect } from "chai";
import {
  assessRisk,
  identityHash,
  loadSdnFile,
  nameSimilarity,
  normaliseName,
  openIdentity,
  parseSdnCsv,
  screenName,
  sealIdentity,
  type Questionnaire,
} from "../../../offchain/kyc";

describe("KYC building blocks", function () {
  const list = loadSdnFile();

  describe("sanctions list (OFAC SDN CSV layout)", function () {
    it("parses quoted names with commas and doubled quotes, and blanks '-0-' fields", function () {
      const [e] = parseSdnCsv(
        '8899,"O\'BRIEN, Patrick ""Paddy"" Sean","individual","SDNTK","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","x"\n',
      );
      expect(e).to.deep.include({
        entNum: "8899",
        name: 'O\'BRIEN, Patrick "Paddy" Sean',
        type: "individual",
        program: "SDNTK",
      });
      expect(e.tokens).to.deep.equal(["obrien", "paddy", "patrick", "sean"]);
      expect(list.length).to.equal(12);
    });

    it("normalises case, accents, punctuation and order", function () {
      expect(normaliseName("MÜLLER, Jürgen")).to.deep.equal(normaliseName("jurgen muller"));
      expect(nameSimilarity(normaliseName("Jurgen Muller"), normaliseName("MÜLLER, Jürgen"))).to.equal(1);
    });

    it("flags exact, reordered and misspelt names, and leaves unrelated names alone", function () {
      expect(screenName("Ivan Sergeyevich Petrov", list, 0.85)[0]).to.include({ entNum: "4410", score: 1 });
      expect(screenName("Ivan Petrov", list, 0.85)[0]?.entNum).to.equal("4410");
      expect(screenName("Dmitry Kovalenko", list, 0.85)[0]?.entNum).to.equal("306");
      expect(screenName("Luis Fernando Martines Garza", list, 0.85)[0]?.entNum).to.equal("912");
      expect(screenName("Wang Xiaoming", list, 0.85)).to.deep.equal([]);
      expect(screenName("Alice Chen", list, 0.85)).to.deep.equal([]);
      expect(screenName("Mary Johnson", list, 0.85)).to.deep.equal([]);
    });
  });

  describe("risk questionnaire and credit score", function () {
    const q: Questionnaire = {
      investmentExperienceYears: 2,
      annualIncomeCny: "150000",
      netAssetsCny: "300000.50",
      lossTolerancePct: 20,
      objective: "growth",
      understandsMarginCalls: true,
    };

    it("scores each answer by the documented table and maps the score to a tier", function () {
      const r = assessRisk(q, 700);
      expect(r.breakdown).to.deep.equal({
        experience: 4,
        netAssets: 5,
        income: 4,
        lossTolerance: 6,
        objective: 7,
        credit: 18,
      });
      expect(r).to.include({ score: 44, tier: 2 });
      expect(r.maxLeverage).to.equal(2n * 10n ** 18n);
      const rich = assessRisk(
        {
          ...q,
          investmentExperienceYears: 15,
          netAssetsCny: "20000000",
          annualIncomeCny: "2000000",
          lossTolerancePct: 60,
          objective: "speculation",
        },
        850,
      );
      expect(rich).to.include({ score: 90, tier: 5 });
    });

    it("never gives a speculator more leverage than the same client seeking preservation (any answers)", function () {
      fc.assert(
        fc.property(
          fc.record({
            investmentExperienceYears: fc.integer({ min: 0, max: 80 }),
            annualIncomeCny: fc.bigInt({ min: 0n, max: 10n ** 9n }).map(String),
            netAssetsCny: fc.bigInt({ min: 0n, max: 10n ** 10n }).map(String),
            lossTolerancePct: fc.integer({ min: 0, max: 100 }),
            understandsMarginCalls: fc.boolean(),
          }),
          fc.integer({ min: 300, max: 850 }),
          (answers, credit) => {
            const speculator = assessRisk({ ...answers, objective: "speculation" }, credit);
            const preserver = assessRisk({ ...answers, objective: "preservation" }, credit);
            return speculator.tier <= preserver.tier && speculator.maxLeverage <= preserver.maxLeverage;
          },
        ),
        { numRuns: 2_000 },
      );
    });

    it("holds a client who does not understand margin calls at tier 1", function () {
      expect(assessRisk({ ...q, understandsMarginCalls: false }, 850).tier).to.equal(1);
    });
  });

  describe("identity at rest", function () {
    const key = Buffer.alloc(32, 7);
    const identity = {
      fullName: "Li Wei",
      dateOfBirth: "1985-04-12",
      nationality: "CN",
      documentType: "passport" as const,
      documentNumber: "E12345678",
      homeAddress: "1 Century Avenue, Shanghai",
    };

    it("seals the record with AES-256-GCM bound to its applicant and commits to it with a salted hash", function () {
      const { sealed, hash } = sealIdentity(key, "kyc_a", identity);
      expect(sealed).to.match(/^v1\./);
      expect(sealed).to.not.contain("Li Wei");
      const opened = openIdentity(key, "kyc_a", sealed);
      expect(opened.identity).to.deep.equal(identity);
      expect(identityHash(identity, opened.salt)).to.equal(hash);
      expect(() => openIdentity(key, "kyc_b", sealed)).to.throw("sealed value failed authentication");
      expect(() => openIdentity(Buffer.alloc(32, 8), "kyc_a", sealed)).to.throw("sealed value failed authentication");
    });

    it("gives one person one identity hash on every application, and two people different ones", function () {
      const { hash } = sealIdentity(key, "kyc_a", identity);
      // The same person applies again for a second address, having moved and written the number with a space.
      const again = { ...identity, homeAddress: "88 Century Avenue, Pudong, Shanghai", email: "li@example.cn" };
      const spaced = {
        ...again,
        documentNumber: ` ${identity.documentNumber.slice(0, 3)} ${identity.documentNumber.slice(3)}`,
      };
      expect(sealIdentity(key, "kyc_b", spaced).hash).to.equal(hash);
      // Another person (another document), or the same data under another service's key: another hash.
      expect(sealIdentity(key, "kyc_c", { ...identity, documentNumber: "E99999999" }).hash).to.not.equal(hash);
      expect(sealIdentity(Buffer.alloc(32, 9), "kyc_a", identity).hash).to.not.equal(hash);
    });
  });
});
