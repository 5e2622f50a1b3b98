import hre from "hardhat";
import {
  OracleRouter__factory,
  SettableAggregatorV3__factory,
  type OracleRouter,
  type SettableAggregatorV3,
} from "../../typechain-types";
import type { IOracleRouter } from "../../typechain-types/contracts/oracle/IOracleRouter";
import { DEV_ORACLE_PARAMS } from "../../scripts/deploy/oracle";
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
    ewmaLambda: DEV_ORACLE_PARAMS.ewmaLambda,
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
