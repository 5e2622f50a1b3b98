import type { KycDeps } from "./ports";

/**
 * Marks approvals whose on-chain expiry has passed (chain time) as expired. The chain already stops treating
 * the account as verified at expiresAt — the expiry was written there at approval — so no transaction is sent;
 * this keeps the off-chain status history in step. Safe to run repeatedly and from several instances.
 */
export async function expireApprovals(deps: KycDeps): Promise<string[]> {
  const now = deps.chain ? await deps.chain.now() : Math.floor(Date.now() / 1000);
  const expired: string[] = [];
  for (const a of await deps.store.kyc.dueForExpiry(now)) {
    const moved = await deps.store.kyc.transition(a.id, ["approved"], {
      status: "expired",
      actor: "system",
      reason: `expired at ${a.expiresAt} (chain time ${now})`,
      txHash: null,
      at: Date.now(),
    });
    if (moved) expired.push(a.id);
  }
  if (expired.length) deps.log.info("kyc approvals expired", { count: expired.length });
  return expired;
}
