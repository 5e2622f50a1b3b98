import { encodeBytes32String, getAddress, isAddress } from "ethers";
import { AppError } from "../shared/errors";
import { newClaimOwner, hadNoEffect, isAlreadyRevoked, requireChain } from "./claims";
import type { KycDeps } from "./ports";

/** Statuses of an application that stand behind an on-chain identity (or are about to). */
const BACKING = new Set(["approved", "approving", "revoking"]);

/**
 * Revokes an on-chain identity that no approved application stands behind (what the reconciliation job reports as
 * `unbacked-identity`, e.g. an identity written by another tool). Refused while the account has an approved (or
 * in-flight) application — that one is revoked through its application — and while another write of the account
 * is claimed. Claim before send, like every KycRegistry write.
 */
export async function revokeIdentity(
  deps: KycDeps,
  accountIn: string,
  d: { actor: string; caseRef: string; reason: string },
): Promise<{ account: string; txHash: string }> {
  const chain = requireChain(deps, "revocations");
  if (!isAddress(accountIn))
    throw new AppError("VALIDATION_FAILED", "params.account: not an address", { details: { field: "account" } });
  const account = getAddress(accountIn).toLowerCase();
  const owner = newClaimOwner();
  const now = Date.now();
  await deps.store.transaction(async (tx) => {
    const backing = (await tx.kyc.list({ account, limit: 1000 })).find((a) => BACKING.has(a.status));
    if (backing)
      throw new AppError("CONFLICT", `the account has an ${backing.status} application; revoke it through that`, {
        details: { applicationId: backing.id, status: backing.status },
      });
    const claimed = await tx.kyc.claimAccount({
      account,
      owner,
      op: "revoke-identity",
      applicationId: null,
      fromStatus: null,
      detail: { caseRef: d.caseRef, reason: d.reason, actor: d.actor },
      until: now + deps.settings.claimTtlMs,
      createdAt: now,
    });
    if (!claimed)
      throw new AppError("CONFLICT", "another KycRegistry write for this account is in progress or unresolved", {
        details: { account },
      });
  });
  const release = () => deps.store.kyc.releaseClaim(account, owner);
  try {
    const identity = await chain.identityOf(account);
    if (!identity.registered) throw new AppError("NOT_FOUND", "no identity on-chain for this account");
    if (identity.revoked) throw new AppError("CONFLICT", "the on-chain identity is already revoked");
  } catch (err) {
    await release();
    throw err;
  }
  let txHash: string;
  try {
    txHash = (await chain.revoke(account, encodeBytes32String(d.caseRef))).txHash;
  } catch (err) {
    // Unknown outcome: the claim stays, and the reconciliation job re-sends the revocation.
    if (hadNoEffect(err) || isAlreadyRevoked(err)) await release();
    throw isAlreadyRevoked(err) ? new AppError("CONFLICT", "the on-chain identity is already revoked") : err;
  }
  await deps.store.transaction(async (tx) => {
    await tx.kyc.releaseClaim(account, owner);
    await tx.kyc.deleteDiscrepancy(account);
  });
  deps.log.info("kyc: on-chain identity without an approved application revoked", { account, txHash });
  return { account, txHash };
}
