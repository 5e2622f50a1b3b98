import { randomUUID } from "node:crypto";
import { encodeBytes32String } from "ethers";
import { AppError } from "../shared/errors";
import type { ApplicantRecord, ChainClaimOp, KycStatus, Repositories, StatusChange } from "../store";
import type { KycChainPort, KycDeps } from "./ports";

/**
 * Claim before send: every KycRegistry write first takes the account's claim (one writer per account) and, for an
 * application, moves it to its transitional status (`approving`, `revoking`) in the same store transaction; then
 * sends; then records the outcome and gives the claim up in one transaction. A write that cannot have reached the
 * chain returns the application where it was; one whose fate is unknown keeps its claim until the reconciliation
 * job (reconcile.ts) takes it over and reads the chain.
 */
export interface HeldClaim {
  account: string;
  owner: string;
  applicationId: string | null;
  /** The application's status while the claim is held, and where a write without effect returns it. */
  transitional: KycStatus | null;
  fromStatus: KycStatus | null;
}

export function newClaimOwner(): string {
  return `kyc-${randomUUID()}`;
}

export function requireChain(deps: KycDeps, what: string): KycChainPort {
  if (!deps.chain)
    throw new AppError("CHAIN_UNAVAILABLE", `no KYC officer key is configured; ${what} cannot reach the chain`);
  return deps.chain;
}

function busy(account: string): AppError {
  return new AppError("CONFLICT", "another KycRegistry write for this account is in progress or unresolved", {
    details: { account },
  });
}

/**
 * Takes the account's claim and moves the application from one of `from` to `to`, atomically. 409 when the
 * account is claimed or the application is no longer in `from`.
 */
export async function claimApplication(
  deps: KycDeps,
  a: ApplicantRecord,
  op: ChainClaimOp,
  move: { from: KycStatus[]; to: KycStatus; actor: string; reason: string },
  detail: Record<string, string | number>,
): Promise<HeldClaim> {
  const owner = newClaimOwner();
  const now = Date.now();
  let fromStatus: KycStatus = a.status;
  await deps.store.transaction(async (tx) => {
    const current = await tx.kyc.get(a.id);
    if (!current || !move.from.includes(current.status))
      throw new AppError("CONFLICT", `application is ${current?.status ?? "gone"}`, {
        details: { applicationId: a.id, status: current?.status ?? null },
      });
    fromStatus = current.status;
    const claimed = await tx.kyc.claimAccount({
      account: a.account,
      owner,
      op,
      applicationId: a.id,
      fromStatus,
      detail,
      until: now + deps.settings.claimTtlMs,
      createdAt: now,
    });
    if (!claimed) throw busy(a.account);
    const moved = await tx.kyc.transition(a.id, [fromStatus], {
      status: move.to,
      actor: move.actor,
      reason: move.reason,
      txHash: null,
      at: now,
    });
    if (!moved) throw new AppError("CONFLICT", "application changed meanwhile", { details: { applicationId: a.id } });
  });
  return { account: a.account, owner, applicationId: a.id, transitional: move.to, fromStatus };
}

/** Takes the account's claim for a write that belongs to no application (or a compensation); undefined if held. */
export async function claimAccount(
  store: Pick<Repositories, "kyc">,
  account: string,
  op: ChainClaimOp,
  detail: Record<string, string | number>,
  ttlMs: number,
): Promise<HeldClaim | undefined> {
  const owner = newClaimOwner();
  const now = Date.now();
  const ok = await store.kyc.claimAccount({
    account,
    owner,
    op,
    applicationId: null,
    fromStatus: null,
    detail,
    until: now + ttlMs,
    createdAt: now,
  });
  return ok
    ? { account: account.toLowerCase(), owner, applicationId: null, transitional: null, fromStatus: null }
    : undefined;
}

/**
 * Records the write's outcome and gives the claim up, in one transaction. False when the claim was taken over
 * (the holder was too slow): the caller then compensates or leaves the outcome to the reconciler.
 */
export async function completeClaim(
  deps: KycDeps,
  claim: HeldClaim,
  change: StatusChange & { status: KycStatus },
  fields: { expiresAt?: number | null; txHash?: string | null } = {},
  more?: (tx: Repositories) => Promise<void>,
): Promise<boolean> {
  return deps.store.transaction(async (tx) => {
    if (!(await tx.kyc.releaseClaim(claim.account, claim.owner))) return false;
    if (claim.applicationId && claim.transitional) {
      const moved = await tx.kyc.transition(claim.applicationId, [claim.transitional], change, fields);
      if (!moved)
        throw new AppError("INTERNAL", "a claimed application left its transitional status", {
          details: { applicationId: claim.applicationId },
        });
    }
    await more?.(tx);
    return true;
  });
}

/** The write had no effect on-chain: the application returns to where it was and the claim is given up. */
export async function releaseClaim(deps: KycDeps, claim: HeldClaim, actor: string, reason: string): Promise<void> {
  await deps.store.transaction(async (tx) => {
    if (!(await tx.kyc.releaseClaim(claim.account, claim.owner))) return;
    if (claim.applicationId && claim.transitional && claim.fromStatus)
      await tx.kyc.transition(claim.applicationId, [claim.transitional], {
        status: claim.fromStatus,
        actor,
        reason,
        txHash: null,
        at: Date.now(),
      });
  });
}

/** The failure of a write left nothing on-chain (details.effect, set by the chain port). */
export function hadNoEffect(err: unknown): boolean {
  return err instanceof AppError && err.details.effect === "none";
}

/** True for KycRegistry's "already revoked" refusal. */
export function isAlreadyRevoked(err: unknown): boolean {
  return err instanceof AppError && err.code === "CHAIN_REVERTED" && err.details.error === "KycAlreadyRevoked";
}

export const COMPENSATION_CASE = "MB-COMPENSATION";

/**
 * Under the account's claim (the caller holds it): when the account's on-chain identity carries the hash of one
 * of its applications that is not approved — a write that landed after its claim was lost — revoke it and note
 * it in that application's history. Returns the revocation, or undefined when the chain needs no correction.
 */
export async function undoOrphanWrite(
  deps: KycDeps,
  chain: KycChainPort,
  account: string,
): Promise<{ txHash: string; applicationId: string } | undefined> {
  const identity = await chain.identityOf(account);
  if (!identity.registered || identity.revoked || identity.expiresAt <= (await chain.now())) return undefined;
  const hash = identity.identityHash.toLowerCase();
  const apps = await deps.store.kyc.list({ account, limit: 1000 });
  const ours = apps.find((a) => a.identityHash.toLowerCase() === hash);
  if (!ours || ours.status === "approved" || ours.status === "approving" || ours.status === "revoking")
    return undefined;
  let txHash: string | null = null;
  try {
    txHash = (await chain.revoke(account, encodeBytes32String(COMPENSATION_CASE))).txHash;
  } catch (err) {
    if (!isAlreadyRevoked(err)) throw err;
  }
  await deps.store.kyc.addHistory(ours.id, {
    status: "compensated",
    actor: "system",
    reason: `the identity reached KycRegistry after the application became ${ours.status}; revoked on-chain`,
    txHash,
    at: Date.now(),
  });
  deps.log.warn("kyc: an identity written after its claim was lost was revoked", {
    applicationId: ours.id,
    status: ours.status,
    txHash,
  });
  return { txHash: txHash ?? "", applicationId: ours.id };
}
