import { AppError } from "../shared/errors";
import type { ApplicantRecord } from "../store";
import type { KycDeps } from "./ports";

export interface Decision {
  actor: string;
  reason: string;
  /** An officer may approve at a lower tier than the score gave. */
  tier?: number;
}

/**
 * Writes the identity to KycRegistry (tier, jurisdiction, expiry = chain time + validity, identity hash) with
 * the KYC officer's key, then records the approval, the transaction and the on-chain tier leverage.
 */
export async function approveOnChain(deps: KycDeps, id: string, d: Decision): Promise<ApplicantRecord> {
  if (!deps.chain)
    throw new AppError("CHAIN_UNAVAILABLE", "no KYC officer key is configured; approvals cannot reach the chain");
  const a = await deps.store.kyc.get(id);
  if (!a) throw new AppError("NOT_FOUND", "no such application", { details: { applicationId: id } });
  if (a.status !== "pending_review")
    throw new AppError("CONFLICT", `application is ${a.status}`, { details: { status: a.status } });
  const tier = d.tier ?? a.tier;
  if (tier > a.tier)
    throw new AppError("VALIDATION_FAILED", `body.tier: may not exceed the assessed tier ${a.tier}`, {
      details: { field: "tier" },
    });
  const expiresAt = (await deps.chain.now()) + deps.settings.validityDays * 86_400;
  const { txHash } = await deps.chain.setIdentity(a.account, tier, a.jurisdiction, expiresAt, a.identityHash);
  const maxLeverage = await deps.chain.tierLeverage(tier);
  const moved = await deps.store.transaction(async (tx) => {
    const ok = await tx.kyc.transition(
      id,
      ["pending_review"],
      { status: "approved", actor: d.actor, reason: d.reason, txHash, at: Date.now() },
      { expiresAt, txHash },
    );
    if (ok) await tx.kyc.setAssessment(id, tier, maxLeverage);
    return ok;
  });
  if (!moved)
    throw new AppError("CONFLICT", "application changed while it was being approved", {
      details: { applicationId: id },
    });
  deps.log.info("kyc application approved", { applicationId: id, tier, txHash });
  return (await deps.store.kyc.get(id))!;
}

export async function rejectApplication(deps: KycDeps, id: string, d: Decision): Promise<ApplicantRecord> {
  const ok = await deps.store.kyc.transition(id, ["pending_review"], {
    status: "rejected",
    actor: d.actor,
    reason: d.reason,
    txHash: null,
    at: Date.now(),
  });
  if (!ok) {
    const a = await deps.store.kyc.get(id);
    if (!a) throw new AppError("NOT_FOUND", "no such application", { details: { applicationId: id } });
    throw new AppError("CONFLICT", `application is ${a.status}`, { details: { status: a.status } });
  }
  return (await deps.store.kyc.get(id))!;
}
