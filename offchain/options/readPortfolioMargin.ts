import { portfolioRequirement, WAD, type OptionLeg, type PortfolioRiskParameters } from "../risk";
import type { OptionsChain } from "./chain";

/**
 * The scenario grid's parameters beside an underlying's own maintenance margin (the scan range): volatility ±25%,
 * extreme moves of twice the range counted at 35% (CME SPAN's), a short-option minimum of 1% of spot per written
 * share, a one-day look-ahead.
 */
export function gridParameters(priceRange: bigint): PortfolioRiskParameters {
  return {
    priceRange,
    volatilityShift: WAD / 4n,
    extremeMultiple: 2n * WAD,
    extremeFraction: (35n * WAD) / 100n,
    shortOptionMinimum: WAD / 100n,
    lookAhead: 86_400n,
  };
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a === 0n ? 0n : (a - 1n) / b + 1n);

export interface PortfolioGroupView {
  underlying: string;
  symbol: string;
  units: string;
  legs: { series: string; contracts: string }[];
  /** SPAN-like requirement of the group (cash base units, rounded up), as PortfolioRisk computes it: the grid over
   *  the whole shares and the contracts, plus the rule's maintenance of a fraction of a share. */
  portfolioRequirement: string;
  worstScenario: number;
  /** The engine's rule-based maintenance of the same positions (each position's value × its maintenance). */
  ruleBasedMaintenance: string;
}

/**
 * What the scenario grid asks of an account's hedged groups (an underlying with option contracts held on it), beside
 * what the engine's rule-based margin asks of the same positions. For an account that opted into portfolio margin
 * (`portfolioMargined`, PortfolioRisk) the engine applies the grid's figure; otherwise the rule's, and the grid's is
 * the preview a client reads before it opts in. `maintenanceReq` is the engine's requirement of the whole account as
 * it applies it now.
 */
export async function readPortfolioMargin(
  chain: OptionsChain,
  account: string,
): Promise<{ block: number; portfolioMargined: boolean; maintenanceReq: string; groups: PortfolioGroupView[] }> {
  const blockTag = await chain.provider.getBlockNumber();
  const at = { blockTag };
  const now = BigInt((await chain.provider.getBlock(blockTag))!.timestamp);
  const [portfolioMargined, view] = await Promise.all([
    chain.portfolioRisk ? chain.portfolioRisk.portfolioMargined(account, at) : Promise.resolve(false),
    chain.engine.accountView(account, at),
  ]);
  const cash = chain.deployment.tokens.find((t) => t.kind === "cash")!;
  const toCash = 10n ** BigInt(18 - cash.decimals);
  const held = await Promise.all(
    chain.series.map(async (t) => ({
      t,
      s: await chain.market.series(t.address, at),
      contracts: await chain.engine.balanceOf(account, t.address, at),
    })),
  );
  const byUnderlying = new Map<string, typeof held>();
  for (const h of held.filter((x) => x.contracts > 0n && !x.s.fixed_)) {
    const k = h.s.underlying.toLowerCase();
    byUnderlying.set(k, [...(byUnderlying.get(k) ?? []), h]);
  }
  const groups: PortfolioGroupView[] = [];
  for (const [underlying, legs] of byUnderlying) {
    const token = chain.deployment.tokens.find((t) => t.address.toLowerCase() === underlying)!;
    const [units, price, margins] = await Promise.all([
      chain.engine.balanceOf(account, underlying, at),
      chain.router.getPrice(underlying, at),
      chain.engine.assetMargins(underlying, at),
    ]);
    const iv = await chain.volatilityFeed(underlying)?.latestRoundData(at);
    const volatility = iv ? iv.answer * 10n ** 10n : 0n;
    if (price.price === 0n || volatility === 0n) continue;
    const optionLegs: OptionLeg[] = legs.map((l) => ({
      isCall: l.s.isCall,
      strike: l.s.strike,
      expiry: l.s.expiry,
      contracts: l.contracts,
      contractSize: l.s.contractSize,
    }));
    const one = 10n ** BigInt(token.decimals);
    const shares = units / one;
    // the series' model rate: the first leg's, as PortfolioRisk takes it
    const r = portfolioRequirement(
      shares,
      optionLegs,
      { spot: price.price, volatility, rate: legs[0].s.rate, timestamp: now },
      gridParameters(margins[0]),
    );
    // the fraction of a share beyond the whole ones: the rule's maintenance (value and requirement rounded up)
    const remainderValue = ceilDiv((units % one) * price.price, one * toCash);
    const remainder = ceilDiv(remainderValue * margins[0], WAD);
    // the engine's rule: each position's value × its maintenance, rounded up (the underlying's price and margins are
    // the ones read above; each series' are read once)
    const ruleOf = (quantity: bigint, px: bigint, decimals: number, maintenance: bigint): bigint => {
      const value = (quantity * px) / 10n ** BigInt(decimals) / toCash;
      return (value * maintenance + WAD - 1n) / WAD;
    };
    let rule = ruleOf(units, price.price, token.decimals, margins[0]);
    for (const l of legs) {
      const [p, m] = await Promise.all([
        chain.router.getPrice(l.t.address, at),
        chain.engine.assetMargins(l.t.address, at),
      ]);
      rule += ruleOf(l.contracts, p.price, 0, m[0]);
    }
    groups.push({
      underlying,
      symbol: token.symbol,
      units: units.toString(),
      legs: legs.map((l) => ({ series: l.t.symbol, contracts: l.contracts.toString() })),
      portfolioRequirement: (ceilDiv(r.requirement, toCash) + remainder).toString(),
      worstScenario: r.worstScenario,
      ruleBasedMaintenance: rule.toString(),
    });
  }
  return { block: blockTag, portfolioMargined, maintenanceReq: view.maintenanceReq.toString(), groups };
}
