import { RiskError } from "./errors";
import { WAD, mulDivUp } from "./fixed";
import { OPTION_MAX_PRICE, OPTION_MAX_VOLATILITY, optionPrice } from "./optionPrice";

/**
 * SPAN-like portfolio margin for one underlying group, replicated exactly in bigint from
 * contracts/options/PortfolioMargin.sol (same 16-scenario grid, same roundings, same bounds), so that pre-trade risk
 * and the chain agree to the wei. The contract's NatSpec and docs/margin.md describe the grid and the parameters.
 */

export const PORTFOLIO_SCENARIOS = 16;
export const PORTFOLIO_MAX_LEGS = 8;
const MAX_QUANTITY = WAD;
const MAX_SPOT = OPTION_MAX_PRICE / 2n;

/** One option leg: contracts > 0 held, < 0 written; strike in WAD, expiry in unix seconds. */
export interface OptionLeg {
  readonly isCall: boolean;
  readonly strike: bigint;
  readonly expiry: bigint;
  readonly contracts: bigint;
  readonly contractSize: bigint;
}

/** The underlying's market: spot (WAD), annual volatility (WAD), annual rate (WAD), now (unix seconds). */
export interface OptionMarket {
  readonly spot: bigint;
  readonly volatility: bigint;
  readonly rate: bigint;
  readonly timestamp: bigint;
}

/** The group's risk parameters (fractions in WAD, lookAhead in seconds); see PortfolioMargin.RiskParameters. */
export interface PortfolioRiskParameters {
  readonly priceRange: bigint;
  readonly volatilityShift: bigint;
  readonly extremeMultiple: bigint;
  readonly extremeFraction: bigint;
  readonly shortOptionMinimum: bigint;
  readonly lookAhead: bigint;
}

export interface PortfolioRequirement {
  /** max(worst scenario loss, short-option minimum, 0), WAD money. */
  readonly requirement: bigint;
  /** Index (0–15) of the worst scenario, the lowest on a tie. */
  readonly worstScenario: number;
  /** Its loss (extreme rows scaled by extremeFraction); may be negative. */
  readonly worstLoss: bigint;
}

/** PortfolioMargin.requirement. */
export function portfolioRequirement(
  units: bigint,
  legs: readonly OptionLeg[],
  market: OptionMarket,
  params: PortfolioRiskParameters,
): PortfolioRequirement {
  const losses = scenarioLosses(units, legs, market, params);
  let worstScenario = 0;
  for (let i = 1; i < PORTFOLIO_SCENARIOS; i++) if (losses[i] > losses[worstScenario]) worstScenario = i;
  const worstLoss = losses[worstScenario];
  const floor = shortOptionCharge(legs, market.spot, params.shortOptionMinimum);
  const scan = worstLoss > 0n ? worstLoss : 0n;
  return { requirement: scan > floor ? scan : floor, worstScenario, worstLoss };
}

/** PortfolioMargin.scenarioLosses: the 16 losses, extreme rows scaled by extremeFraction (rounded up). */
export function scenarioLosses(
  units: bigint,
  legs: readonly OptionLeg[],
  market: OptionMarket,
  params: PortfolioRiskParameters,
): bigint[] {
  validate(units, legs, market, params);
  const current = value(units, legs, market.spot, market.volatility, market, 0n);
  const losses: bigint[] = [];
  for (let i = 0; i < PORTFOLIO_SCENARIOS; i++) {
    const { spot, volatility } = scenarioMarket(i, market, params);
    const loss = current - value(units, legs, spot, volatility, market, params.lookAhead);
    losses.push(i >= 14 ? mulWadUpSigned(loss, params.extremeFraction) : loss);
  }
  return losses;
}

/** PortfolioMargin.scenarioMarket: spot and volatility of scenario i. */
export function scenarioMarket(
  i: number,
  market: OptionMarket,
  params: PortfolioRiskParameters,
): { spot: bigint; volatility: bigint } {
  let volatility = market.volatility;
  let move: bigint;
  let up: boolean;
  if (i < 14) {
    const pair = Math.floor(i / 2);
    const steps = BigInt(Math.floor((pair + 1) / 2));
    up = pair % 2 === 1;
    move = (params.priceRange * steps) / 3n;
    volatility =
      (market.volatility * (i % 2 === 0 ? WAD + params.volatilityShift : WAD - params.volatilityShift)) / WAD;
  } else {
    up = i === 14;
    move = (params.priceRange * params.extremeMultiple) / WAD;
  }
  return { spot: (market.spot * (up ? WAD + move : WAD - move)) / WAD, volatility };
}

/** PortfolioMargin.shortOptionCharge: Σ written units × spot × minimum, rounded up. */
export function shortOptionCharge(legs: readonly OptionLeg[], spot: bigint, shortOptionMinimum: bigint): bigint {
  let shortUnits = 0n;
  for (const leg of legs) if (leg.contracts < 0n) shortUnits += -leg.contracts * leg.contractSize;
  return mulDivUp(shortUnits * spot, shortOptionMinimum, WAD);
}

/** PortfolioMargin.portfolioValue: the group's value (WAD money), options priced `lookAhead` seconds later. */
export function portfolioValue(
  units: bigint,
  legs: readonly OptionLeg[],
  spot: bigint,
  volatility: bigint,
  market: OptionMarket,
  lookAhead: bigint,
): bigint {
  validate(units, legs, market, {
    priceRange: 0n,
    volatilityShift: 0n,
    extremeMultiple: 0n,
    extremeFraction: 0n,
    shortOptionMinimum: 0n,
    lookAhead,
  });
  return value(units, legs, spot, volatility, market, lookAhead);
}

function value(
  units: bigint,
  legs: readonly OptionLeg[],
  spot: bigint,
  volatility: bigint,
  market: OptionMarket,
  lookAhead: bigint,
): bigint {
  let total = units * spot;
  for (const leg of legs)
    total += leg.contracts * leg.contractSize * legUnitPrice(leg, spot, volatility, market, lookAhead);
  return total;
}

/**
 * PortfolioMargin.legUnitPrice: the leg's option price per underlying unit (WAD) at `spot` and `volatility`, its time
 * to expiry from the market's timestamp shortened by `lookAhead` seconds (floored at 0).
 */
export function legUnitPrice(
  leg: OptionLeg,
  spot: bigint,
  volatility: bigint,
  market: OptionMarket,
  lookAhead: bigint,
): bigint {
  let remaining = leg.expiry > market.timestamp ? leg.expiry - market.timestamp : 0n;
  remaining = remaining > lookAhead ? remaining - lookAhead : 0n;
  return optionPrice({
    isCall: leg.isCall,
    spot,
    strike: leg.strike,
    secondsToExpiry: remaining,
    volatility,
    rate: market.rate,
  });
}

function invalid(message: string, details: Record<string, unknown>): never {
  throw new RiskError("RISK_INVALID_INPUT", message, details);
}

function validate(
  units: bigint,
  legs: readonly OptionLeg[],
  market: OptionMarket,
  params: PortfolioRiskParameters,
): void {
  if (market.spot <= 0n || market.spot > MAX_SPOT) invalid("spot must be in (0, 5e35]", { spot: market.spot });
  if (legs.length > PORTFOLIO_MAX_LEGS) {
    invalid(`at most ${PORTFOLIO_MAX_LEGS} option legs per underlying`, { count: legs.length });
  }
  const checkQuantity = (quantity: bigint): void => {
    if (quantity > MAX_QUANTITY || quantity < -MAX_QUANTITY) invalid("quantity out of range", { quantity });
  };
  checkQuantity(units);
  legs.forEach((leg, j) => {
    if (leg.strike <= 0n || leg.strike > OPTION_MAX_PRICE)
      invalid("strike out of range", { leg: j, strike: leg.strike });
    if (leg.contractSize <= 0n || leg.contractSize > MAX_QUANTITY) {
      invalid("contract size out of range", { leg: j, contractSize: leg.contractSize });
    }
    checkQuantity(leg.contracts);
  });
  if (params.priceRange < 0n || params.priceRange >= WAD) {
    invalid("price range must be below 100%", { priceRange: params.priceRange });
  }
  const extremeMove = (params.priceRange * params.extremeMultiple) / WAD;
  if (params.extremeMultiple < 0n || extremeMove >= WAD) invalid("extreme move must be below 100%", { extremeMove });
  if (
    params.volatilityShift < 0n ||
    params.volatilityShift >= WAD ||
    market.volatility < 0n ||
    (market.volatility * (WAD + params.volatilityShift)) / WAD > OPTION_MAX_VOLATILITY
  ) {
    invalid("volatility or its shift out of range", {
      volatility: market.volatility,
      volatilityShift: params.volatilityShift,
    });
  }
  if (
    params.extremeFraction < 0n ||
    params.extremeFraction > WAD ||
    params.shortOptionMinimum < 0n ||
    params.shortOptionMinimum > WAD
  ) {
    invalid("fractions must be at most 100%", {
      extremeFraction: params.extremeFraction,
      shortOptionMinimum: params.shortOptionMinimum,
    });
  }
}

function mulWadUpSigned(x: bigint, f: bigint): bigint {
  return x >= 0n ? mulDivUp(x, f, WAD) : -((-x * f) / WAD);
}
