import hre from "hardhat";
import { PortfolioMarginHarness__factory } from "../../../typechain-types";
import type { OptionLeg, OptionMarket, PortfolioRiskParameters } from "../../../offchain/risk";

export const WAD = 10n ** 18n;
export const DAY = 86_400n;
/** "Now" for the examples: any timestamp works, the library only reads differences. */
export const NOW = 1_800_000_000n;

export async function harnessFixture() {
  const [deployer] = await hre.ethers.getSigners();
  return new PortfolioMarginHarness__factory(deployer).deploy();
}

/** The worked examples' market: spot 10 CNY, σ 30% a year, zero rate. */
export const MARKET: OptionMarket = { spot: 10n * WAD, volatility: (3n * WAD) / 10n, rate: 0n, timestamp: NOW };

/**
 * The worked examples' risk parameters: scan range 15% of spot (a security margined at 15%), volatility ±25%
 * relative, extreme move 2 × 15% = 30% counted at 35% (SPAN), short-option minimum 1% of the underlying's value per
 * written unit, a one-day look-ahead.
 */
export const PARAMS: PortfolioRiskParameters = {
  priceRange: (15n * WAD) / 100n,
  volatilityShift: WAD / 4n,
  extremeMultiple: 2n * WAD,
  extremeFraction: (35n * WAD) / 100n,
  shortOptionMinimum: WAD / 100n,
  lookAhead: DAY,
};

/** A 90-day European leg of `contracts` contracts of 100 shares on the examples' underlying. */
export function leg(isCall: boolean, strike: bigint, contracts: bigint, days = 90n): OptionLeg {
  return { isCall, strike: strike * WAD, expiry: NOW + days * DAY, contracts, contractSize: 100n };
}
