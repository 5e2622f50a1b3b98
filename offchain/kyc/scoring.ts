import { z } from "zod";
import { parseUnits } from "../shared/money";

/** The risk questionnaire. Amounts are CNY decimal strings (2 places) and become fen (bigint). */
export const QuestionnaireSchema = z
  .object({
    investmentExperienceYears: z.number().int().min(0).max(80),
    annualIncomeCny: z
      .string()
      .regex(/^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$/, "must be a CNY amount with up to 2 decimals"),
    netAssetsCny: z
      .string()
      .regex(/^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$/, "must be a CNY amount with up to 2 decimals"),
    lossTolerancePct: z.number().int().min(0).max(100),
    objective: z.enum(["preservation", "income", "growth", "speculation"]),
    understandsMarginCalls: z.boolean(),
  })
  .strict();
export type Questionnaire = z.infer<typeof QuestionnaireSchema>;

export const CreditScoreSchema = z.number().int().min(300).max(850);

const CNY = (yuan: number): bigint => BigInt(yuan) * 100n;
/**
 * Speculation as an objective never earns more leverage than preservation does (issue 21): both earn nothing. A
 * client who wants income or growth and knows what it risks earns some; one who wants to speculate earns none.
 */
const OBJECTIVE_POINTS: Record<Questionnaire["objective"], number> = {
  preservation: 0,
  income: 3,
  growth: 7,
  speculation: 0,
};

export interface RiskAssessment {
  /** 0..100 */
  score: number;
  /** 1..5, as in KycRegistry */
  tier: number;
  /** Default tier table (tier n → n×, 18 decimals); approval reads the on-chain table instead. */
  maxLeverage: bigint;
  breakdown: Record<string, number>;
}

/**
 * score = experience (2/year, ≤ 20) + net assets (0/5/10/15/20 at 100k/500k/2M/10M CNY) + income
 * (0/4/8/10 at 100k/300k/1M CNY) + loss tolerance (⌊min(pct, 50)·15/50⌋) + objective (preservation 0, income 3,
 * growth 7, speculation 0)
 * + credit (⌊(credit − 300)·25/550⌋). tier = 1 below 30, 2 below 45, 3 below 60, 4 below 75, else 5;
 * a client who does not understand margin calls is held at tier 1.
 */
export function assessRisk(q: Questionnaire, creditScore: number): RiskAssessment {
  const assets = parseUnits(q.netAssetsCny, 2);
  const income = parseUnits(q.annualIncomeCny, 2);
  const breakdown = {
    experience: Math.min(q.investmentExperienceYears, 10) * 2,
    netAssets:
      assets >= CNY(10_000_000)
        ? 20
        : assets >= CNY(2_000_000)
          ? 15
          : assets >= CNY(500_000)
            ? 10
            : assets >= CNY(100_000)
              ? 5
              : 0,
    income: income >= CNY(1_000_000) ? 10 : income >= CNY(300_000) ? 8 : income >= CNY(100_000) ? 4 : 0,
    lossTolerance: Math.floor((Math.min(q.lossTolerancePct, 50) * 15) / 50),
    objective: OBJECTIVE_POINTS[q.objective],
    credit: Math.floor(((creditScore - 300) * 25) / 550),
  };
  const score = Object.values(breakdown).reduce((a, b) => a + b, 0);
  let tier = score < 30 ? 1 : score < 45 ? 2 : score < 60 ? 3 : score < 75 ? 4 : 5;
  if (!q.understandsMarginCalls) tier = 1;
  return { score, tier, maxLeverage: BigInt(tier) * 10n ** 18n, breakdown };
}
