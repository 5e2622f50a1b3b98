import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployCoreFixture, verify, type CoreFixture } from "./fixtures";
import { ROLE } from "../../scripts/deploy/roles";
import { pct } from "../../scripts/deploy/margin";
import { supplyTranche } from "../../scripts/deploy/providers";
import { useMedianFeeds, useSettableFeeds } from "./oracle";
import {
  CapitalPool__factory,
  InsuranceFund__factory,
  MarginEngine__factory,
  MarginInvariantProbe__factory,
  MarginTradeHarness__factory,
  TrancheVault__factory,
  type CapitalPool,
  type CollateralToken,
  type InsuranceFund,
  type MarginEngine,
  type MarginInvariantProbe,
  type OracleRouter,
  type SettableAggregatorV3,
  type MarginTradeHarness,
  type TrancheVault,
} from "../../typechain-types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

export const CNY = 10n ** 6n;
export const WAD = 10n ** 18n;
/** 18-decimal price per whole share from a CNY amount with up to 6 decimals (price(12.5) = 12.5e18). */
export const price = (cny: number): bigint => BigInt(Math.round(cny * 1e6)) * 10n ** 12n;

export enum State {
  Healthy = 0,
  Warning = 1,
  MarginCall = 2,
  Liquidatable = 3,
  Defaulted = 4,
}

export interface MarginFixture extends CoreFixture {
  engine: MarginEngine;
  pool: CapitalPool;
  /** The pool's share classes. */
  senior: TrancheVault;
  junior: TrancheVault;
  fund: InsuranceFund;
  router: OracleRouter;
  harness: MarginTradeHarness;
  probe: MarginInvariantProbe;
  bank: CollateralToken;
  tech: CollateralToken;
  small: CollateralToken;
  /** The SettableAggregatorV3 (8 decimals) behind the router, per token address (empty with `feeds: "median"`). */
  feeds: Map<string, SettableAggregatorV3>;
  /** Verified clients: tier 2 (2×), tier 3 (3×), tier 5 (5×). */
  clientA: HardhatEthersSigner;
  clientB: HardhatEthersSigner;
  clientC: HardhatEthersSigner;
  /** Market maker holding securities in its margin account; sells to clients through the harness. */
  dealer: HardhatEthersSigner;
  /** Holds 1,000,000 CNY in its margin account to pay for seized collateral. */
  liquidator: HardhatEthersSigner;
  /** Capital provider with 1,000,000 CNY in the pool's senior class. */
  lp: HardhatEthersSigner;
  /** The platform (the operator's address): 250,000 CNY of first-loss capital in the junior class. */
  platform: HardhatEthersSigner;
  /** Sets the price of a security (18-decimal CNY per share, truncated to the feed's 8 decimals) as a new round of
   *  its feed and pokes the router (absorbing the round into volatility and the safe window). */
  setPrice(token: CollateralToken, value: bigint): Promise<void>;
  /** Re-reports every feed's current answer (keeps prices fresh after a time jump). */
  refreshPrices(): Promise<void>;
  /** Moves time forward and re-reports prices, as the oracle reporters would. */
  advance(seconds: number | bigint): Promise<void>;
  /** Mints `amount` of `token` to `user` (custodian) and deposits it into the user's margin account. */
  fundAccount(user: HardhatEthersSigner, token: CollateralToken, amount: bigint): Promise<void>;
  /** `buyer` buys `units` of `token` from the dealer at `px` (18-dec per share) through the harness. */
  buy(buyer: HardhatEthersSigner, token: CollateralToken, units: bigint, px: bigint): Promise<void>;
}

export interface MarginFixtureOptions {
  /** Price feeds behind the router. "settable" (default, the tests): a SettableAggregatorV3 per security, whose
   *  hostile modes tests use. "median": the MedianPriceFeeds deployAll registers, driven by reports signed by the
   *  dev reporters as the off-chain reporter relays them — what production reads (the gas bench uses it). */
  feeds?: "settable" | "median";
}

let mintNonce = 0;

/**
 * The full stack from deployAll (real OracleRouter, CapitalPool, InsuranceFund, MarginEngine) with a
 * SettableAggregatorV3 (test/helpers/oracle.ts) behind the router for each security (or the production
 * MedianPriceFeeds, see MarginFixtureOptions), a trade harness holding SETTLER, and funded actors.
 * Prices: mbBANK 10, mbTECH 25, mbSMALL 50 CNY. Pool: fixed 8% a year; 1,000,000 CNY senior (lp), 250,000 junior
 * (the platform). The risk officer has no delay here.
 */
export async function marginFixture(options: MarginFixtureOptions = {}): Promise<MarginFixture> {
  const fx = await deployCoreFixture();
  const { admin, custodian, riskOfficer, users } = fx.actors;
  const [clientA, clientB, clientC, dealer, liquidator, lp] = users;
  const c = fx.record.contracts;
  const engine = MarginEngine__factory.connect(c.MarginEngine, admin);
  const pool = CapitalPool__factory.connect(c.CapitalPool, admin);
  const senior = TrancheVault__factory.connect(c.SeniorTranche, admin);
  const junior = TrancheVault__factory.connect(c.JuniorTranche, admin);
  const platform = fx.actors.operator;
  const fund = InsuranceFund__factory.connect(c.InsuranceFund, admin);
  const [bank, tech, small] = fx.securities;
  const engineAddress = await engine.getAddress();

  // Breaker off (crash scenarios move prices by more than a day's limit) and a day of staleness (time jumps).
  const initialPrices = { mbBANK: "10", mbTECH: "25", mbSMALL: "50" };
  const routerParams = { maxMove: 0n, maxStaleness: 86_400 };
  const feeds = new Map<string, SettableAggregatorV3>();
  /** Appends a round at `answer` (8 decimals) to the security's feed. */
  let report: (token: CollateralToken, answer: bigint) => Promise<void>;
  /** The security's latest feed answer (8 decimals). */
  let latestAnswer: (token: CollateralToken) => Promise<bigint>;
  let router: OracleRouter;
  if (options.feeds === "median") {
    const oracle = await useMedianFeeds(fx, initialPrices, routerParams);
    router = oracle.router;
    report = async (token, answer) => oracle.report(await token.symbol(), answer);
    latestAnswer = async (token) => (await oracle.feeds[await token.symbol()].latestRoundData())[1];
  } else {
    const oracle = await useSettableFeeds(fx, initialPrices, routerParams);
    router = oracle.router;
    for (const t of fx.securities) feeds.set(await t.getAddress(), oracle.feeds[await t.symbol()]);
    report = async (token, answer) => {
      await feeds.get(await token.getAddress())!.setAnswer(answer);
    };
    latestAnswer = async (token) => (await feeds.get(await token.getAddress())!.latestRoundData())[1];
  }

  const harness = await new MarginTradeHarness__factory(admin).deploy(engineAddress, await fx.cash.getAddress());
  await fx.manager.grantRole(ROLE.SETTLER, await harness.getAddress(), 0);
  const probe = await new MarginInvariantProbe__factory(admin).deploy();

  for (const [u, tier] of [
    [clientA, 2],
    [clientB, 3],
    [clientC, 5],
    [dealer, 1],
    [liquidator, 1],
    [lp, 1],
    [platform, 1],
  ] as const) {
    await verify(fx, u.address, tier);
  }

  const mint = async (to: string, token: CollateralToken, amount: bigint): Promise<void> => {
    await token.connect(custodian).mint(to, amount, hre.ethers.id(`margin-fixture-${mintNonce++}`));
  };
  const fundAccount = async (user: HardhatEthersSigner, token: CollateralToken, amount: bigint): Promise<void> => {
    await mint(user.address, token, amount);
    await token.connect(user).approve(engineAddress, amount);
    await engine.connect(user).deposit(await token.getAddress(), amount);
  };

  await mint(lp.address, fx.cash, 1_000_000n * CNY);
  await supplyTranche(senior, lp, fx.cash, 1_000_000n * CNY);
  await fx.cash.connect(lp).approve(await senior.getAddress(), hre.ethers.MaxUint256);
  await mint(platform.address, fx.cash, 250_000n * CNY);
  await supplyTranche(junior, platform, fx.cash, 250_000n * CNY);
  await fundAccount(dealer, bank, 200_000n);
  await fundAccount(dealer, tech, 50_000n);
  await fundAccount(dealer, small, 20_000n);
  await fundAccount(liquidator, fx.cash, 1_000_000n * CNY);

  const setPrice = async (token: CollateralToken, value: bigint): Promise<void> => {
    await report(token, value / 10n ** 10n);
    await router.poke(await token.getAddress());
  };
  const refreshPrices = async (): Promise<void> => {
    for (const token of fx.securities) {
      await report(token, await latestAnswer(token));
      await router.poke(await token.getAddress());
    }
  };
  const advance = async (seconds: number | bigint): Promise<void> => {
    await time.increase(seconds);
    await refreshPrices();
  };
  const buy = async (buyer: HardhatEthersSigner, token: CollateralToken, units: bigint, px: bigint): Promise<void> => {
    const cost = (units * px) / 10n ** 12n;
    await harness.trade(buyer.address, dealer.address, await token.getAddress(), units, cost);
  };

  void riskOfficer;
  return {
    ...fx,
    engine,
    pool,
    senior,
    junior,
    fund,
    router,
    harness,
    probe,
    bank,
    tech,
    small,
    feeds,
    clientA,
    clientB,
    clientC,
    dealer,
    liquidator,
    lp,
    platform,
    setPrice,
    refreshPrices,
    advance,
    fundAccount,
    buy,
  };
}

/** Sets one tier's margins (risk officer, no delay in the fixture). */
export async function setTier(
  fx: MarginFixture,
  tier: number,
  maintenance: bigint,
  initialBuffer: bigint,
  volatilityMultiplier = 0n,
): Promise<void> {
  await fx.engine.connect(fx.actors.riskOfficer).setTierRisk(tier, {
    liquidityAddOn: maintenance,
    volatilityMultiplier,
    floor: 0n,
    cap: WAD - initialBuffer,
    initialBuffer,
  });
}

/** Zero interest, for examples that must hold exactly. */
export async function zeroRate(fx: MarginFixture): Promise<void> {
  await fx.pool.connect(fx.actors.riskOfficer).setRateModel({ base: 0n, slope1: 0n, slope2: 0n, kink: 0n });
}

export { pct };
