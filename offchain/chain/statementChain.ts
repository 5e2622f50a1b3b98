import { MarginEngine__factory, MedianPriceFeed__factory, OracleRouter__factory } from "../../typechain-types";
import type { ChainGateway } from "./gateway";

export interface PinnedPrice {
  /** 18 decimals per whole token, in the cash currency (the router's unit). */
  price18: bigint;
  feed: string;
  roundId: bigint;
  /** The feed's raw answer (its own decimals). */
  answer: bigint;
  updatedAt: number;
}

/**
 * What the daily statement job reads from the chain, every read pinned to a block number (reproducible by anyone
 * with an archive-capable node): block times, margin balances, prices with their oracle rounds, and which
 * repayment path a transaction took.
 */
export interface StatementChain {
  chainId: number;
  block(n: number): Promise<{ number: number; hash: string; timestamp: number }>;
  /** The highest block at or below `hi` whose timestamp is before `ts` (-1 when even block 0 is not). */
  lastBlockBefore(ts: number, hi: number): Promise<number>;
  balanceOf(account: string, asset: string, block: number): Promise<bigint>;
  /** The account's debt (principal and interest accrued on-chain) at the block. */
  debtOf(account: string, block: number): Promise<bigint>;
  price(asset: string, block: number): Promise<PinnedPrice>;
  /** Whether the transaction called MarginEngine.repayFromWallet (cash from the wallet, not the margin account). */
  repaidFromWallet(txHash: string): Promise<boolean>;
}

export function statementChain(chain: ChainGateway): StatementChain {
  const { provider, deployment } = chain;
  const engine = MarginEngine__factory.connect(deployment.contracts.MarginEngine, provider);
  const router = OracleRouter__factory.connect(deployment.contracts.OracleRouter, provider);
  const times = new Map<number, { number: number; hash: string; timestamp: number }>();
  const block = async (n: number): Promise<{ number: number; hash: string; timestamp: number }> => {
    const hit = times.get(n);
    if (hit) return hit;
    const b = await provider.getBlock(n);
    if (!b || !b.hash) throw new Error(`block ${n} is not available`);
    const out = { number: n, hash: b.hash, timestamp: b.timestamp };
    if (times.size > 50_000) times.clear();
    times.set(n, out);
    return out;
  };
  const repayFromWallet = engine.interface.getFunction("repayFromWallet").selector;
  return {
    chainId: deployment.chainId,
    block,
    async lastBlockBefore(ts, hi) {
      let lo = 0;
      if ((await block(0)).timestamp >= ts) return -1;
      // invariant: block(lo).timestamp < ts; answer in [lo, hi]
      while (lo < hi) {
        const mid = Math.floor((lo + hi + 1) / 2);
        if ((await block(mid)).timestamp < ts) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    },
    balanceOf: (account, asset, at) => engine.balanceOf(account, asset, { blockTag: at }),
    async debtOf(account, at) {
      const [debt] = await engine.debtOf(account, { blockTag: at });
      return debt;
    },
    async price(asset, at) {
      const [price18, , updatedAt] = await router.getPrice(asset, { blockTag: at });
      const feed = (await router.assetParams(asset, { blockTag: at })).primary;
      const [roundId, answer] = await MedianPriceFeed__factory.connect(feed, provider).latestRoundData({
        blockTag: at,
      });
      return { price18, feed, roundId, answer, updatedAt: Number(updatedAt) };
    },
    async repaidFromWallet(txHash) {
      const tx = await provider.getTransaction(txHash);
      return tx !== null && tx.data.startsWith(repayFromWallet);
    },
  };
}
