import { PortfolioMarginHarness__factory } from "../../typechain-types";
import type { GasContext } from "./types";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const NOW = 1_800_000_000n;

/**
 * Issue 26 foundation: gas of PortfolioMargin.requirement (16 scenarios) for 1, 4 and 8 option legs next to 10,000
 * shares, and of one OptionMath.price. Measured inside the harness between two gasleft() readings: the library's
 * own cost, without a transaction's base and calldata (the engine will call it internally).
 */
export async function measure({ hre, emit }: GasContext): Promise<void> {
  const [deployer] = await hre.ethers.getSigners();
  const math = await new PortfolioMarginHarness__factory(deployer).deploy();
  const market = { spot: 10n * WAD, volatility: (3n * WAD) / 10n, rate: 0n, timestamp: NOW };
  const params = {
    priceRange: (15n * WAD) / 100n,
    volatilityShift: WAD / 4n,
    extremeMultiple: 2n * WAD,
    extremeFraction: (35n * WAD) / 100n,
    shortOptionMinimum: WAD / 100n,
    lookAhead: DAY,
  };
  const strikes = [8n, 9n, 10n, 11n, 12n, 9n, 10n, 11n];
  for (const n of [1, 4, 8]) {
    // Calls and puts, long and short, expiries 30 to 240 days: every leg is priced in all 17 valuations.
    const legs = strikes.slice(0, n).map((k, j) => ({
      isCall: j % 2 === 0,
      strike: k * WAD,
      expiry: NOW + (30n + 30n * BigInt(j)) * DAY,
      contracts: j % 3 === 0 ? -100n : 100n,
      contractSize: 100n,
    }));
    const [gas] = await math.requirementGas(10_000n, legs, market, params);
    emit({ contract: "PortfolioMargin", method: "requirement", gas: Number(gas), legs: n, scenarios: 16 });
  }
  const [priceGas] = await math.priceGas(true, 10n * WAD, 11n * WAD, 90n * DAY, (3n * WAD) / 10n, 0n);
  emit({ contract: "OptionMath", method: "price", gas: Number(priceGas), case: "call, 90 days" });
}
