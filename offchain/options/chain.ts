import type { Provider } from "ethers";
import {
  MarginEngine__factory,
  MedianPriceFeed__factory,
  OptionMarket__factory,
  OracleRouter__factory,
  PortfolioRisk__factory,
  type MarginEngine,
  type MedianPriceFeed,
  type OptionMarket,
  type OracleRouter,
  type PortfolioRisk,
} from "../../typechain-types";
import type { ChainGateway, DeploymentRecord, TokenRecord } from "../chain";
import { volatilityFeedKey } from "../chain/deployment";
import { AppError } from "../shared/errors";

/** The contracts the options capability needs. */
export const OPTION_CONTRACTS = ["OptionMarket", "MarginEngine", "OracleRouter"] as const;

/** Read bindings of the options market: the market, the engine (positions), the router (prices). */
export interface OptionsChain {
  deployment: DeploymentRecord;
  provider: Provider;
  market: OptionMarket;
  engine: MarginEngine;
  router: OracleRouter;
  /** The portfolio-margin satellite, when the deployment has one (accounts opt in on it). */
  portfolioRisk: PortfolioRisk | undefined;
  /** The listed series of the record (tokens of kind "option"). */
  series: TokenRecord[];
  /** The implied-volatility feed of an underlying (by its address), when the deployment has one. */
  volatilityFeed(underlying: string): MedianPriceFeed | undefined;
}

export function optionsChain(gateway: ChainGateway): OptionsChain {
  return optionsChainAt(gateway.provider, gateway.deployment);
}

export function optionsChainAt(provider: Provider, deployment: DeploymentRecord): OptionsChain {
  const need = (name: (typeof OPTION_CONTRACTS)[number]): string => {
    const a = deployment.contracts[name];
    if (!a) throw new AppError("CONFIG_INVALID", `deployment ${deployment.network} has no ${name} address`);
    return a;
  };
  const symbolOf = new Map(deployment.tokens.map((t) => [t.address.toLowerCase(), t.symbol]));
  return {
    deployment,
    provider,
    market: OptionMarket__factory.connect(need("OptionMarket"), provider),
    engine: MarginEngine__factory.connect(need("MarginEngine"), provider),
    router: OracleRouter__factory.connect(need("OracleRouter"), provider),
    portfolioRisk: deployment.contracts.PortfolioRisk
      ? PortfolioRisk__factory.connect(deployment.contracts.PortfolioRisk, provider)
      : undefined,
    series: deployment.tokens.filter((t) => t.kind === "option"),
    volatilityFeed: (underlying) => {
      const symbol = symbolOf.get(underlying.toLowerCase());
      const feed = symbol ? deployment.contracts[volatilityFeedKey(symbol)] : undefined;
      return feed ? MedianPriceFeed__factory.connect(feed, provider) : undefined;
    },
  };
}
