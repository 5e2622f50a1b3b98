import { CapitalPool__factory, TrancheVault__factory } from "../../typechain-types";
import type { TxSender } from "../chain/sender";
import type { Logger } from "../shared/logger";
import type { ProvidersChain } from "./chain";

export interface ServeQueueDeps {
  chain: ProvidersChain;
  /** Any funded key: `serveQueue` is permissionless (it moves nothing to the caller). */
  sender: TxSender;
  /** Requests served per transaction at most. */
  maxSteps: number;
  log: Logger;
}

export interface ServeOutcome {
  /** Requests served (in full or in part); 0 when nothing was due or payable. */
  served: number;
  assets: bigint;
  txHash: string | null;
}

/**
 * The `redemption-queue` job: serves the capital providers' due redemption requests as repayments and
 * liquidations bring cash back (CapitalPool.serveQueue serves in order, within the cash, the gate and the junior
 * bound; nothing moves to the caller). Simulated first, so a run with nothing payable sends nothing; a second
 * instance, or a retry of a run whose answer was lost, finds the requests already served (the pool keeps the
 * queue), so the job needs no journal of its own.
 */
export async function serveDueRedemptions(deps: ServeQueueDeps): Promise<ServeOutcome> {
  const { pool } = deps.chain;
  const steps = await pool.serveQueue.staticCall(deps.maxSteps, { from: deps.sender.address });
  if (steps === 0n) return { served: 0, assets: 0n, txHash: null };
  const sent = await deps.sender.send(pool, "serveQueue", [deps.maxSteps]);
  const iface = CapitalPool__factory.createInterface();
  let served = 0;
  let assets = 0n;
  for (const log of sent.receipt.logs) {
    const parsed = log.address.toLowerCase() === (await pool.getAddress()).toLowerCase() ? iface.parseLog(log) : null;
    if (parsed?.name !== "RedeemServed") continue;
    served += 1;
    assets += parsed.args.assets as bigint;
  }
  deps.log.info("redemption requests served", { served, assets: assets.toString(), txHash: sent.hash });
  return { served, assets, txHash: sent.hash };
}

/** The interfaces a serveQueue revert may come from (for the sender's custom-error decoding). */
export const SERVE_ERROR_INTERFACES = [CapitalPool__factory.createInterface(), TrancheVault__factory.createInterface()];
