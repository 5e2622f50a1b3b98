import { randomBytes } from "node:crypto";
import { getAddress } from "ethers";
import { AppError } from "../shared/errors";
import type { BreakerResetRecord } from "../store";
import type { OpsDeps } from "./ports";

/** "brk-" and 12 hex digits: short enough to be the guardian's bytes32 reason on-chain. */
function newResetId(): string {
  return `brk-${randomBytes(6).toString("hex")}`;
}

/** What a send that failed did: "none" (TxSender: refused, or could not have been sent) lets the claim go. */
function effectOf(err: unknown): "none" | "unknown" {
  return err instanceof AppError && err.details.effect === "none" ? "none" : "unknown";
}

/**
 * A request still `sending` after the claim's time-to-live lost its sender (a crash, a lost receipt): its outcome
 * is read from the chain — breaker no longer tripped: it (or someone) re-armed it — and recorded `unknown` with what
 * was found, which frees the asset for a new request.
 */
async function settleStale(deps: OpsDeps, asset: string, now: number): Promise<void> {
  const stale = await deps.store.ops.sendingBreakerReset(asset);
  if (!stale || now - stale.updatedAt < deps.settings.breakerClaimTtlMs) return;
  const tripped = await deps.chain!.ops.tripped(asset);
  await deps.store.ops.finishBreakerReset(
    stale.id,
    { status: "unknown", error: `settled from the chain: the breaker was ${tripped ? "still" : "no longer"} tripped` },
    now,
  );
}

/**
 * Use case: re-arm an asset's tripped circuit breaker (risk officer). Claim before send: the request is recorded
 * `sending` first (one per asset at a time), then sent with the configured key on the path its roles allow at once
 * (RiskGuardian.rearmBreaker, else OracleRouter.resetCircuitBreaker), then recorded `sent`; a send that cannot
 * have reached the chain is recorded `failed` and the asset is free again; one whose fate is unknown keeps its
 * claim until settleStale reads the chain.
 */
export async function resetBreaker(
  deps: OpsDeps,
  assetIn: string,
  d: { reason: string; actor: string },
): Promise<BreakerResetRecord> {
  if (!deps.chain) throw new AppError("CHAIN_UNAVAILABLE", "no deployment: a breaker lives on the chain");
  const { ops, deployment } = deps.chain;
  const token = deployment.tokens.find(
    (t) => t.kind === "security" && t.address.toLowerCase() === assetIn.toLowerCase(),
  );
  if (!token) throw new AppError("NOT_FOUND", "no listed security at this address", { details: { asset: assetIn } });
  const asset = getAddress(token.address);
  const path = await ops.resetPath();
  if (path.via === null)
    throw new AppError("CHAIN_UNAVAILABLE", `the breaker cannot be re-armed from this service: ${path.reason}`, {
      details: { reason: path.reason, signer: path.signer },
    });
  const now = Date.now();
  await settleStale(deps, asset, now);
  if (!(await ops.tripped(asset)))
    throw new AppError("CONFLICT", `the ${token.symbol} breaker is not tripped`, { details: { asset } });
  const id = newResetId();
  const claimed = await deps.store.ops.claimBreakerReset({
    id,
    asset,
    reason: d.reason,
    actor: d.actor,
    createdAt: now,
  });
  if (!claimed)
    throw new AppError("CONFLICT", `a re-arm of the ${token.symbol} breaker is in progress`, { details: { asset } });
  try {
    const sent = await ops.resetBreaker(asset, id);
    await deps.store.ops.finishBreakerReset(id, { status: "sent", via: sent.via, txHash: sent.txHash }, Date.now());
    deps.log.info("ops: circuit breaker re-armed", { asset, via: sent.via, txHash: sent.txHash, actor: d.actor });
  } catch (err) {
    // a send that cannot have had an effect frees the asset; an unknown one keeps the claim (settleStale)
    if (effectOf(err) === "none")
      await deps.store.ops.finishBreakerReset(
        id,
        { status: "failed", via: path.via, error: err instanceof Error ? err.message : String(err) },
        Date.now(),
      );
    throw err;
  }
  return (await deps.store.ops.breakerResets({ asset, limit: 1 }))[0];
}
