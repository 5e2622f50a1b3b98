import { isError } from "ethers";
import {
  IERC20Metadata__factory,
  IOptionMarket__factory,
  IPortfolioRisk__factory,
  OptionPriceFeed__factory,
  type MarginEngine,
  type OracleRouter,
} from "../../typechain-types";
import type { ChainGateway } from "./gateway";
import type { ChainPortfolioFacts, ChainSeriesTerms, ChainUnderlying } from "./orderbookChain";
import { revertData } from "./revert";

/** How long an answer "not an option series" is reused (a series is listed once; a listed one stays a series). */
const NOT_SERIES_TTL_MS = 60_000;
/** OracleRouter.PriceStatus Safe and Closed: the satellite prices an underlying not held at them. */
const PRICED = new Set([0, 4]);

/** The portfolio-margin reads of pre-trade risk (PortfolioRisk, OptionMarket, the series' feeds). */
export interface PortfolioReads {
  /** PortfolioRisk.portfolioMargined at the block; false without a PortfolioRisk in the deployment (no call). */
  enrolled(account: string, blockTag: number): Promise<boolean>;
  /** PortfolioRisk.isOptionSeries (what the engine records at listing); false without a PortfolioRisk. */
  optionSeries(asset: string, blockTag: number): Promise<boolean>;
  /** What the mirror of PortfolioRisk.margins needs for the option series among `securities`, at the block. */
  facts(securities: readonly string[], blockTag: number, timestamp: number): Promise<ChainPortfolioFacts>;
}

/** A call the chain reverted (the contract's try/catch takes the other path), not a failed connection. */
function reverted(err: unknown): boolean {
  return isError(err, "CALL_EXCEPTION") || revertData(err) !== undefined;
}

export function portfolioReads(chain: ChainGateway, engine: MarginEngine, router: OracleRouter): PortfolioReads {
  const { PortfolioRisk: riskAddress, OptionMarket: marketAddress } = chain.deployment.contracts;
  const risk = riskAddress ? IPortfolioRisk__factory.connect(riskAddress, chain.provider) : undefined;
  const market = marketAddress ? IOptionMarket__factory.connect(marketAddress, chain.provider) : undefined;
  const series = new Map<string, { option: boolean; readAt: number }>();
  const decimals = new Map<string, number>();
  let cashDecimals: number | undefined;

  const tokenDecimals = async (token: string): Promise<number> => {
    const cached = decimals.get(token.toLowerCase());
    if (cached !== undefined) return cached;
    const d = Number(await IERC20Metadata__factory.connect(token, chain.provider).decimals());
    decimals.set(token.toLowerCase(), d);
    return d;
  };
  const optionSeries = async (asset: string, blockTag: number): Promise<boolean> => {
    if (risk === undefined) return false;
    const cached = series.get(asset.toLowerCase());
    if (cached !== undefined && (cached.option || Date.now() - cached.readAt < NOT_SERIES_TTL_MS)) return cached.option;
    const option = await risk.isOptionSeries(asset, { blockTag });
    series.set(asset.toLowerCase(), { option, readAt: Date.now() });
    return option;
  };
  const terms = async (asset: string, blockTag: number): Promise<ChainSeriesTerms & { readonly id: string }> => {
    if (market === undefined) throw new Error("the deployment has no OptionMarket");
    const s = await market.series(asset, { blockTag });
    let volatility: bigint | null = null;
    try {
      [volatility] = await OptionPriceFeed__factory.connect(s.feed, chain.provider).latestVolatility({ blockTag });
    } catch (err) {
      if (!reverted(err)) throw err;
    }
    return {
      id: asset.toLowerCase(),
      underlying: s.underlying,
      isCall: s.isCall,
      strike: s.strike,
      expiry: s.expiry,
      contractSize: s.contractSize,
      rate: s.rate,
      fixed: s.fixed_,
      volatility,
    };
  };
  const underlying = async (asset: string, blockTag: number): Promise<ChainUnderlying> => {
    const [d, [price, status], [maintenance]] = await Promise.all([
      tokenDecimals(asset),
      router.getPrice(asset, { blockTag }),
      engine.assetMargins(asset, { blockTag }),
    ]);
    return { decimals: d, spot: PRICED.has(Number(status)) ? price : 0n, maintenance };
  };

  return {
    async enrolled(account, blockTag) {
      return risk === undefined ? false : risk.portfolioMargined(account, { blockTag });
    },
    optionSeries,
    async facts(securities, blockTag, timestamp) {
      if (risk === undefined) throw new Error("the deployment has no PortfolioRisk");
      if (cashDecimals === undefined) cashDecimals = await tokenDecimals((await engine.contracts()).cash);
      const flags = await Promise.all(securities.map((s) => optionSeries(s, blockTag)));
      const held = securities.filter((_, i) => flags[i]);
      const [grid, all] = await Promise.all([
        risk.grid({ blockTag }),
        Promise.all(held.map((s) => terms(s, blockTag))),
      ]);
      const underlyings = [...new Set(all.map((t) => t.underlying.toLowerCase()))];
      const markets = await Promise.all(underlyings.map((u) => underlying(u, blockTag)));
      return {
        grid: {
          volatilityShift: grid.volatilityShift,
          extremeMultiple: grid.extremeMultiple,
          extremeFraction: grid.extremeFraction,
          shortOptionMinimum: grid.shortOptionMinimum,
          lookAhead: grid.lookAhead,
        },
        cashDecimals,
        timestamp: BigInt(timestamp),
        series: new Map(all.map(({ id, ...t }) => [id, t])),
        underlyings: new Map(underlyings.map((u, i) => [u, markets[i]])),
      };
    },
  };
}
