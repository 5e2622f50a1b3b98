import { ethers } from "ethers";
import {
  MedianPriceFeed__factory,
  OracleRouter__factory,
  type ProtocolAccessManager as AccessManager,
} from "../../typechain-types";
import { ROLE } from "./roles";
import type { DeployOptions, TokenRecord } from "./types";
import { feedKey } from "../../offchain/chain/deployment";

/** Risk parameters the router applies to every security on the dev chain (see docs/oracle.md). */
export const DEV_ORACLE_PARAMS = {
  /** A price older than an hour during an open session is Stale. */
  maxStaleness: 3600,
  /** Primary vs secondary: 2% (no secondary on the dev chain). */
  maxDeviation: ethers.parseUnits("0.02", 18),
  /** One update may move the price by at most 20% (A-share STAR board daily limit) before the breaker trips. */
  maxMove: ethers.parseUnits("0.2", 18),
  /** A return's weight in the daily volatility halves every day (time-weighted EWMA; see VolatilityMath). */
  volatilityHalfLife: 86_400n,
} as const;

/** MedianPriceFeed settings on the dev chain: 8 decimals, all three dev reporters must sign (tolerates one liar). */
export const DEV_FEED_PARAMS = {
  decimals: 8,
  quorum: 3,
  /** An observation may be relayed up to 5 minutes after it was made... */
  maxObservationAge: 300,
  /** ...and may be 15 s ahead of the block (reporters' clocks). */
  maxObservationFuture: 15,
} as const;

/** Record key of a security's MedianPriceFeed in deployments/<network>.json. */
export { feedKey };

export interface OracleContracts {
  contracts: Record<string, string>;
}

function selectors(iface: ethers.Interface, names: string[]): string[] {
  return names.map((n) => {
    const fn = iface.getFunction(n);
    if (!fn) throw new Error(`no function ${n} in interface`);
    return fn.selector;
  });
}

/**
 * Deploys the OracleRouter and one MedianPriceFeed per security token, wires their risk-officer functions
 * (`poke` and `transmit` stay public) and registers each feed as the token's primary in the router with the dev
 * parameters and a 24/7 session (docs/oracle.md shows how to set a real exchange calendar). Reporters are the
 * ORACLE_REPORTER holders granted by core. The deployer holds the risk role for a moment, as in core.
 */
export async function deployOracle(
  opts: DeployOptions,
  manager: AccessManager,
  tokens: TokenRecord[],
): Promise<OracleContracts> {
  const log = opts.log ?? (() => {});
  const deployerAddress = await opts.deployer.getAddress();
  const managerAddress = await manager.getAddress();
  const router = await new OracleRouter__factory(opts.deployer).deploy(managerAddress);
  await router.waitForDeployment();
  const routerAddress = await router.getAddress();
  log(`OracleRouter ${routerAddress}`);
  await (
    await manager.setTargetFunctionRole(
      routerAddress,
      selectors(OracleRouter__factory.createInterface(), [
        "configureAsset",
        "setSession",
        "setHoliday",
        "resetCircuitBreaker",
      ]),
      ROLE.RISK_OFFICER,
    )
  ).wait();

  const contracts: Record<string, string> = { OracleRouter: routerAddress };
  const feedIface = MedianPriceFeed__factory.createInterface();
  await (await manager.grantRole(ROLE.RISK_OFFICER, deployerAddress, 0)).wait();
  for (const token of tokens.filter((t) => t.kind === "security")) {
    const feed = await new MedianPriceFeed__factory(opts.deployer).deploy(
      managerAddress,
      DEV_FEED_PARAMS.decimals,
      `${token.symbol} / CNY`,
      DEV_FEED_PARAMS.quorum,
      DEV_FEED_PARAMS.maxObservationAge,
      DEV_FEED_PARAMS.maxObservationFuture,
    );
    await feed.waitForDeployment();
    const feedAddress = await feed.getAddress();
    log(`MedianPriceFeed ${token.symbol} ${feedAddress}`);
    await (
      await manager.setTargetFunctionRole(
        feedAddress,
        selectors(feedIface, ["setQuorum", "setObservationWindow"]),
        ROLE.RISK_OFFICER,
      )
    ).wait();
    await (
      await router.configureAsset(token.address, {
        primary: feedAddress,
        secondary: ethers.ZeroAddress,
        ...DEV_ORACLE_PARAMS,
      })
    ).wait();
    contracts[feedKey(token.symbol)] = feedAddress;
  }
  await (await manager.renounceRole(ROLE.RISK_OFFICER, deployerAddress)).wait();
  return { contracts };
}
