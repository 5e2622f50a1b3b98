import { AppError } from "../shared/errors";

export interface RetryOptions {
  retries: number;
  baseMs: number;
  /**
   * No retry starts later than this after the first attempt (ms): a stalled node (each attempt waits for the
   * request deadline) answers CHAIN_UNAVAILABLE after about one deadline instead of retries × deadline.
   */
  deadlineMs?: number;
  /** Called before each retry (for logs and metrics). */
  onRetry?: (attempt: number, err: unknown) => void;
}

const TRANSIENT_CODES = new Set([
  "NETWORK_ERROR",
  "SERVER_ERROR",
  "TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
]);

/** True for failures of the transport or node (worth retrying), false for answers such as a revert. */
export function isTransient(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    const o = e as { code?: unknown; message?: unknown; cause?: unknown; error?: unknown };
    if (typeof o.code === "string" && TRANSIENT_CODES.has(o.code)) return true;
    if (typeof o.message === "string" && /ECONNREFUSED|ECONNRESET|socket hang up|fetch failed|timeout/i.test(o.message))
      return true;
    if (o.code === "UNKNOWN_ERROR" && /-32603|internal error/i.test(String(o.message))) return true;
    e = o.cause ?? o.error;
  }
  return false;
}

/**
 * True when the node answered that it no longer keeps the state of the block asked for (a call pinned to a block
 * behind a pruning node's window: geth keeps 128 blocks' states, anvil `--prune-history` its own count). Not
 * transient: asking again at that block fails the same way, so the caller reads at the head or gives up.
 */
export function isStateUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    const o = e as { message?: unknown; cause?: unknown; error?: unknown; info?: { error?: unknown } };
    if (
      typeof o.message === "string" &&
      /BlockOutOfRange|missing trie node|state (?:is )?not available|no state available|world state unavailable|state (?:has been |was )?pruned|historical state .*not available/i.test(
        o.message,
      )
    )
      return true;
    e = o.info?.error ?? o.cause ?? o.error;
  }
  return false;
}

/**
 * Runs `fn`, retrying transient RPC failures with exponential backoff and jitter (base·2^n ± 25%).
 * After the last attempt the failure becomes CHAIN_UNAVAILABLE; non-transient failures pass through at once.
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err)) throw err;
      const delay = opts.baseMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
      const late = opts.deadlineMs !== undefined && Date.now() - started + delay > opts.deadlineMs;
      if (attempt >= opts.retries || late) {
        throw new AppError("CHAIN_UNAVAILABLE", "the chain's RPC endpoint did not answer", {
          details: { attempts: attempt + 1 },
          cause: err,
        });
      }
      opts.onRetry?.(attempt + 1, err);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
