import type { Provider } from "ethers";
import { CapitalPool__factory, MarginEngine__factory, OracleRouter__factory } from "../../typechain-types";
import { withRetry, type AccountValuation, type RetryOptions } from "../chain";
import { tierMargins } from "../risk";

/**
 * The engine's valuation (MarginValuation.valuate, MarginViews._accountView, MarginMath) redone off-chain, figure
 * for figure with the same rounding, so that a cold start can value every account from its position and a handful
 * of reads of the market (parameters, prices, volatility, the pool's index) instead of one `accountView` each.
 * The differential test (test/offchain/keeper/valuation.test.ts) holds it equal to the engine's view.
 */

const WAD = 10n ** 18n;
const RAY = 10n ** 27n;
const MAX_UINT = 2n ** 256n - 1n;
const MAX_INT = 2n ** 255n - 1n;

/** IOracleRouter.PriceStatus: a position counts at its price when Safe or Closed, at zero otherwise. */
export const PriceStatus = { Safe: 0, Closed: 4 } as const;

export interface MarketAsset {
  tier: number;
  haircut: bigint;
  scale: bigint;
  price: bigint;
  status: number;
  volatility: bigint;
  /** The tier's margins at this volatility (MarginValuation.margins). */
  maintenance: bigint;
  initial: bigint;
}

/** Everything but the account that the engine's view reads, at one block. */
export interface Market {
  blockNumber: number;
  timestamp: number;
  borrowIndex: bigint;
  warningBuffer: bigint;
  hardFloorFactor: bigint;
  /** listed asset (lower case) → its figures */
  assets: Map<string, MarketAsset>;
}

/** An account as the engine stores it (only what a valuation reads; frozen accounts are never valued off-chain). */
export interface Position {
  cash: bigint;
  scaledDebt: bigint;
  /** listed asset (lower case) → units held (positive only) */
  balances: Map<string, bigint>;
}

/** The accountView figures the off-chain valuation reproduces (callDeadline: only for accounts without a live call). */
export interface OffchainView extends AccountValuation {
  cash: bigint;
  debt: bigint;
  collateralValue: bigint;
  initialReq: bigint;
  marginRatio: bigint;
  liquidationReturn: bigint;
  liquidationPrice: bigint;
}

const divUp = (a: bigint, b: bigint): bigint => (a === 0n ? 0n : (a - 1n) / b + 1n);
const mulDown = (v: bigint, rate: bigint): bigint => (v * rate) / WAD;
const mulUp = (v: bigint, rate: bigint): bigint => divUp(v * rate, WAD);

/**
 * Reads the market at `blockTag` (a block number, so that it matches the positions folded up to that block): the
 * listed assets and their configuration, every tier in use, the engine's parameters, one `quotes` call for prices,
 * statuses and volatilities, and the pool's borrow index (interest accrued to that block).
 */
export async function readMarket(
  provider: Provider,
  contracts: { engine: string; router: string },
  blockNumber: number,
  retry: RetryOptions,
): Promise<Market> {
  const rpc = <T>(fn: () => Promise<T>): Promise<T> => withRetry(fn, retry);
  const at = { blockTag: blockNumber };
  const engine = MarginEngine__factory.connect(contracts.engine, provider);
  const router = OracleRouter__factory.connect(contracts.router, provider);
  const [listed, params, parts, block] = await Promise.all([
    rpc(() => engine.listedAssets(at)),
    rpc(() => engine.params(at)),
    rpc(() => engine.contracts(at)),
    rpc(() => provider.getBlock(blockNumber)),
  ]);
  const pool = CapitalPool__factory.connect(parts[1], provider);
  const [configs, quotes, borrowIndex] = await Promise.all([
    Promise.all(listed.map((a) => rpc(() => engine.assetConfig(a, at)))),
    listed.length > 0 ? rpc(() => router.quotes([...listed], at)) : Promise.resolve([]),
    rpc(() => pool.borrowIndex(at)),
  ]);
  const tiers = new Map<number, Awaited<ReturnType<typeof engine.tierRisk>>>();
  for (const c of configs)
    if (!tiers.has(Number(c.liquidityTier)))
      tiers.set(Number(c.liquidityTier), await rpc(() => engine.tierRisk(c.liquidityTier, at)));
  const assets = new Map<string, MarketAsset>();
  listed.forEach((a, i) => {
    const c = configs[i];
    const q = quotes[i];
    const { maintenance, initial } = tierMargins(tiers.get(Number(c.liquidityTier))!, q.volatility);
    assets.set(a.toLowerCase(), {
      tier: Number(c.liquidityTier),
      haircut: c.haircut,
      scale: c.scale,
      price: q.price,
      status: Number(q.status),
      volatility: q.volatility,
      maintenance,
      initial,
    });
  });
  return {
    blockNumber,
    timestamp: block!.timestamp,
    borrowIndex,
    warningBuffer: params.warningBuffer,
    hardFloorFactor: params.hardFloorFactor,
    assets,
  };
}

/**
 * The engine's accountView of an account holding `position`, valued in `market`: same formulas and rounding
 * (values down, requirements up, debt up). The margin-call clock is not in a position: valueOffchain is only for
 * accounts with no live call (callDeadline 0; the caller reads the others through the engine).
 */
export function valueOffchain(account: string, position: Position, market: Market): OffchainView {
  let positionValue = 0n;
  let collateralValue = 0n;
  let maintenanceReq = 0n;
  let initialReq = 0n;
  let allSafe = true;
  let unpriced = false;
  const held: { balance: bigint; a: MarketAsset; priced: boolean }[] = [];
  for (const [asset, balance] of position.balances) {
    const a = market.assets.get(asset);
    if (!a) throw new Error(`asset ${asset} is not listed`);
    if (a.status !== PriceStatus.Safe) allSafe = false;
    if (a.status !== PriceStatus.Safe && a.status !== PriceStatus.Closed) {
      unpriced = true;
      held.push({ balance, a, priced: false });
      continue;
    }
    const value = (balance * a.price) / a.scale;
    held.push({ balance, a, priced: true });
    positionValue += value;
    collateralValue += mulDown(value, WAD - a.haircut);
    maintenanceReq += mulUp(value, a.maintenance);
    initialReq += mulUp(value, a.initial);
  }
  const cash = position.cash;
  const debt = position.scaledDebt > 0n ? divUp(position.scaledDebt * market.borrowIndex, RAY) : 0n;
  const equity = cash + collateralValue - debt;
  const warningLine = maintenanceReq + mulUp(positionValue, market.warningBuffer);
  const hardLine = mulDown(maintenanceReq, market.hardFloorFactor);
  let state = 0;
  if (debt === 0n) state = 0;
  else if (!unpriced && debt > cash + positionValue) state = 4;
  else if (equity < hardLine) state = 3;
  else if (equity < maintenanceReq) state = 2;
  else if (equity < warningLine) state = 1;
  const marginRatio = positionValue === 0n ? MAX_UINT : equity <= 0n ? 0n : (equity * WAD) / positionValue;
  let liquidationReturn: bigint;
  if (debt <= cash) liquidationReturn = -WAD;
  else if (collateralValue <= maintenanceReq) liquidationReturn = MAX_INT;
  else liquidationReturn = divUp((debt - cash) * WAD, collateralValue - maintenanceReq) - WAD;
  let liquidationPrice = 0n;
  if (held.length === 1 && debt > cash && held[0].priced && held[0].a.price !== 0n) {
    const { a, balance } = held[0];
    const margin = a.haircut + a.maintenance;
    liquidationPrice = margin >= WAD ? MAX_UINT : divUp((debt - cash) * a.scale * WAD, balance * (WAD - margin));
  }
  const balances = new Map<string, bigint>();
  if (positionValue > 0n) for (const [asset, units] of position.balances) balances.set(asset, units);
  return {
    account: account.toLowerCase(),
    cash,
    debt,
    positionValue,
    collateralValue,
    equity,
    maintenanceReq,
    initialReq,
    warningLine,
    hardLine,
    state,
    callDeadline: 0,
    pricesSafe: allSafe,
    marginRatio,
    liquidationReturn,
    liquidationPrice,
    balances,
  };
}
