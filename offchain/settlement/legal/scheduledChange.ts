import type { ChainTermsRequest } from "./chainTerms";
import type { AssetSchedule, ChainSchedule, FinancingTerms } from "./terms";

/**
 * A parameter change scheduled through the AccessManager, decoded to what it does to a ChainSchedule (the settlement
 * capability decodes the calldata with the contracts' ABIs; the legal layer knows no ABI). `target` is the contract
 * the call goes to: a change applies to an agreement only when that is the engine or the pool its schedule names.
 */
export type ScheduledChange =
  | { kind: "tier-risk"; target: string; tier: number; risk: AssetSchedule["tier"] }
  | { kind: "params"; target: string; params: ChainSchedule["params"] }
  | {
      kind: "asset";
      target: string;
      address: string;
      liquidityTier: number;
      haircut: bigint;
      liquidationPenalty: bigint;
      windowCap: bigint;
      /** For an asset the schedule does not list yet (from the deployment's token list). */
      symbol: string;
      assetDecimals: number;
    }
  | { kind: "rate-model"; target: string; model: ChainSchedule["rate"]["model"] };

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * The schedule as it reads once `change` has taken effect, or undefined when the change is not to this schedule's
 * engine or pool (or lists an asset of a tier whose margins the schedule does not state). The pool's current rate is
 * left as read at signing: a new rate model changes the rate only as utilisation moves, which the terms state as
 * the model.
 */
export function applyScheduledChange(s: ChainSchedule, change: ScheduledChange): ChainSchedule | undefined {
  switch (change.kind) {
    case "tier-risk":
      if (!same(change.target, s.engine)) return undefined;
      return {
        ...s,
        assets: s.assets.map((a) => (a.liquidityTier === change.tier ? { ...a, tier: { ...change.risk } } : a)),
      };
    case "params":
      return same(change.target, s.engine) ? { ...s, params: { ...change.params } } : undefined;
    case "rate-model":
      return same(change.target, s.pool) ? { ...s, rate: { ...s.rate, model: { ...change.model } } } : undefined;
    case "asset":
      return same(change.target, s.engine) ? withAsset(s, change) : undefined;
  }
}

function withAsset(s: ChainSchedule, c: Extract<ScheduledChange, { kind: "asset" }>): ChainSchedule | undefined {
  const fields = {
    liquidityTier: c.liquidityTier,
    haircut: c.haircut,
    liquidationPenalty: c.liquidationPenalty,
    windowCap: c.windowCap,
  };
  const listed = s.assets.find((a) => same(a.address, c.address));
  // An asset moved to another tier takes that tier's margins, as the engine does.
  const tier = s.assets.find((a) => a.liquidityTier === c.liquidityTier)?.tier ?? listed?.tier;
  if (!tier) return undefined;
  if (listed)
    return {
      ...s,
      assets: s.assets.map((a) => (a === listed ? { ...a, ...fields, tier: { ...tier } } : a)),
    };
  const added: AssetSchedule = {
    symbol: c.symbol,
    address: c.address,
    ...fields,
    assetDecimals: c.assetDecimals,
    tier: { ...tier },
  };
  return { ...s, assets: [...s.assets, added] };
}

/** What the platform decided for the agreement, taken back from its terms (so termsFromChain rebuilds them). */
export function requestFromTerms(t: FinancingTerms): ChainTermsRequest {
  return {
    agreementId: t.agreementId,
    version: t.version,
    ...(t.replaces !== undefined ? { replaces: t.replaces } : {}),
    client: t.client,
    platform: t.platform,
    currency: t.currency,
    ownFunds: t.ownFunds,
    leverageBps: t.leverageBps,
    fees: t.fees,
    profitSplit: t.profitSplit,
    ...(t.performanceFee ? { performanceFee: t.performanceFee } : {}),
    ...(t.margin.mode ? { marginMode: { chosen: t.margin.mode.chosen, fixedUntil: t.margin.mode.fixedUntil } } : {}),
    defaultWaterfall: t.defaultWaterfall,
    effectiveAt: t.effectiveAt,
    expiresAt: t.expiresAt,
    governingLaw: t.governingLaw,
    disputeResolution: t.disputeResolution,
  };
}

export interface TermChange {
  path: string;
  from: string;
  to: string;
}

/**
 * Every leaf of the terms that differs, as {path, from, to} with values as strings ("" for absent). The per-asset
 * schedule is keyed by symbol (`schedule.assets.mbBANK.tier.floor`), so a path names the asset, not its position.
 */
export function termChanges(before: FinancingTerms, after: FinancingTerms): TermChange[] {
  const a = flatten(before);
  const b = flatten(after);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths
    .filter((p) => a.get(p) !== b.get(p))
    .map((path) => ({ path, from: a.get(path) ?? "", to: b.get(path) ?? "" }));
}

function flatten(value: unknown, prefix = "", out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      const key =
        v && typeof v === "object" && "symbol" in v && typeof v.symbol === "string" && prefix === "schedule.assets"
          ? v.symbol
          : String(i);
      flatten(v, `${prefix}.${key}`, out);
    });
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(prefix, value === null ? "null" : String(value));
  }
  return out;
}
