import { getAddress, isAddress } from "ethers";
import { randomUUID } from "node:crypto";
import { AppError } from "../shared/errors";
import type { ApplicantRecord } from "../store";
import { sealIdentity, type Identity } from "./identity";
import type { KycDeps } from "./ports";
import { screenName } from "./sanctions/match";
import { assessRisk, type Questionnaire } from "./scoring";
import { scoreSuitability, type SuitabilityAnswers } from "./suitability";

export interface SubmitInput {
  account: string;
  jurisdiction: number;
  identity: Identity;
  questionnaire: Questionnaire;
  suitability: SuitabilityAnswers;
  creditScore: number;
  /** API key that submitted (recorded in the history). */
  actor: string;
}

/**
 * Onboarding: seal the identity, screen the name against the sanctions list, score the questionnaire and credit
 * score into a tier and the suitability quiz into another; the tier offered is the lower of the two. The
 * application then waits for the client's signed acknowledgement of the risk disclosure (acknowledgeDocument.ts),
 * which approves it at once (writing KycRegistry) unless it is queued for officer review: the tier is above the
 * auto-approval limit or a list entry is a near match.
 */
export async function submitApplication(deps: KycDeps, input: SubmitInput): Promise<ApplicantRecord> {
  if (!isAddress(input.account))
    throw new AppError("VALIDATION_FAILED", "account: not an address", { details: { field: "account" } });
  const account = getAddress(input.account).toLowerCase();
  const open = (await deps.store.kyc.list({ account })).filter((a) =>
    ["pending_review", "approving", "approved", "revoking"].includes(a.status),
  );
  if (open.length > 0) {
    throw new AppError("CONFLICT", "this account already has an open or approved application", {
      details: { applicationId: open[0].id, status: open[0].status },
    });
  }
  const id = `kyc_${randomUUID()}`;
  const { sealed, hash } = sealIdentity(deps.settings.dataKey, id, input.identity);
  const screening = screenName(input.identity.fullName, deps.sanctions, deps.settings.fuzzyThreshold);
  const risk = assessRisk(input.questionnaire, input.creditScore);
  const suitability = scoreSuitability(input.suitability, risk.tier);
  const tier = suitability.tier;
  const reviewReasons: string[] = [];
  for (const m of screening) reviewReasons.push(`sanctions near match: SDN ${m.entNum} (${m.score})`);
  if (tier > deps.settings.reviewAboveTier)
    reviewReasons.push(`tier ${tier} is above the auto-approval limit ${deps.settings.reviewAboveTier}`);
  const now = Date.now();
  const record: ApplicantRecord = {
    id,
    account,
    submittedBy: input.actor,
    status: "pending_review",
    identitySealed: sealed,
    identityHash: hash,
    jurisdiction: input.jurisdiction,
    score: risk.score,
    tier,
    maxLeverage: BigInt(tier) * 10n ** 18n,
    screening,
    reviewReasons,
    expiresAt: null,
    txHash: null,
    createdAt: now,
    updatedAt: now,
    suitability,
  };
  await deps.store.transaction(async (tx) => {
    await tx.kyc.insert(record);
    await tx.kyc.addHistory(id, {
      status: "submitted",
      actor: input.actor,
      reason:
        `score ${risk.score}, questionnaire tier ${risk.tier}; quiz ${suitability.score}/${suitability.total} ` +
        `(v${suitability.quizVersion}), quiz tier ${suitability.quizTier}; tier ${tier}`,
      txHash: null,
      at: now,
    });
    await tx.kyc.addHistory(id, {
      status: "pending_review",
      actor: "system",
      reason: [...reviewReasons, "awaiting the risk disclosure acknowledgement"].join("; "),
      txHash: null,
      at: now,
    });
  });
  deps.log.info("kyc application submitted", {
    applicationId: id,
    tier,
    score: risk.score,
    quizScore: suitability.score,
    nearMatches: screening.length,
  });
  return (await deps.store.kyc.get(id))!;
}
