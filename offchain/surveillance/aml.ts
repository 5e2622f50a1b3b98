import type { StoredEvent, Store } from "../store";
import { raiseAlert } from "./alerts";

/**
 * AML monitoring over the MarginEngine events the indexer keeps (confirmed, reorg-safe): collateral and cash in
 * and out again with no trading in between, in and out within a few blocks, and amounts just under a reporting
 * threshold. Windows are measured in blocks (the chain's clock).
 */
export interface AmlConfig {
  enabled: boolean;
  /** The indexer whose chain_events are read ("main": the service's). */
  indexer: string;
  /** The tier an AML alert proposes, and whether it is set without a person (off by default). */
  tier: string;
  autoAct: boolean;
  /** A withdrawal of at least minShareBps of an earlier deposit of the asset, no trade of the account in between. */
  noTrading: { enabled: boolean; minShareBps: number; lookbackBlocks: number };
  /** A withdrawal of at least minShareBps of a deposit of the asset made at most withinBlocks before it. */
  rapid: { enabled: boolean; minShareBps: number; withinBlocks: number };
  /**
   * Deposits or withdrawals in [threshold × (1 − marginBps), threshold) of an asset's reporting threshold (base
   * units, per asset address, lower case), at least minCount of them by one account within lookbackBlocks.
   */
  structuring: {
    enabled: boolean;
    thresholds: Record<string, string>;
    marginBps: number;
    minCount: number;
    lookbackBlocks: number;
  };
}

export const DEFAULT_AML: AmlConfig = {
  enabled: true,
  indexer: "main",
  tier: "flagged",
  autoAct: false,
  noTrading: { enabled: true, minShareBps: 5_000, lookbackBlocks: 50_000 },
  rapid: { enabled: true, minShareBps: 8_000, withinBlocks: 100 },
  structuring: { enabled: true, thresholds: {}, marginBps: 1_000, minCount: 2, lookbackBlocks: 50_000 },
};

export interface Movement {
  kind: "deposit" | "withdrawal" | "trade";
  account: string;
  asset: string;
  amount: bigint;
  block: number;
  logIndex: number;
  txHash: string;
}

const CURSOR = (indexer: string): string => `aml:${indexer}`;

/** The account-level movements of MarginEngine events (a trade is one for each of its two accounts). */
export function movements(events: readonly StoredEvent[]): Movement[] {
  const out: Movement[] = [];
  for (const e of events) {
    const at = { block: e.blockNumber, logIndex: e.logIndex, txHash: e.txHash };
    const asset = String(e.args.asset ?? "").toLowerCase();
    if (e.event === "CollateralDeposited" || e.event === "CollateralWithdrawn")
      out.push({
        ...at,
        kind: e.event === "CollateralDeposited" ? "deposit" : "withdrawal",
        account: String(e.args.account).toLowerCase(),
        asset,
        amount: BigInt(String(e.args.amount)),
      });
    else if (e.event === "TradeLegsSettled")
      for (const who of [e.args.buyer, e.args.seller])
        out.push({
          ...at,
          kind: "trade",
          account: String(who).toLowerCase(),
          asset,
          amount: BigInt(String(e.args.units)),
        });
  }
  return out;
}

/** An alert AML would raise (before it is stored). */
export interface AmlFinding {
  rule: "aml-no-trading" | "aml-rapid" | "aml-structuring";
  account: string;
  key: string;
  windowStart: number;
  windowEnd: number;
  amount: bigint;
  summary: string;
  evidence: Record<string, unknown>;
}

const ref = (m: Movement): Record<string, string | number> => ({
  kind: m.kind,
  txHash: m.txHash,
  logIndex: m.logIndex,
  block: m.block,
  asset: m.asset,
  amount: m.amount.toString(),
});
const share = (part: bigint, whole: bigint): number => (whole === 0n ? 0 : Number((part * 10_000n) / whole));

function roundTrips(c: AmlConfig, history: Movement[], w: Movement): AmlFinding[] {
  const out: AmlFinding[] = [];
  let traded = false;
  for (let i = history.length - 1; i >= 0; i--) {
    const d = history[i];
    if (d.kind === "trade") traded = true;
    if (d.kind !== "deposit" || d.asset !== w.asset) continue;
    const bps = share(w.amount, d.amount);
    const base = { account: w.account, key: `${w.txHash}:${w.logIndex}`, windowStart: d.block, windowEnd: w.block };
    const evidence = { deposit: ref(d), withdrawal: ref(w), tradedBetween: traded };
    if (
      c.noTrading.enabled &&
      !traded &&
      bps >= c.noTrading.minShareBps &&
      w.block - d.block <= c.noTrading.lookbackBlocks
    )
      out.push({
        ...base,
        rule: "aml-no-trading",
        amount: w.amount,
        summary: `deposited ${d.amount} and withdrew ${w.amount} of ${w.asset} with no trade in between`,
        evidence: {
          ...evidence,
          figures: { shareBps: bps, blocks: w.block - d.block },
          thresholds: { minShareBps: c.noTrading.minShareBps, lookbackBlocks: c.noTrading.lookbackBlocks },
        },
      });
    if (c.rapid.enabled && bps >= c.rapid.minShareBps && w.block - d.block <= c.rapid.withinBlocks)
      out.push({
        ...base,
        rule: "aml-rapid",
        amount: w.amount,
        summary: `withdrew ${w.amount} of ${w.asset} ${w.block - d.block} blocks after depositing ${d.amount}`,
        evidence: {
          ...evidence,
          figures: { shareBps: bps, blocks: w.block - d.block },
          thresholds: { minShareBps: c.rapid.minShareBps, withinBlocks: c.rapid.withinBlocks },
        },
      });
    break;
  }
  return out;
}

function structuring(c: AmlConfig, history: Movement[], m: Movement): AmlFinding[] {
  const s = c.structuring;
  const limit = s.thresholds[m.asset] === undefined ? undefined : BigInt(s.thresholds[m.asset]);
  if (!s.enabled || limit === undefined) return [];
  const under = (x: Movement): boolean =>
    x.kind !== "trade" &&
    x.asset === m.asset &&
    x.amount < limit &&
    x.amount * 10_000n >= limit * BigInt(10_000 - s.marginBps);
  if (!under(m)) return [];
  const hits = [...history.filter((x) => under(x) && m.block - x.block <= s.lookbackBlocks), m];
  if (hits.length < s.minCount) return [];
  const bucket = Math.floor(m.block / s.lookbackBlocks);
  return [
    {
      rule: "aml-structuring",
      account: m.account,
      key: `${m.asset}:${bucket}`,
      windowStart: hits[0].block,
      windowEnd: m.block,
      amount: hits.reduce((t, x) => t + x.amount, 0n),
      summary: `${hits.length} movements of ${m.asset} just under the reporting threshold ${limit}`,
      evidence: {
        movements: hits.map(ref),
        figures: { count: hits.length },
        thresholds: { threshold: limit.toString(), marginBps: s.marginBps, minCount: s.minCount },
      },
    },
  ];
}

/** Every finding among `moves` (in chain order) for the movements after block `after` (the earlier are history). */
export function amlFindings(c: AmlConfig, moves: readonly Movement[], after: number): AmlFinding[] {
  const byAccount = new Map<string, Movement[]>();
  const out: AmlFinding[] = [];
  for (const m of moves) {
    const history = byAccount.get(m.account) ?? [];
    if (m.block > after) {
      if (m.kind === "withdrawal") out.push(...roundTrips(c, history, m));
      if (m.kind !== "trade") out.push(...structuring(c, history, m));
    }
    history.push(m);
    byAccount.set(m.account, history);
  }
  return out;
}

/**
 * One AML run (a leased job): the indexed MarginEngine events up to the indexer's confirmed block, looking back far
 * enough for each rule, findings for the blocks past the cursor raised as alerts (each with its case file), then
 * the cursor moved. A re-run raises nothing twice (each alert's key names the movement behind it).
 */
export async function runAml(
  store: Store,
  tiers: readonly string[],
  c: AmlConfig,
  now = Date.now(),
): Promise<{ blocks: number; findings: number; raised: number }> {
  if (!c.enabled) return { blocks: 0, findings: 0, raised: 0 };
  const head = (await store.chain.cursor(c.indexer))?.blockNumber ?? 0;
  const after = await store.alerts.cursor(CURSOR(c.indexer));
  if (head <= after) return { blocks: 0, findings: 0, raised: 0 };
  const back = Math.max(c.noTrading.lookbackBlocks, c.rapid.withinBlocks, c.structuring.lookbackBlocks);
  const events = await store.chain.events(c.indexer, {
    contract: "MarginEngine",
    fromBlock: Math.max(0, after + 1 - back),
    toBlock: head,
  });
  const found = amlFindings(c, movements(events), after);
  let raised = 0;
  for (const f of found) {
    const alert = {
      dedupeKey: `${f.rule}:${f.account}:${f.key}`,
      kind: "aml" as const,
      rule: f.rule,
      account: f.account,
      instrument: null,
      windowStart: f.windowStart,
      windowEnd: f.windowEnd,
      reasonCode: "AML_REVIEW",
      proposedTier: c.tier,
      summary: f.summary,
      evidence: f.evidence,
      amount: f.amount,
    };
    if ((await raiseAlert(store, tiers, alert, c, now)).created) raised++;
  }
  await store.alerts.setCursor(CURSOR(c.indexer), head, now);
  return { blocks: head - after, findings: found.length, raised };
}
