import { encodeBytes32String } from "ethers";
import { AppError } from "../shared/errors";
import type { ApplicantRecord } from "../store";
import { claimApplication, completeClaim, hadNoEffect, isAlreadyRevoked, releaseClaim, requireChain } from "./claims";
import type { KycDeps } from "./ports";

/**
 * Revokes an approved identity on-chain (KycRegistry.revoke with the case reference as bytes32) and records it;
 * the account stops being verified in the block of the transaction. The application is `revoking` (with the
 * account's claim) while the transaction is out; a revocation whose outcome is unknown is finished by the
 * reconciliation job, which re-sends it if the chain does not show it.
 */
export async function revokeApproval(
  deps: KycDeps,
  id: string,
  d: { actor: string; caseRef: string; reason: string },
): Promise<ApplicantRecord> {
  const chain = requireChain(deps, "revocations");
  const a = await deps.store.kyc.get(id);
  if (!a) throw new AppError("NOT_FOUND", "no such application", { details: { applicationId: id } });
  if (a.status !== "approved" && a.status !== "expired")
    throw new AppError("CONFLICT", `application is ${a.status}`, { details: { status: a.status } });
  const reason = `${d.caseRef}: ${d.reason}`;
  const claim = await claimApplication(
    deps,
    a,
    "revoke",
    { from: ["approved", "expired"], to: "revoking", actor: d.actor, reason },
    { caseRef: d.caseRef, reason: d.reason, actor: d.actor },
  );
  let txHash: string | null = null;
  try {
    txHash = (await chain.revoke(a.account, encodeBytes32String(d.caseRef))).txHash;
  } catch (err) {
    // Already revoked on-chain (by an earlier attempt or another tool): the goal holds, record it.
    if (!isAlreadyRevoked(err)) {
      if (hadNoEffect(err)) await releaseClaim(deps, claim, "system", `revocation not sent: ${(err as Error).message}`);
      throw err;
    }
  }
  const done = await completeClaim(
    deps,
    claim,
    { status: "revoked", actor: d.actor, reason, txHash, at: Date.now() },
    { txHash },
  );
  // Taken over meanwhile: the reconciler finds the revocation on-chain and records it (nothing to undo).
  if (!done) deps.log.warn("kyc revocation recorded by reconciliation", { applicationId: id, txHash });
  else deps.log.info("kyc approval revoked", { applicationId: id, txHash });
  return (await deps.store.kyc.get(id))!;
}
