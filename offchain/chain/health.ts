import type { Store } from "../store";
import type { ChainGateway } from "./gateway";

/** The chain as readiness sees it: does the node answer, how far is it, how far behind is the indexer. */
export interface ChainHealth {
  ok: boolean;
  /** Latest block number the node gave, or null when it did not answer in time. */
  head: number | null;
  /** Time the probe took (ms), or the time waited before giving up. */
  latencyMs: number;
  /** Seconds since the latest block's timestamp (a dev chain mines only on demand, so this may be large). */
  blockAgeSeconds: number | null;
  /** Last block the main indexer recorded (any instance), and how many blocks it trails the head. */
  indexedBlock: number | null;
  lagBlocks: number | null;
  error?: string;
}

/**
 * A probe of the node for readiness: `eth_getBlockByNumber("latest")` bounded by `timeoutMs`, the main indexer's
 * cursor from the store. One probe at a time; its answer is reused for `cacheMs`, so health checks cost the node
 * at most one request per `cacheMs`.
 */
export function chainHealthProbe(
  gateway: ChainGateway,
  store: Pick<Store, "chain">,
  opts: { timeoutMs: number; cacheMs?: number; indexer?: string },
): () => Promise<ChainHealth> {
  let last: { doneAt?: number; value: Promise<ChainHealth> } | undefined;
  const probe = async (): Promise<ChainHealth> => {
    const started = performance.now();
    const cursor = await store.chain.cursor(opts.indexer ?? "main").catch(() => undefined);
    const indexedBlock = cursor ? cursor.blockNumber : null;
    let timer: NodeJS.Timeout | undefined;
    try {
      const block = await Promise.race([
        gateway.provider.getBlock("latest"),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
        }),
      ]);
      if (!block) throw new Error("the node has no latest block");
      return {
        ok: true,
        head: block.number,
        latencyMs: Math.round(performance.now() - started),
        blockAgeSeconds: Math.max(0, Math.floor(Date.now() / 1000) - block.timestamp),
        indexedBlock,
        lagBlocks: indexedBlock === null ? null : Math.max(0, block.number - indexedBlock),
      };
    } catch (err) {
      return {
        ok: false,
        head: null,
        latencyMs: Math.round(performance.now() - started),
        blockAgeSeconds: null,
        indexedBlock,
        lagBlocks: null,
        error: (err as Error).message,
      };
    } finally {
      clearTimeout(timer);
    }
  };
  return () => {
    // A probe in flight is shared; a finished one is reused for cacheMs.
    if (last && (last.doneAt === undefined || Date.now() - last.doneAt <= (opts.cacheMs ?? 1000))) return last.value;
    const entry: { doneAt?: number; value: Promise<ChainHealth> } = { value: probe() };
    void entry.value.then(() => (entry.doneAt = Date.now()));
    last = entry;
    return entry.value;
  };
}
