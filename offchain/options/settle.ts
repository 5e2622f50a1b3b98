import { AggregatorV3Interface__factory } from "../../typechain-types";
import type { TxSender } from "../chain/sender";
import type { Logger } from "../shared/logger";
import type { OptionsChain } from "./chain";

/** Rounds one `fix` call walks at most (each ≈ 10,000 gas: a feed read). */
export const FIX_ROUNDS_PER_CALL = 200;
/** Accounts per exercise or release call. */
export const SETTLE_BATCH = 50;

export interface SettleDeps {
  chain: OptionsChain;
  sender: TxSender;
  log: Logger;
}

export interface SettleOutcome {
  fixed: string[];
  exercised: number;
  released: number;
}

/**
 * The `option-settlement` job: automatic, permissionless settlement of every listed series after its fixing window.
 * Fixes it (the round standing at expiry found by a search over the underlying feed's rounds, then as many calls as
 * the window's rounds need), then exercises every account holding its contracts and releases every writer's
 * collateral, in batches. Every step is idempotent on the chain (a fixed series, an exercised holder and a released
 * writer are no-ops there), so a crash or a lost answer is resumed by the next run.
 */
export async function settleExpiredSeries(deps: SettleDeps): Promise<SettleOutcome> {
  const { chain, sender, log } = deps;
  const out: SettleOutcome = { fixed: [], exercised: 0, released: 0 };
  const now = (await chain.provider.getBlock("latest"))!.timestamp;
  for (const t of chain.series) {
    const s = await chain.market.series(t.address);
    if (now < Number(s.expiry) + Number(s.fixingWindow)) continue;
    if (!s.fixed_) {
      const standing = await roundStandingAt(chain, s.underlying, Number(s.expiry));
      for (let i = 0; i < 100 && !(await chain.market.series(t.address)).fixed_; i++) {
        await sender.send(chain.market, "fix", [t.address, standing, FIX_ROUNDS_PER_CALL]);
      }
      out.fixed.push(t.symbol);
      log.info("option series fixed", { series: t.symbol });
    }
    const holders = await holdersOf(chain, t.address);
    for (let k = 0; k < holders.length; k += SETTLE_BATCH) {
      await sender.send(chain.market, "exercise", [t.address, holders.slice(k, k + SETTLE_BATCH)]);
      out.exercised += Math.min(SETTLE_BATCH, holders.length - k);
    }
    const writers = await writersOf(chain, t.address);
    for (let k = 0; k < writers.length; k += SETTLE_BATCH) {
      await sender.send(chain.market, "release", [t.address, writers.slice(k, k + SETTLE_BATCH)]);
      out.released += Math.min(SETTLE_BATCH, writers.length - k);
    }
  }
  return out;
}

/**
 * The round of the underlying's primary feed standing at `time`: the last one updated at or before it (rounds are
 * consecutive and their times non-decreasing, as MedianPriceFeed's are), found by binary search.
 */
export async function roundStandingAt(chain: OptionsChain, underlying: string, time: number): Promise<bigint> {
  const primary = (await chain.router.assetParams(underlying)).primary;
  const feed = AggregatorV3Interface__factory.connect(primary, chain.provider);
  const [latest] = await feed.latestRoundData();
  let lo = 1n;
  let hi = latest;
  if ((await feed.getRoundData(lo))[3] > BigInt(time)) throw new Error(`no round of ${primary} before ${time}`);
  while (lo < hi) {
    const mid = (lo + hi + 1n) / 2n;
    if ((await feed.getRoundData(mid))[3] <= BigInt(time)) lo = mid;
    else hi = mid - 1n;
  }
  return lo;
}

/** Accounts that now hold contracts of the series in the engine (from the engine's movements of the series). */
export async function holdersOf(chain: OptionsChain, series: string): Promise<string[]> {
  const from = chain.deployment.deployBlock;
  const e = chain.engine;
  const [trades, transfers, seizures] = await Promise.all([
    e.queryFilter(e.filters.TradeLegsSettled(undefined, undefined, series), from),
    e.queryFilter(e.filters.AccountTransfer(undefined, undefined, series), from),
    e.queryFilter(e.filters.Liquidated(undefined, undefined, series), from),
  ]);
  const market = (await chain.market.getAddress()).toLowerCase();
  const candidates = new Set<string>([
    ...trades.map((l) => l.args.buyer.toLowerCase()),
    ...transfers.map((l) => l.args.to.toLowerCase()),
    ...seizures.map((l) => l.args.liquidator.toLowerCase()),
  ]);
  candidates.delete(market);
  const held = await Promise.all([...candidates].map(async (a) => ((await e.balanceOf(a, series)) > 0n ? a : "")));
  return held.filter((a) => a !== "").sort();
}

/** Writers with contracts still written (collateral not yet released). */
export async function writersOf(chain: OptionsChain, series: string): Promise<string[]> {
  const m = chain.market;
  const logs = await m.queryFilter(m.filters.Written(series), chain.deployment.deployBlock);
  const writers = [...new Set(logs.map((l) => l.args.writer.toLowerCase()))];
  const open = await Promise.all(writers.map(async (w) => ((await m.written(series, w)) > 0n ? w : "")));
  return open.filter((w) => w !== "").sort();
}
