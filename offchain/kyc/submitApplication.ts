import { getAddress, isAddress } from "ethers";
import { randomUUID } from "node:crypto";
import { AppError } from "../shared/errors";
import type { ApplicantRecord } from "../store";
import { approveOnChain } from "./approveApplication";
import { sealIdentity, type Identity } from "./identity";
import type { KycDeps } from "./ports";
import { screenName } from "./sanctions/match";
import { assessRisk, type Questionnaire } from "./scoring";

export interface SubmitInput {
  account: string;
  jurisdiction: number;
  identity: Identity;
  questionnaire: Questionnaire;
  creditScore: number;
  /** API key that submitted (recorded in the history). */
  actor: string;
}

/**
 * Onboarding: seal the identity, screen the name against the sanctions list, score the questionnaire and credit
 * score into a tier, then either approve at once (writing KycRegistry) or queue for officer review when the
 * tier is above the auto-approval limit or any list entry is a near match.
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
  const reviewReasons: string[] = [];
  for (const m of screening) reviewReasons.push(`sanctions near match: SDN ${m.entNum} (${m.score})`);
  if (risk.tier > deps.settings.reviewAboveTier)
    reviewReasons.push(`tier ${risk.tier} is above the auto-approval limit ${deps.settings.reviewAboveTier}`);
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
    tier: risk.tier,
    maxLeverage: risk.maxLeverage,
    screening,
    reviewReasons,
    expiresAt: null,
    txHash: null,
    createdAt: now,
    updatedAt: now,
  };
  await deps.store.transaction(async (tx) => {
    await tx.kyc.insert(record);
    await tx.kyc.addHistory(id, {
      status: "submitted",
      actor: input.actor,
      reason: `score ${risk.score}, tier ${risk.tier}`,
      txHash: null,
      at: now,
    });
    await tx.kyc.addHistory(id, {
      status: "pending_review",
      actor: "system",
      reason: reviewReasons.length ? reviewReasons.join("; ") : "automatic checks passed",
      txHash: null,
      at: now,
    });
  });
  deps.log.info("kyc application submitted", {
    applicationId: id,
    tier: risk.tier,
    score: risk.score,
    nearMatches: screening.length,
  });
  if (reviewReasons.length > 0 || !deps.chain) return (await deps.store.kyc.get(id))!;
  try {
    return await approveOnChain(deps, id, { actor: "system", reason: "automatic approval" });
  } catch (err) {
    // The application stays queued; an officer can approve it once the chain answers again.
    deps.log.warn("automatic approval failed; left for review", { applicationId: id, err });
    await deps.store.kyc.addHistory(id, {
      status: "pending_review",
      actor: "system",
      reason: "automatic approval failed on-chain",
      txHash: null,
      at: Date.now(),
    });
    return (await deps.store.kyc.get(id))!;
  }
}
