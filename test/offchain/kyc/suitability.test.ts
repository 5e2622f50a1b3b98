import { expect } from "chai";
import fc from "fast-check";
import { QUIZ, QUIZ_VERSION, SuitabilitySchema, publicQuiz, scoreSuitability } from "../../../offchain/kyc";
import { quizAnswers } from "../../helpers/kyc";

const OPTIONS = ["a", "b", "c"] as const;

describe("suitability quiz scoring", function () {
  it("gives tier 5 for every answer right and caps the tier at the questionnaire's", function () {
    expect(scoreSuitability(quizAnswers(), 5)).to.deep.include({ score: 7, total: 7, quizTier: 5, tier: 5 });
    expect(scoreSuitability(quizAnswers(), 3)).to.deep.include({ quizTier: 5, riskTier: 3, tier: 3 });
  });

  it("holds a client who misses a tier-3 question at tier 2, and one who misses a basic question at tier 1", function () {
    expect(scoreSuitability(quizAnswers(["liquidation"]), 5)).to.deep.include({ score: 6, quizTier: 2, tier: 2 });
    expect(scoreSuitability(quizAnswers(["loss-beyond-deposit", "interest"]), 5)).to.deep.include({ quizTier: 2 });
    expect(scoreSuitability(quizAnswers(["margin-call"]), 5)).to.deep.include({ quizTier: 1, tier: 1 });
    expect(scoreSuitability(quizAnswers(["leverage-5x"]), 5)).to.deep.include({ quizTier: 4, tier: 4 });
  });

  it("for any answers: the tier is min(questionnaire, quiz), and tier n only with every question up to n right", function () {
    const answers = fc.record(
      Object.fromEntries(QUIZ.map((q) => [q.id, fc.constantFrom(...OPTIONS)])) as Record<
        string,
        fc.Arbitrary<(typeof OPTIONS)[number]>
      >,
    );
    fc.assert(
      fc.property(answers, fc.integer({ min: 1, max: 5 }), (given, riskTier) => {
        const r = scoreSuitability({ quizVersion: QUIZ_VERSION, answers: given }, riskTier);
        expect(r.tier).to.equal(Math.min(riskTier, r.quizTier));
        expect(r.score).to.equal(QUIZ.filter((q) => given[q.id] === q.correct).length);
        for (const q of QUIZ) {
          if (given[q.id] !== q.correct) expect(r.quizTier).to.be.lessThan(q.tier);
        }
        const next = r.quizTier + 1;
        if (next <= 5) expect(QUIZ.some((q) => q.tier <= next && given[q.id] !== q.correct)).to.equal(true);
      }),
      { numRuns: 500 },
    );
  });

  it("serves no answers and accepts only complete answers of the current version", function () {
    expect(JSON.stringify(publicQuiz())).to.not.contain("correct");
    expect(SuitabilitySchema.safeParse(quizAnswers()).success).to.equal(true);
    const { interest: _left, ...partial } = quizAnswers().answers;
    expect(SuitabilitySchema.safeParse({ quizVersion: QUIZ_VERSION, answers: partial }).success).to.equal(false);
    expect(SuitabilitySchema.safeParse({ ...quizAnswers(), quizVersion: QUIZ_VERSION + 1 }).success).to.equal(false);
  });
});
