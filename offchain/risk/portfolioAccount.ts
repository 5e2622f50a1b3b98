import { RiskError } from "./errors";
import { WAD, mulDivUp } from "./fixed";
import { OPTION_MAX_PRICE, OPTION_MAX_VOLATILITY } from "./optionPrice";
import {
  PORTFOLIO_MAX_LEGS,
  legUnitPrice,
  portfolioRequirement,
  scenarioMarket,
  type OptionLeg,
  type OptionMarket,
  type PortfolioRiskParameters,
} from "./portfolioMargin";

/**
 * PortfolioRisk.margins (contracts/options/PortfolioRisk.sol) replicated exactly in bigint: the margins the engine
 * applies to the positions of an account enrolled in portfolio margin, so that pre-trade risk sums the engine's
 * requirement to the wei. A group is one underlying: the account's whole shares of it and the unfixed option series
 * held on it. A group the contract cannot value keeps the rule's margins here too: more than 8 legs, a member
 * unpriced or above 1e18 units, the underlying unpriced (held at price 0, or not held and its router price neither
 * Safe nor Closed), the first member's volatility feed unreadable, or a spot, quantity, range, volatility or rate
 * out of the grid's bounds. Margins are one rate per group, r = min(1, ⌈R / value⌉), initial
 * min(1, ⌈(R + Σ initial amounts − Σ maintenance amounts) / value⌉), R = ⌈grid requirement / 1e(18 − cash
 * decimals)⌉ plus the rule's maintenance of the fraction of a share beyond whole shares. Ranks: 2 + ⌊253 · loss ratio⌋
 * (capped at 255), 1 for a hedge; outside a group the maintenance ratio stands for the loss ratio.
 */

const RANK_STEPS = 253n;
const MAX_QUANTITY = WAD;
const MAX_SPOT = OPTION_MAX_PRICE / 2n;
/** OptionMath.MAX_RATE. */
const MAX_RATE = WAD;

/** One priced position as the engine hands it to the satellite (IPortfolioRisk.Holding), in the engine's order. */
export interface PortfolioHolding {
  readonly asset: string;
  /** Base units held. */
  readonly balance: bigint;
  /** The router's price (WAD cash per whole token); 0 when the engine counts the position at zero. */
  readonly price: bigint;
  /** Cash base units, ⌊balance · price / scale⌋. */
  readonly value: bigint;
  /** The rule's ratios the engine applied (WAD): at the router's volatility, or the fixed term's. */
  readonly maintenance: bigint;
  readonly initial: bigint;
  /** An option series (the engine's AssetRecord.option). */
  readonly option: boolean;
}

/** An option series' terms (OptionMarket.series) and the implied volatility its feed answers. */
export interface PortfolioSeriesTerms {
  readonly underlying: string;
  readonly isCall: boolean;
  /** WAD cash per underlying unit. */
  readonly strike: bigint;
  /** Unix seconds. */
  readonly expiry: bigint;
  /** Underlying units per contract. */
  readonly contractSize: bigint;
  /** Continuously compounded annual rate (WAD). */
  readonly rate: bigint;
  readonly fixed: boolean;
  /** OptionPriceFeed.latestVolatility of the series' feed (WAD); null when it reverts. A group takes its first
   *  member's (the engine's order), as the contract does. */
  readonly volatility: bigint | null;
}

/** An underlying of a series held: its token decimals; its router price and maintenance ratio (used when the
 *  account does not hold it). */
export interface PortfolioUnderlying {
  readonly decimals: number;
  /** The router's price when Safe or Closed, else 0 (the group is left to the rule). */
  readonly spot: bigint;
  /** MarginEngine.assetMargins' maintenance (WAD). */
  readonly maintenance: bigint;
}

/** IPortfolioRisk.Grid. */
export interface PortfolioGrid {
  readonly volatilityShift: bigint;
  readonly extremeMultiple: bigint;
  readonly extremeFraction: bigint;
  readonly shortOptionMinimum: bigint;
  readonly lookAhead: bigint;
}

export interface PortfolioAccountInput {
  /** The engine's positions in its order (asset id ascending). */
  readonly holdings: readonly PortfolioHolding[];
  /** Terms of every option series among the holdings, by lower-case address. */
  readonly series: ReadonlyMap<string, PortfolioSeriesTerms>;
  /** Every underlying of those series, by lower-case address. */
  readonly underlyings: ReadonlyMap<string, PortfolioUnderlying>;
  readonly grid: PortfolioGrid;
  readonly cashDecimals: number;
  /** The block's timestamp (unix seconds). */
  readonly timestamp: bigint;
}

/** IPortfolioRisk.Margin: the ratios (WAD) the engine applies to one position and its liquidation rank. */
export interface PortfolioPositionMargin {
  readonly maintenance: bigint;
  readonly initial: bigint;
  readonly rank: number;
}

interface Group {
  readonly underlying: string;
  /** Index of the underlying among the holdings, -1 when not held. */
  readonly underlyingIndex: number;
  readonly members: number[];
}

/** PortfolioRisk.margins for an enrolled account: one margin per holding, in the holdings' order. */
export function portfolioAccountMargins(input: PortfolioAccountInput): PortfolioPositionMargin[] {
  const margins = input.holdings.map((h) => ({
    maintenance: h.maintenance,
    initial: h.initial,
    rank: rank(h.maintenance),
  }));
  for (const group of groups(input)) applyGroup(input, group, margins);
  return margins;
}

/** Σ ⌈value · maintenance⌉ and Σ ⌈value · initial⌉ (cash base units), the engine's sums over the margins given. */
export function portfolioRequirements(
  holdings: readonly PortfolioHolding[],
  margins: readonly PortfolioPositionMargin[],
): { maintenance: bigint; initial: bigint } {
  let maintenance = 0n;
  let initial = 0n;
  holdings.forEach((h, i) => {
    maintenance += mulDivUp(h.value, margins[i].maintenance, WAD);
    initial += mulDivUp(h.value, margins[i].initial, WAD);
  });
  return { maintenance, initial };
}

function key(address: string): string {
  return address.toLowerCase();
}

function seriesOf(input: PortfolioAccountInput, asset: string): PortfolioSeriesTerms {
  const s = input.series.get(key(asset));
  if (s === undefined) throw new RiskError("RISK_UNKNOWN_ASSET", "no series terms for an option held", { asset });
  return s;
}

/** PortfolioRisk._groups: one per underlying of the unfixed series held, in the order first met. */
function groups(input: PortfolioAccountInput): Group[] {
  const out: Group[] = [];
  input.holdings.forEach((h, i) => {
    if (!h.option || h.balance === 0n) return;
    const s = seriesOf(input, h.asset);
    if (s.fixed) return;
    const underlying = key(s.underlying);
    let group = out.find((g) => g.underlying === underlying);
    if (group === undefined) {
      // the contract keeps the last holding of the underlying (an asset is held once)
      let underlyingIndex = -1;
      input.holdings.forEach((u, j) => {
        if (key(u.asset) === underlying) underlyingIndex = j;
      });
      group = { underlying, underlyingIndex, members: [] };
      out.push(group);
    }
    group.members.push(i);
  });
  return out;
}

/** The group's market, scan range, whole shares and the rule's maintenance of the fraction beyond (_groupMarket). */
function groupMarket(
  input: PortfolioAccountInput,
  group: Group,
): { market: OptionMarket; priceRange: bigint; units: bigint; remainderReq: bigint } | null {
  const wadPerCashUnit = 10n ** BigInt(18 - input.cashDecimals);
  let spot: bigint;
  let priceRange: bigint;
  let units = 0n;
  let remainderReq = 0n;
  const underlying = input.underlyings.get(group.underlying);
  if (group.underlyingIndex >= 0) {
    const u = input.holdings[group.underlyingIndex];
    if (underlying === undefined) {
      throw new RiskError("RISK_UNKNOWN_ASSET", "no decimals for an underlying held", { asset: u.asset });
    }
    spot = u.price;
    priceRange = u.maintenance;
    const one = 10n ** BigInt(underlying.decimals);
    units = u.balance / one;
    const remainderValue = mulDivUp(u.balance % one, u.price, one * wadPerCashUnit);
    remainderReq = mulDivUp(remainderValue, u.maintenance, WAD);
  } else {
    if (underlying === undefined) {
      throw new RiskError("RISK_UNKNOWN_ASSET", "no market for an underlying", { asset: group.underlying });
    }
    if (underlying.spot === 0n) return null;
    spot = underlying.spot;
    priceRange = underlying.maintenance;
  }
  const first = seriesOf(input, input.holdings[group.members[0]].asset);
  if (first.volatility === null) return null;
  const g = input.grid;
  const ok =
    spot !== 0n &&
    spot <= MAX_SPOT &&
    units <= MAX_QUANTITY &&
    priceRange < WAD &&
    (priceRange * g.extremeMultiple) / WAD < WAD &&
    (first.volatility * (WAD + g.volatilityShift)) / WAD <= OPTION_MAX_VOLATILITY &&
    first.rate <= MAX_RATE;
  if (!ok) return null;
  return {
    market: { spot, volatility: first.volatility, rate: first.rate, timestamp: input.timestamp },
    priceRange,
    units,
    remainderReq,
  };
}

/** PortfolioRisk._applyGroup and _rankGroup: the group's margins and each member's rank, or the rule's kept. */
function applyGroup(input: PortfolioAccountInput, group: Group, m: PortfolioPositionMargin[]): void {
  if (group.members.length > PORTFOLIO_MAX_LEGS) return;
  for (const i of group.members) {
    const h = input.holdings[i];
    if (h.price === 0n || h.balance > MAX_QUANTITY) return;
  }
  const gm = groupMarket(input, group);
  if (gm === null) return;
  const params: PortfolioRiskParameters = { priceRange: gm.priceRange, ...input.grid };
  const rule = { value: 0n, maintenance: 0n, initial: 0n };
  const addRule = (h: PortfolioHolding): void => {
    rule.value += h.value;
    rule.maintenance += mulDivUp(h.value, h.maintenance, WAD);
    rule.initial += mulDivUp(h.value, h.initial, WAD);
  };
  const legs: OptionLeg[] = group.members.map((i) => {
    const h = input.holdings[i];
    const s = seriesOf(input, h.asset);
    addRule(h);
    return { isCall: s.isCall, strike: s.strike, expiry: s.expiry, contracts: h.balance, contractSize: s.contractSize };
  });
  if (group.underlyingIndex >= 0) addRule(input.holdings[group.underlyingIndex]);
  if (rule.value === 0n) return;
  const { requirement, worstScenario } = portfolioRequirement(gm.units, legs, gm.market, params);
  const req = gm.remainderReq + ceilDiv(requirement, 10n ** BigInt(18 - input.cashDecimals));
  const maintenance = minBig(WAD, mulDivUp(req, WAD, rule.value));
  const initial = minBig(WAD, mulDivUp(req + rule.initial - rule.maintenance, WAD, rule.value));
  const worst = scenarioMarket(worstScenario, gm.market, params);
  group.members.forEach((i, k) => {
    const now = legPrice(legs[k], gm.market.spot, gm.market.volatility, gm.market, 0n);
    const then = legPrice(legs[k], worst.spot, worst.volatility, gm.market, params.lookAhead);
    m[i] = { maintenance, initial, rank: lossRank(now, then) };
  });
  if (group.underlyingIndex >= 0) {
    m[group.underlyingIndex] = { maintenance, initial, rank: lossRank(gm.market.spot, worst.spot) };
  }
}

/** PortfolioRisk._legPrice: one contract's model value (WAD money), `lookAhead` seconds later. */
function legPrice(leg: OptionLeg, spot: bigint, volatility: bigint, market: OptionMarket, lookAhead: bigint): bigint {
  return legUnitPrice(leg, spot, volatility, market, lookAhead) * leg.contractSize;
}

function lossRank(valueNow: bigint, valueThen: bigint): number {
  if (valueThen >= valueNow) return 1;
  return rank(((valueNow - valueThen) * WAD) / valueNow);
}

function rank(ratio: bigint): number {
  return Number(2n + (minBig(ratio, WAD) * RANK_STEPS) / WAD);
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return a === 0n ? 0n : (a - 1n) / b + 1n;
}
