import { id as keccakId, parseUnits, type JsonRpcSigner } from "ethers";
import {
  TrancheVault__factory,
  CollateralToken__factory,
  KycRegistry__factory,
  MarginEngine__factory,
  OracleRouter__factory,
  SettableAggregatorV3__factory,
  type CollateralToken,
  type MarginEngine,
  type OracleRouter,
  type SettableAggregatorV3,
} from "../../typechain-types";
import { DEV_ORACLE_PARAMS } from "../../scripts/deploy/oracle";
import { supplyBothTranches } from "../../scripts/deploy/providers";
import type { DevChain } from "./devChain";

export const CNY = 10n ** 6n;
const WAD = 10n ** 18n;
/** hardhat account #9, the dev keeper (DEV_KEYS.keeperKey). */
export const DEV_KEEPER_ADDRESS = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720";
export const START_PRICES: Record<string, string> = { mbBANK: "10", mbTECH: "25", mbSMALL: "50" };

export interface KeeperChain {
  engine: MarginEngine;
  router: OracleRouter;
  tokens: Record<string, CollateralToken>;
  feeds: Record<string, SettableAggregatorV3>;
  /** New round of the symbol's settable feed, absorbed by router.poke (RoundProcessed). */
  setPrice(symbol: string, price: string): Promise<void>;
  verify(account: string, tier: number): Promise<void>;
  mint(symbol: string, to: string, amount: bigint): Promise<void>;
  /** Deposits `cny` of mbCNY into `account`'s margin account (account must be an unlocked node account). */
  fundMargin(account: string, cny: bigint): Promise<void>;
  /** A tier-5 client holding `units` of `symbol` who borrowed `debtCny` and withdrew it (equity = collateral − debt). */
  openAccount(user: JsonRpcSigner, symbol: string, units: bigint, debtCny: bigint): Promise<string>;
}

/**
 * Margin-keeper scenarios on a dev chain (TEST/BENCH ONLY): a settable feed per security behind the router (breaker
 * off, a day of staleness), margins without the volatility term (exact lines: tier 1/2/3 maintenance 15/20/25 %),
 * `poolCny` in the pool from the node's account #10, the keeper (account #9) verified with `keeperCny` in its margin
 * account, and the engine's 5-minute oracle grace already elapsed.
 */
export async function prepareKeeperChain(
  dev: DevChain,
  opts: { poolCny?: bigint; keeperCny?: bigint } = {},
): Promise<KeeperChain> {
  const p = dev.chain.provider;
  const c = dev.record.contracts;
  const engine = MarginEngine__factory.connect(c.MarginEngine, dev.signers[0]);
  const router = OracleRouter__factory.connect(c.OracleRouter, dev.signers[3]);
  const tokens: Record<string, CollateralToken> = {};
  for (const t of dev.record.tokens) tokens[t.symbol] = CollateralToken__factory.connect(t.address, dev.signers[0]);
  const feeds: Record<string, SettableAggregatorV3> = {};
  for (const [symbol, px] of Object.entries(START_PRICES)) {
    const feed = await new SettableAggregatorV3__factory(dev.signers[0]).deploy(8, `${symbol} / CNY`);
    await feed.setAnswer(parseUnits(px, 8));
    await router.configureAsset(await tokens[symbol].getAddress(), {
      primary: await feed.getAddress(),
      secondary: "0x0000000000000000000000000000000000000000",
      maxStaleness: 86_400,
      maxDeviation: DEV_ORACLE_PARAMS.maxDeviation,
      maxMove: 0n,
      volatilityHalfLife: DEV_ORACLE_PARAMS.volatilityHalfLife,
    });
    feeds[symbol] = feed;
  }
  const risk = engine.connect(dev.signers[3]);
  for (const [tier, base, buffer] of [
    [1, 15n, 5n],
    [2, 20n, 5n],
    [3, 25n, 10n],
  ] as const)
    await risk.setTierRisk(tier, {
      liquidityAddOn: (base * WAD) / 100n,
      volatilityMultiplier: 0n,
      floor: 0n,
      cap: WAD - (buffer * WAD) / 100n,
      initialBuffer: (buffer * WAD) / 100n,
    });

  let mintRef = 0;
  const setPrice = async (symbol: string, price: string): Promise<void> => {
    await feeds[symbol].setAnswer(parseUnits(price, 8));
    await router.poke(await tokens[symbol].getAddress());
  };
  const verify = async (account: string, tier: number): Promise<void> => {
    const kyc = KycRegistry__factory.connect(c.KycRegistry, dev.signers[1]);
    const now = (await p.getBlock("latest"))!.timestamp;
    await kyc.setIdentity(account, tier, 156, now + 365 * 86400, keccakId(account));
  };
  const mint = async (symbol: string, to: string, amount: bigint): Promise<void> => {
    await tokens[symbol].connect(dev.signers[2]).mint(to, amount, keccakId(`keeper-chain-${to}-${mintRef++}`));
  };
  const fundMargin = async (account: string, cny: bigint): Promise<void> => {
    await mint("mbCNY", account, cny * CNY);
    const s = await p.getSigner(account);
    await tokens.mbCNY.connect(s).approve(c.MarginEngine, cny * CNY);
    await engine.connect(s).deposit(await tokens.mbCNY.getAddress(), cny * CNY);
  };
  const openAccount = async (user: JsonRpcSigner, symbol: string, units: bigint, debtCny: bigint): Promise<string> => {
    const a = await user.getAddress();
    await verify(a, 5);
    await mint(symbol, a, units);
    await tokens[symbol].connect(user).approve(c.MarginEngine, units);
    await engine.connect(user).deposit(await tokens[symbol].getAddress(), units);
    await engine.connect(user).borrow(debtCny * CNY);
    await engine.connect(user).withdraw(await tokens.mbCNY.getAddress(), debtCny * CNY);
    return a.toLowerCase();
  };

  const lp = await p.getSigner(10);
  const poolCny = opts.poolCny ?? 10_000_000n;
  await verify(await lp.getAddress(), 1);
  await mint("mbCNY", await lp.getAddress(), poolCny * CNY);
  await supplyBothTranches((name) => TrancheVault__factory.connect(c[name], lp), lp, tokens.mbCNY, poolCny * CNY);
  await verify(DEV_KEEPER_ADDRESS, 1);
  await fundMargin(DEV_KEEPER_ADDRESS, opts.keeperCny ?? 5_000_000n);
  // Prices must have been Safe for the engine's oracle grace (5 min) before any liquidation.
  await p.send("evm_increaseTime", [301]);
  for (const [s, px] of Object.entries(START_PRICES)) await setPrice(s, px);
  return { engine, router, tokens, feeds, setPrice, verify, mint, fundMargin, openAccount };
}
