import { encodeBytes32String } from "ethers";
import type { ChainClaim, Discrepancy, IdentityProjection } from "../store";
import {
  claimAccount,
  completeClaim,
  isAlreadyRevoked,
  newClaimOwner,
  releaseClaim,
  undoOrphanWrite,
  type HeldClaim,
} from "./claims";
import type { ChainIdentity, KycChainPort, KycDeps } from "./ports";

export interface ReconcileReport {
  /** Overdue claims whose write was found on-chain (recorded) or not (undone / re-sent). */
  claimsResolved: number;
  /** Identities revoked because their application had moved on (writes that outlived their claim). */
  compensated: number;
  /** Differences left for a KYC officer (GET /v1/kyc/discrepancies). */
  discrepancies: number;
}

type Found = Omit<Discrepancy, "firstSeen" | "lastSeen">;

function verified(i: ChainIdentity | IdentityProjection, now: number): boolean {
  const registered = "registered" in i ? i.registered : true;
  return registered && !i.revoked && i.expiresAt > now;
}

/**
 * The `kyc-reconcile` job: KycRegistry against the KYC records.
 * 1. Claims past their time are taken over and resolved from the chain: an approval found on-chain is recorded,
 *    one not found returns the application to review; a revocation not found is re-sent.
 * 2. Every verified identity (as indexed, confirmed by a fresh read) must have an approved application with its
 *    hash. If the hash is one of the account's other applications (rejected, back in review…), a write outlived
 *    its claim: the identity is revoked (compensation). An unknown hash is reported, for an officer to revoke
 *    (POST /v1/kyc/identities/:account/revoke).
 * 3. Every approved application must be verified on-chain with its hash (or be due for expiry); otherwise it is
 *    reported.
 * Safe to run twice and on several instances: every write is under the account's claim.
 */
export async function reconcileKyc(deps: KycDeps): Promise<ReconcileReport> {
  const chain = deps.chain;
  if (!chain) return { claimsResolved: 0, compensated: 0, discrepancies: 0 };
  const report: ReconcileReport = { claimsResolved: 0, compensated: 0, discrepancies: 0 };
  for (const claim of await deps.store.kyc.expiredClaims(Date.now())) {
    if (await resolveClaim(deps, chain, claim)) report.claimsResolved++;
  }
  const now = await chain.now();
  const found: Found[] = [];
  for (const projected of await deps.store.projections.identities()) {
    if (!verified(projected, now)) continue;
    const outcome = await checkIdentity(deps, chain, projected.account, now);
    if (outcome === "compensated") report.compensated++;
    else if (outcome) found.push(outcome);
  }
  for (const a of await deps.store.kyc.list({ status: "approved", limit: 100_000 })) {
    if (a.expiresAt !== null && a.expiresAt <= now) continue; // the kyc-expiry job's
    if (await deps.store.kyc.claimOf(a.account)) continue;
    const projected = await deps.store.projections.identity(a.account);
    if (projected && verified(projected, now) && sameHash(projected.identityHash, a.identityHash)) continue;
    // The index may lag the chain: decide on a fresh read.
    const identity = await chain.identityOf(a.account);
    if (verified(identity, now) && sameHash(identity.identityHash, a.identityHash)) continue;
    found.push({
      account: a.account,
      kind: "approved-not-verified",
      applicationId: a.id,
      chainIdentityHash: identity.registered ? identity.identityHash : null,
      detail: { registered: identity.registered, revoked: identity.revoked, expiresAt: identity.expiresAt },
    });
  }
  await deps.store.kyc.replaceDiscrepancies(found, Date.now());
  report.discrepancies = found.length;
  if (report.claimsResolved || report.compensated || found.length) deps.log.info("kyc reconciliation", { ...report });
  return report;
}

function sameHash(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** One verified identity: backed, compensated, or a finding. Undefined: nothing to do. */
async function checkIdentity(
  deps: KycDeps,
  chain: KycChainPort,
  account: string,
  now: number,
): Promise<Found | "compensated" | undefined> {
  if (await deps.store.kyc.claimOf(account)) return undefined; // a write is in flight
  const apps = await deps.store.kyc.list({ account, limit: 1000 });
  const identity = await chain.identityOf(account);
  if (!verified(identity, now)) return undefined;
  if (apps.some((a) => a.status === "approved" && sameHash(a.identityHash, identity.identityHash))) return undefined;
  if (apps.some((a) => sameHash(a.identityHash, identity.identityHash))) {
    const claim = await claimAccount(deps.store, account, "compensate", {}, deps.settings.claimTtlMs);
    if (!claim) return undefined;
    try {
      return (await undoOrphanWrite(deps, chain, account)) ? "compensated" : undefined;
    } finally {
      await deps.store.kyc.releaseClaim(claim.account, claim.owner);
    }
  }
  return {
    account,
    kind: "unbacked-identity",
    applicationId: apps.find((a) => a.status === "approved")?.id ?? null,
    chainIdentityHash: identity.identityHash,
    detail: { tier: identity.tier, jurisdiction: identity.jurisdiction, expiresAt: identity.expiresAt },
  };
}

/** Takes an overdue claim over and settles it from the chain. False when another instance got there first. */
async function resolveClaim(deps: KycDeps, chain: KycChainPort, stale: ChainClaim): Promise<boolean> {
  const owner = newClaimOwner();
  const now = Date.now();
  if (!(await deps.store.kyc.takeOverClaim(stale.account, stale.owner, owner, now + deps.settings.claimTtlMs, now)))
    return false;
  const claim: HeldClaim = {
    account: stale.account,
    owner,
    applicationId: stale.applicationId,
    transitional: stale.op === "approve" ? "approving" : stale.op === "revoke" ? "revoking" : null,
    fromStatus: stale.fromStatus,
  };
  const identity = await chain.identityOf(stale.account);
  const chainNow = await chain.now();
  if (stale.op === "approve") {
    const a = (await deps.store.kyc.get(stale.applicationId!))!;
    if (verified(identity, chainNow) && sameHash(identity.identityHash, a.identityHash)) {
      const maxLeverage = await chain.tierLeverage(identity.tier);
      await completeClaim(
        deps,
        claim,
        {
          status: "approved",
          actor: "system",
          reason: "approval found on-chain by reconciliation",
          txHash: null,
          at: now,
        },
        { expiresAt: identity.expiresAt },
        (tx) => tx.kyc.setAssessment(a.id, identity.tier, maxLeverage),
      );
    } else {
      await releaseClaim(deps, claim, "system", "the approval did not reach the chain; back to review");
    }
    return true;
  }
  if (stale.op === "lower-tier") {
    // a review's KYC-tier lowering (surveillance) whose outcome was unknown: the chain holds whichever tier it
    // reached, and KycRegistry is the authority read on every borrow; the claim is only let go
    await deps.store.kyc.releaseClaim(claim.account, claim.owner);
    return true;
  }
  if (stale.op === "compensate") {
    try {
      await undoOrphanWrite(deps, chain, stale.account);
    } finally {
      await deps.store.kyc.releaseClaim(claim.account, claim.owner);
    }
    return true;
  }
  // revoke / revoke-identity: the revocation was decided; make sure the chain has it.
  let txHash: string | null = null;
  if (identity.registered && !identity.revoked) {
    try {
      txHash = (await chain.revoke(stale.account, encodeBytes32String(String(stale.detail.caseRef ?? "")))).txHash;
    } catch (err) {
      if (!isAlreadyRevoked(err)) throw err; // the claim stays with this run's owner and expires again
    }
  }
  const reason = `${String(stale.detail.caseRef ?? "")}: ${String(stale.detail.reason ?? "")} (completed by reconciliation)`;
  await completeClaim(deps, claim, { status: "revoked", actor: "system", reason, txHash, at: Date.now() }, { txHash });
  if (stale.op === "revoke-identity") await deps.store.kyc.deleteDiscrepancy(stale.account);
  return true;
}
