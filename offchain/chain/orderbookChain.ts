import { MarginEngine__factory, OracleRouter__factory, SettlementHub__factory } from "../../typechain-types";
import type { ChainGateway } from "./gateway";
import { portfolioReads } from "./portfolioReads";

/** OracleRouter.PriceStatus. */
export enum PriceStatus {
  Safe = 0,
  Stale = 1,
  Deviating = 2,
  CircuitBroken = 3,
  Closed = 4,
  Unset = 5,
}

/** One listed asset as the engine values it, read at one block (the inputs of offchain/orderbook/engineMargin.ts). */
export interface EngineAssetRisk {
  /** The asset's address. */
  readonly asset: string;
  /** MarginEngine.assetConfig's id: the engine values an account's positions in the order of their ids. */
  readonly id: number;
  /** OracleRouter price, 18 decimals of cash per whole token. */
  readonly price: bigint;
  readonly status: PriceStatus;
  /** MarginEngine.assetConfig: haircut (WAD) and scale = 10**(assetDecimals + 18 − cashDecimals). */
  readonly haircut: bigint;
  readonly scale: bigint;
  /** MarginEngine.assetMargins: the initial and maintenance margins (WAD) at the router's current volatility. */
  readonly initialMargin: bigint;
  readonly maintenanceMargin: bigint;
  /** An option series (PortfolioRisk.isOptionSeries, what the engine records at listing): held by an account
   *  enrolled in portfolio margin, the satellite's grid margins its group. */
  readonly option: boolean;
  /** MarginEngine.tierRisk of the asset's liquidity tier: the margin rule, applied at `fixedVolatility` to an
   *  account in its fixed term (engineMargin.ts computes that margin as the engine does). */
  readonly tierRule: EngineTierRule;
  /** MarginEngine.borrowingPaused: new risk refused for accounts holding it. */
  readonly borrowPaused: boolean;
}

/** IMarginEngine.TierRisk, all WAD. */
export interface EngineTierRule {
  readonly liquidityAddOn: bigint;
  readonly volatilityMultiplier: bigint;
  readonly floor: bigint;
  readonly cap: bigint;
  readonly initialBuffer: bigint;
  readonly fixedVolatility: bigint;
}

/** What the order gateway reads from the chain: the hub's EIP-712 domain and its live trading keys. */
export interface OrderbookChain {
  chainId: bigint;
  hub: string;
  /** Whether `key` is a trading key of `owner` that has not expired (SettlementHub.tradingKeyExpiry). */
  isTradingKey(owner: string, key: string): Promise<boolean>;
  /** Whether the hub had settled `batchId` by `blockTag` (SettlementHub.batch(batchId).settledAt ≠ 0 at that block). */
  batchSettledBy(batchId: string, blockTag: number): Promise<boolean>;
  /** KYC and margin facts of one account, read at one block. Amounts in token base units, leverage WAD. An account
   *  enrolled in portfolio margin also gets what the grid's mirror needs (`portfolio`); any other costs one call
   *  more (PortfolioRisk.portfolioMargined), none when the deployment has no PortfolioRisk. */
  readAccount(account: string, securities: readonly string[]): Promise<ChainAccountFacts>;
  /** OracleRouter.getPrice: 18-decimal cash per whole token, whether it is Safe, and the engine's haircut (WAD). */
  readPrice(asset: string): Promise<{ price: bigint; safe: boolean; haircut: bigint }>;
  /** What the engine values each asset at, at `blockTag` (price and status, haircut, scale, id, the current
   *  margins from `assetMargins`, the borrow pause, whether it is an option series): the inputs of its
   *  initial-margin rule (engineMargin.ts). */
  readAssets(assets: readonly string[], blockTag: number): Promise<EngineAssetRisk[]>;
  /** Accounts the engine lent to (`Borrowed`) in blocks after `afterBlock`, and the block read up to. */
  borrowersAfter(afterBlock: number): Promise<{ accounts: string[]; toBlock: number }>;
}

/** IPortfolioRisk.Grid (fractions WAD, lookAhead in seconds). */
export interface ChainPortfolioGrid {
  volatilityShift: bigint;
  extremeMultiple: bigint;
  extremeFraction: bigint;
  shortOptionMinimum: bigint;
  lookAhead: bigint;
}

/** An option series' terms (OptionMarket.series) and its feed's implied volatility (WAD; null: the call reverts). */
export interface ChainSeriesTerms {
  underlying: string;
  isCall: boolean;
  strike: bigint;
  expiry: bigint;
  contractSize: bigint;
  rate: bigint;
  fixed: boolean;
  volatility: bigint | null;
}

/** An underlying: token decimals, router price (0 unless Safe or Closed), MarginEngine.assetMargins maintenance. */
export interface ChainUnderlying {
  decimals: number;
  spot: bigint;
  maintenance: bigint;
}

/**
 * What the mirror of PortfolioRisk.margins (offchain/risk/portfolioAccount.ts) needs beside the engine's positions,
 * read at the account's block for an account enrolled in portfolio margin.
 */
export interface ChainPortfolioFacts {
  /** PortfolioRisk.grid. */
  grid: ChainPortfolioGrid;
  cashDecimals: number;
  /** The block's timestamp (unix seconds): the satellite values the options at it. */
  timestamp: bigint;
  /** OptionMarket.series of every option series among the securities asked (lower-case address), with the
   *  implied volatility its OptionPriceFeed answers (null when latestVolatility reverts). */
  series: Map<string, ChainSeriesTerms>;
  /** Each underlying of those series (lower-case address): decimals, router price (0 unless Safe or Closed) and
   *  maintenance ratio (MarginEngine.assetMargins). */
  underlyings: Map<string, ChainUnderlying>;
}

export interface ChainAccountFacts {
  verified: boolean;
  /** Unix seconds; 0 when not registered. */
  kycExpiresAt: number;
  maxLeverage: bigint;
  /** MarginEngine.AccountState: 0 Healthy … 4 Defaulted. */
  state: number;
  cash: bigint;
  debt: bigint;
  /** Internal MarginEngine balance of each security, in the order asked. */
  positions: bigint[];
  /** Whether the engine froze the account's cash, and each security's balance (in the order asked). */
  cashFrozen: boolean;
  frozen: boolean[];
  /** In its fixed margin term at that block (MarginEngine.recordedState's fixedUntilDay after the block's UTC day):
   *  the engine margins it at each tier's fixed volatility. */
  fixedTerm?: boolean;
  /** The block every fact was read at. */
  block?: number;
  /** Present only when the account is enrolled in portfolio margin (PortfolioRisk.portfolioMargined). */
  portfolio?: ChainPortfolioFacts;
}

/** How long an asset's engine configuration (id, haircut) is reused before it is read again. */
const ASSET_CONFIG_TTL_MS = 60_000;
const CASH_FROZEN_BIT = 1n << 15n;

async function blockTime(chain: ChainGateway, blockTag: number): Promise<number> {
  const block = await chain.provider.getBlock(blockTag);
  if (block === null) throw new Error(`block ${blockTag} not found`);
  return block.timestamp;
}

export function orderbookChain(chain: ChainGateway): OrderbookChain {
  const hubAddress = chain.deployment.contracts.SettlementHub;
  if (hubAddress === undefined) throw new Error("the deployment has no SettlementHub");
  const hub = SettlementHub__factory.connect(hubAddress, chain.provider);
  const { MarginEngine: engineAddress, OracleRouter: routerAddress } = chain.deployment.contracts;
  const engine = engineAddress ? MarginEngine__factory.connect(engineAddress, chain.provider) : undefined;
  const router = routerAddress ? OracleRouter__factory.connect(routerAddress, chain.provider) : undefined;
  const portfolio = engine && router ? portfolioReads(chain, engine, router) : undefined;
  const configs = new Map<string, { id: bigint; haircut: bigint; readAt: number }>();
  const assetConfig = async (asset: string): Promise<{ id: bigint; haircut: bigint }> => {
    if (engine === undefined) throw new Error("the deployment has no MarginEngine");
    const cached = configs.get(asset.toLowerCase());
    if (cached !== undefined && Date.now() - cached.readAt < ASSET_CONFIG_TTL_MS) return cached;
    const c = await engine.assetConfig(asset);
    const fresh = { id: c.id, haircut: c.haircut, readAt: Date.now() };
    configs.set(asset.toLowerCase(), fresh);
    return fresh;
  };
  return {
    chainId: BigInt(chain.deployment.chainId),
    hub: hubAddress,
    async isTradingKey(owner, key) {
      const expiry = await hub.tradingKeyExpiry(owner, key);
      return expiry > BigInt(Math.floor(Date.now() / 1000));
    },
    async batchSettledBy(batchId, blockTag) {
      return (await hub.batch(batchId, { blockTag })).settledAt !== 0n;
    },
    async readAccount(account, securities) {
      if (engine === undefined) throw new Error("the deployment has no MarginEngine");
      const blockTag = await chain.provider.getBlockNumber();
      const [verified, identity, maxLeverage, view, positions, ids, recorded, enrolled] = await Promise.all([
        chain.kycRegistry.isVerified(account, { blockTag }),
        chain.kycRegistry.identityOf(account, { blockTag }),
        chain.kycRegistry.maxLeverageOf(account, { blockTag }),
        engine.accountView(account, { blockTag }),
        Promise.all(securities.map((s) => engine.balanceOf(account, s, { blockTag }))),
        Promise.all(securities.map(async (s) => (await assetConfig(s)).id)),
        engine.recordedState(account, { blockTag }),
        portfolio?.enrolled(account, blockTag) ?? false,
      ]);
      const fixedUntilDay = Number(recorded[3]);
      const mask = BigInt(view.frozenMask);
      // the block's time only for an account that ever chose a fixed term or is portfolio-margined (most are
      // neither: no extra read)
      const time = fixedUntilDay > 0 || enrolled ? await blockTime(chain, blockTag) : 0;
      return {
        verified,
        kycExpiresAt: Number(identity.expiresAt),
        maxLeverage,
        state: Number(view.state),
        // frozen cash is not in the view's cash (it counts for nothing): the engine still holds it
        cash: view.cash,
        debt: view.debt,
        positions,
        cashFrozen: (mask & CASH_FROZEN_BIT) !== 0n,
        frozen: ids.map((id) => ((mask >> id) & 1n) === 1n),
        fixedTerm: fixedUntilDay > 0 && fixedUntilDay > Math.floor(time / 86_400),
        block: blockTag,
        ...(enrolled && portfolio !== undefined
          ? { portfolio: await portfolio.facts(securities, blockTag, time) }
          : {}),
      };
    },
    async borrowersAfter(afterBlock) {
      if (engine === undefined) throw new Error("the deployment has no MarginEngine");
      const toBlock = await chain.provider.getBlockNumber();
      const from = Math.max(afterBlock + 1, chain.deployment.deployBlock);
      if (from > toBlock) return { accounts: [], toBlock };
      const logs = await engine.queryFilter(engine.filters.Borrowed(), from, toBlock);
      return { accounts: [...new Set(logs.map((l) => l.args.account.toLowerCase()))], toBlock };
    },
    async readAssets(assets, blockTag) {
      if (engine === undefined || router === undefined) throw new Error("the deployment has no MarginEngine");
      return Promise.all(
        assets.map(async (asset) => {
          const [[price, status], config, [maintenance, initial], paused, option] = await Promise.all([
            router.getPrice(asset, { blockTag }),
            engine.assetConfig(asset, { blockTag }),
            engine.assetMargins(asset, { blockTag }),
            engine.borrowingPaused(asset, { blockTag }),
            portfolio?.optionSeries(asset, blockTag) ?? false,
          ]);
          const rule = await engine.tierRisk(config.liquidityTier, { blockTag });
          return {
            asset,
            id: Number(config.id),
            price,
            status: Number(status),
            haircut: config.haircut,
            scale: config.scale,
            initialMargin: initial,
            maintenanceMargin: maintenance,
            option,
            tierRule: {
              liquidityAddOn: rule.liquidityAddOn,
              volatilityMultiplier: rule.volatilityMultiplier,
              floor: rule.floor,
              cap: rule.cap,
              initialBuffer: rule.initialBuffer,
              fixedVolatility: rule.fixedVolatility,
            },
            borrowPaused: paused,
          };
        }),
      );
    },
    async readPrice(asset) {
      if (router === undefined) throw new Error("the deployment has no OracleRouter");
      const [[price, status], { haircut }] = await Promise.all([router.getPrice(asset), assetConfig(asset)]);
      return { price, safe: Number(status) === 0, haircut };
    },
  };
}
