import { encodeBytes32String } from "ethers";
import { AppError } from "../shared/errors";
import type { ApplicantRecord } from "../store";
import type { KycDeps } from "./ports";

/**
 * Revokes an approved identity on-chain (KycRegistry.revoke with the case reference as bytes32) and records it;
 * the account stops being verified in the block of the transaction.
 */
export async function revokeApproval(
  deps: KycDeps,
  id: string,
  d: { actor: string; caseRef: string; reason: string },
): Promise<ApplicantRecord> {
  if (!deps.chain)
    throw new AppError("CHAIN_UNAVAILABLE", "no KYC officer key is configured; revocations cannot reach the chain");
  const a = await deps.store.kyc.get(id);
  if (!a) throw new AppError("NOT_FOUND", "no such application", { details: { applicationId: id } });
  if (a.status !== "approved" && a.status !== "expired")
    throw new AppError("CONFLICT", `application is ${a.status}`, { details: { status: a.status } });
  const { txHash } = await deps.chain.revoke(a.account, encodeBytes32String(d.caseRef));
  await deps.store.kyc.transition(
    id,
    ["approved", "expired"],
    { status: "revoked", actor: d.actor, reason: `${d.caseRef}: ${d.reason}`, txHash, at: Date.now() },
    { txHash },
  );
  deps.log.info("kyc approval revoked", { applicationId: id, txHash });
  return (await deps.store.kyc.get(id))!;
}
