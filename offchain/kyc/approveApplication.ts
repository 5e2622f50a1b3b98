import { AppError } from "../shared/errors";
import type { ApplicantRecord } from "../store";
import {
  claimAccount,
  claimApplication,
  completeClaim,
  hadNoEffect,
  releaseClaim,
  requireChain,
  undoOrphanWrite,
  type HeldClaim,
} from "./claims";
import { CLIENT_DOCUMENTS } from "./documents";
import type { KycDeps } from "./ports";

export interface Decision {
  actor: string;
  reason: string;
  /** An officer may approve at a lower tier than the score gave. */
  tier?: number;
}

/**
 * Writes the identity to KycRegistry (tier, jurisdiction, expiry = chain time + validity, identity hash) with
 * the KYC officer's key, then records the approval, the transaction and the on-chain tier leverage. Claim before
 * send: the application moves to `approving` (with the account's claim) before anything is sent, so a concurrent
 * approval, rejection or revocation is refused instead of racing the transaction.
 */
export async function approveOnChain(deps: KycDeps, id: string, d: Decision): Promise<ApplicantRecord> {
  const chain = requireChain(deps, "approvals");
  const a = await deps.store.kyc.get(id);
  if (!a) throw new AppError("NOT_FOUND", "no such application", { details: { applicationId: id } });
  if (a.status !== "pending_review")
    throw new AppError("CONFLICT", `application is ${a.status}`, { details: { status: a.status } });
  await requireDisclosureAcknowledged(deps, id);
  const tier = d.tier ?? a.tier;
  if (tier > a.tier)
    throw new AppError("VALIDATION_FAILED", `body.tier: may not exceed the assessed tier ${a.tier}`, {
      details: { field: "tier" },
    });
  const claim = await claimApplication(
    deps,
    a,
    "approve",
    { from: ["pending_review"], to: "approving", actor: d.actor, reason: `${d.reason} (tier ${tier})` },
    { tier },
  );
  let expiresAt: number;
  let maxLeverage: bigint;
  try {
    expiresAt = (await chain.now()) + deps.settings.validityDays * 86_400;
    maxLeverage = await chain.tierLeverage(tier);
  } catch (err) {
    await releaseClaim(deps, claim, "system", `approval not sent: ${(err as Error).message}`);
    throw err;
  }
  let txHash: string;
  try {
    txHash = (await chain.setIdentity(a.account, tier, a.jurisdiction, expiresAt, a.identityHash)).txHash;
  } catch (err) {
    // Nothing reached the chain: back to review. Otherwise the claim stays for the reconciliation job.
    if (hadNoEffect(err)) await releaseClaim(deps, claim, "system", `approval not written: ${(err as Error).message}`);
    else deps.log.warn("kyc approval: outcome unknown, left to reconciliation", { applicationId: id, err });
    throw err;
  }
  const done = await completeClaim(
    deps,
    claim,
    { status: "approved", actor: d.actor, reason: d.reason, txHash, at: Date.now() },
    { expiresAt, txHash },
    (tx) => tx.kyc.setAssessment(id, tier, maxLeverage),
  );
  if (!done) return compensate(deps, claim, a, txHash);
  deps.log.info("kyc application approved", { applicationId: id, tier, txHash });
  return (await deps.store.kyc.get(id))!;
}

/**
 * The approval writes the identity the chain lends against, so it waits for the client's signed acknowledgement
 * of the current risk disclosure: without it no borrow is possible on-chain (MarginNotVerified).
 */
async function requireDisclosureAcknowledged(deps: KycDeps, id: string): Promise<void> {
  const doc = CLIENT_DOCUMENTS["risk-disclosure"];
  const acks = await deps.store.kyc.acknowledgements(id);
  if (acks.some((k) => k.documentId === doc.id && k.version === doc.version)) return;
  throw new AppError(
    "CONFLICT",
    `the client has not acknowledged the risk disclosure (风险揭示书) v${doc.version}; ` +
      "approval waits for its signed acknowledgement (POST /v1/kyc/applications/:id/acknowledgements)",
    { details: { applicationId: id, documentId: doc.id, version: doc.version } },
  );
}

/**
 * The approval was sent, but its claim was taken over meanwhile (the reconciler found the claim overdue). If the
 * reconciler recorded this very approval, that record stands; otherwise the application moved on without it, and
 * the identity the transaction wrote is revoked again — now, if the account's claim is free, or by the next
 * reconciliation run.
 */
async function compensate(
  deps: KycDeps,
  lost: HeldClaim,
  a: ApplicantRecord,
  txHash: string,
): Promise<ApplicantRecord> {
  const current = (await deps.store.kyc.get(a.id))!;
  if (current.status === "approved") {
    deps.log.info("kyc approval recorded by reconciliation while in flight", { applicationId: a.id, txHash });
    return current;
  }
  let undone: { txHash: string } | undefined;
  const comp = await claimAccount(deps.store, lost.account, "compensate", { txHash }, deps.settings.claimTtlMs);
  if (comp) {
    try {
      undone = await undoOrphanWrite(deps, deps.chain!, lost.account);
    } catch (err) {
      deps.log.warn("kyc compensation failed; the reconciliation job retries it", { applicationId: a.id, err });
    } finally {
      await deps.store.kyc.releaseClaim(comp.account, comp.owner);
    }
  }
  throw new AppError(
    "CONFLICT",
    `application is ${current.status}: it changed while its approval was on its way to the chain; ` +
      (undone ? "the identity was revoked on-chain again" : "the reconciliation job revokes the identity"),
    { details: { applicationId: a.id, status: current.status, txHash, compensationTx: undone?.txHash ?? null } },
  );
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
