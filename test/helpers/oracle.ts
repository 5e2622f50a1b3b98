import hre from "hardhat";
import {
  MedianPriceFeed__factory,
  OracleRouter__factory,
  SettableAggregatorV3__factory,
  type MedianPriceFeed,
  type OracleRouter,
  type SettableAggregatorV3,
} from "../../typechain-types";
import type { IOracleRouter } from "../../typechain-types/contracts/oracle/IOracleRouter";
import { DEV_ORACLE_PARAMS, feedKey } from "../../scripts/deploy/oracle";
import { signObservation } from "../../offchain/oracle/observation";
import type { CoreFixture } from "./fixtures";

/** Feeds answer with 8 decimals, like Chainlink equity feeds. */
export const FEED_DECIMALS = 8;

/** "12.34" → 8-decimal feed answer. */
export function feedPrice(decimal: string): bigint {
  return hre.ethers.parseUnits(decimal, FEED_DECIMALS);
}

/** "12.34" → 18-decimal router price. */
export function routerPrice(decimal: string): bigint {
  return hre.ethers.parseUnits(decimal, 18);
}

export interface SettableOracle {
  router: OracleRouter;
  /** Settable primary feed per security symbol (mbBANK, mbTECH, mbSMALL). */
  feeds: Record<string, SettableAggregatorV3>;
}

/** Default dev parameters with `primary` filled in; override any field. */
export function oracleParams(
  primary: string,
  overrides: Partial<IOracleRouter.AssetParamsStruct> = {},
): IOracleRouter.AssetParamsStruct {
  return {
    primary,
    secondary: hre.ethers.ZeroAddress,
    maxStaleness: DEV_ORACLE_PARAMS.maxStaleness,
    maxDeviation: DEV_ORACLE_PARAMS.maxDeviation,
    maxMove: DEV_ORACLE_PARAMS.maxMove,
    volatilityHalfLife: DEV_ORACLE_PARAMS.volatilityHalfLife,
    ...overrides,
  };
}

/**
 * Points the deployed OracleRouter at a SettableAggregatorV3 per security (TEST ONLY), each with a first round
 * at `prices[symbol]` (decimal strings, default 10), configured by the risk officer with the dev parameters
 * (override with `params`, e.g. `{ maxMove: 0n }` to disable the breaker). Call inside a fixture.
 * Sessions stay 24/7. Move a price with `feeds.mbBANK.setAnswer(feedPrice("8.5"))` and, when the test relies on
 * recorded state (breaker, safeSince, volatility), `router.poke(asset)`.
 */
export async function useSettableFeeds(
  fx: CoreFixture,
  prices: Record<string, string> = {},
  params: Partial<IOracleRouter.AssetParamsStruct> = {},
): Promise<SettableOracle> {
  const router = OracleRouter__factory.connect(fx.record.contracts.OracleRouter, fx.actors.riskOfficer);
  const feeds: Record<string, SettableAggregatorV3> = {};
  for (const token of fx.record.tokens.filter((t) => t.kind === "security")) {
    const feed = await new SettableAggregatorV3__factory(fx.actors.admin).deploy(
      FEED_DECIMALS,
      `${token.symbol} / CNY`,
    );
    await feed.setAnswer(feedPrice(prices[token.symbol] ?? "10"));
    await router.configureAsset(token.address, oracleParams(await feed.getAddress(), params));
    feeds[token.symbol] = feed;
  }
  return { router, feeds };
}

export interface MedianOracle {
  router: OracleRouter;
  /** The deployed MedianPriceFeed per security symbol (what scripts/deploy/oracle.ts registers as primary). */
  feeds: Record<string, MedianPriceFeed>;
  /** Relays a new round of `symbol`'s feed at `answer` (8 decimals), signed by every dev reporter (the quorum). */
  report(symbol: string, answer: bigint): Promise<void>;
}

/**
 * Keeps the production feeds deployAll registered (one MedianPriceFeed per security) and drives them as the
 * off-chain reporters do: EIP-712 observations signed by the ORACLE_REPORTER holders, relayed with
 * `transmit`. Each feed gets a first round at `prices[symbol]` (default 10) and the router is reconfigured by
 * the risk officer with the dev parameters and `params` (e.g. `{ maxMove: 0n }`). Call inside a fixture.
 */
export async function useMedianFeeds(
  fx: CoreFixture,
  prices: Record<string, string> = {},
  params: Partial<IOracleRouter.AssetParamsStruct> = {},
): Promise<MedianOracle> {
  const router = OracleRouter__factory.connect(fx.record.contracts.OracleRouter, fx.actors.riskOfficer);
  const chainId = BigInt(fx.record.chainId);
  const feeds: Record<string, MedianPriceFeed> = {};
  const report = async (symbol: string, answer: bigint): Promise<void> => {
    const feed = feeds[symbol];
    const feedAddress = await feed.getAddress();
    const roundId = (await feed.latestRound()) + 1n;
    const observedAt = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
    const observations = await Promise.all(
      fx.actors.reporters.map((r) => signObservation(r, { feed: feedAddress, chainId, roundId, answer, observedAt })),
    );
    await (await feed.transmit(roundId, observations)).wait();
  };
  for (const token of fx.record.tokens.filter((t) => t.kind === "security")) {
    const address = fx.record.contracts[feedKey(token.symbol)];
    feeds[token.symbol] = MedianPriceFeed__factory.connect(address, fx.actors.operator);
    await report(token.symbol, feedPrice(prices[token.symbol] ?? "10"));
    await router.configureAsset(token.address, oracleParams(address, params));
  }
  return { router, feeds, report };
}
