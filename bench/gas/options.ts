import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { PortfolioMarginHarness__factory, PortfolioRisk__factory } from "../../typechain-types";
import { CNY, price } from "../../fixtures/margin";
import { FIXING_WINDOW, optionsFixture, type OptionsFixture } from "../../fixtures/options";
import type { GasContext, GasLine } from "./types";
import { gasOf } from "./types";

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
  await measureMarket({ hre, emit });
  await measurePortfolio({ hre, emit });
}

/**
 * Issue 26, listed options: OptionMarket.write (a put: cash locked, contracts minted into the engine), a trade leg of
 * contracts, an account's poke with a contract held (the engine values the series through its Black-Scholes feed), a
 * liquidation segment that seizes contracts, the fix per round of the window, exercise per holder and release per
 * writer. The settable feeds of the tests behind the router (the series' own feed is the production OptionPriceFeed).
 */
async function measureMarket({ emit }: GasContext): Promise<void> {
  const fx = await optionsFixture();
  const put = await fx.put.getAddress();
  const call = await fx.call.getAddress();
  const line = (method: string, gas: number, extra: Record<string, string | number> = {}): void =>
    emit({ contract: "OptionMarket", method, gas, ...extra });
  line("write", await gasOf(fx.market.connect(fx.dealer).write(put, 20n)), { case: "put, first" });
  line("write", await gasOf(fx.market.connect(fx.dealer).write(put, 5n)), { case: "put, repeat" });
  line("write", await gasOf(fx.market.connect(fx.dealer).write(call, 5n)), { case: "covered call, first" });
  const [model] = await fx.router.getPrice(put);
  await fx.fundAccount(fx.clientA, fx.cash, 10_000n * CNY);
  await fx.fundAccount(fx.clientB, fx.cash, 10_000n * CNY);
  const legs = await gasOf(
    fx.harness.trade(fx.clientA.address, fx.dealer.address, put, 10n, (10n * model) / 10n ** 12n),
  );
  emit({ contract: "MarginTradeHarness", method: "trade", gas: legs, case: "10 put contracts, both legs" });
  await fx.harness.trade(fx.clientB.address, fx.dealer.address, put, 10n, (10n * model) / 10n ** 12n);
  // a levered client holding shares and calls, liquidated: the first segment seizes the calls (tier 3)
  await fx.fundAccount(fx.clientC, fx.bank, 2_000n);
  await fx.engine.connect(fx.clientC).borrow(14_000n * CNY);
  await fx.engine.connect(fx.clientC).withdraw(await fx.cash.getAddress(), 13_400n * CNY);
  const [callModel] = await fx.router.getPrice(call);
  await fx.harness.trade(fx.clientC.address, fx.dealer.address, call, 5n, (5n * callModel) / 10n ** 12n);
  emit({
    contract: "MarginEngine",
    method: "poke",
    gas: await gasOf(fx.engine.poke(fx.clientC.address)),
    case: "shares and a series held (two router quotes, one Black-Scholes)",
  });
  await fx.setPrice(fx.bank, price(7));
  emit(await liquidationOf(fx, "one segment, seizing option contracts"));
  // the fix: 1 round in the window (the standing one) and 10 rounds
  const e = Number(fx.expiry);
  const feed = fx.feeds.get(await fx.bank.getAddress())!;
  await time.increaseTo(e - 5);
  await feed.setAnswerAt(800_000_000n, e - 5);
  const standing = await feed.latestRound();
  for (let k = 1; k <= 10; k++) await feed.setAnswerAt(800_000_000n + BigInt(k) * 1_000_000n, e + k * 100);
  await time.increaseTo(e + FIXING_WINDOW);
  line("fix", await gasOf(fx.market.fix(put, standing, 20)), { case: "11 rounds in the window" });
  line("fix", await gasOf(fx.market.fix(call, standing, 20)), { case: "11 rounds, a call" });
  await fx.refreshOptions();
  line("exercise", await gasOf(fx.market.exercise(put, [fx.clientA.address])), { case: "1 holder, put (cash)" });
  line("exercise", await gasOf(fx.market.exercise(put, [fx.clientB.address, fx.dealer.address])), {
    case: "2 holders, put",
  });
  line("release", await gasOf(fx.market.release(put, [fx.dealer.address])), { case: "1 writer, put" });
}

/**
 * Issue 26, portfolio margin in the engine: two accounts with the same 10,000 mbBANK, 50 puts struck at 9 and 66,000
 * borrowed, one opted into portfolio margin. The enrolment, a poke of each (the enrolled one runs the satellite's
 * grid: 16 scenarios over one leg, plus the ranks), and a liquidation segment of the enrolled one after a fall to 5.20
 * (the shares sold first, the put kept).
 */
async function measurePortfolio({ emit }: GasContext): Promise<void> {
  const fx = await optionsFixture();
  const put = await fx.put.getAddress();
  const risk = PortfolioRisk__factory.connect(fx.record.contracts.PortfolioRisk, fx.clientC);
  await fx.fundAccount(fx.dealer, fx.cash, 100_000n * CNY);
  const [model] = await fx.router.getPrice(put);
  for (const who of [fx.clientB, fx.clientC]) {
    await fx.fundAccount(who, fx.bank, 10_000n);
    await fx.market.connect(fx.dealer).write(put, 50n);
    const cost = (50n * model) / 10n ** 12n;
    await fx.fundAccount(who, fx.cash, cost);
    await fx.harness.trade(who.address, fx.dealer.address, put, 50n, cost);
  }
  emit({
    contract: "PortfolioRisk",
    method: "setPortfolioMargin",
    gas: await gasOf(risk.setPortfolioMargin(true)),
    case: "opt in (the engine pokes the account under the grid)",
  });
  for (const who of [fx.clientB, fx.clientC]) {
    await fx.engine.connect(who).borrow(66_000n * CNY);
    await fx.engine.connect(who).withdraw(await fx.cash.getAddress(), 66_000n * CNY);
  }
  emit({
    contract: "MarginEngine",
    method: "poke",
    gas: await gasOf(fx.engine.poke(fx.clientB.address)),
    case: "rule-based: shares and one series",
  });
  emit({
    contract: "MarginEngine",
    method: "poke",
    gas: await gasOf(fx.engine.poke(fx.clientC.address)),
    case: "portfolio-margined: shares and one series (grid of 16 scenarios, 1 leg)",
  });
  await fx.setPrice(fx.bank, price(5.2));
  await fx.refreshOptions();
  await fx.engine.poke(fx.clientC.address);
  emit(await liquidationOf(fx, "portfolio-margined, one segment (the shares; the put kept)"));
}

/** Client C's one-segment liquidation once the prices after a fall have been Safe for the engine's oracle grace. */
async function liquidationOf(fx: OptionsFixture, label: string): Promise<GasLine> {
  await time.increase(301);
  await fx.refreshPrices();
  await fx.refreshOptions();
  const gas = await gasOf(fx.engine.connect(fx.liquidator).liquidate(fx.clientC.address, 1));
  return { contract: "MarginEngine", method: "liquidate", gas, case: label };
}
