import { ethers, type Signer } from "ethers";
import {
  MarginEngine__factory,
  MedianPriceFeed__factory,
  OptionMarket__factory,
  OracleRouter__factory,
  PortfolioRisk__factory,
  SettlementHub__factory,
  type IPortfolioRisk,
  type IOptionMarket,
  type ProtocolAccessManager as AccessManager,
} from "../../typechain-types";
import { volatilityFeedKey } from "../../offchain/chain/deployment";
import { DEV_FEED_PARAMS, DEV_ORACLE_PARAMS } from "./oracle";
import { registerSystemIdentity } from "./agreementSettlement";
import { ROLE } from "./roles";
import type { DeployOptions, TokenRecord } from "./types";

/**
 * How a listed series is margined as a position (dev defaults; the risk officer sets them per series): the least
 * liquid tier (sold first in a liquidation), a 20% haircut, a 5% penalty and no seizure cap. The router takes the
 * series' model feed with the breaker off (a contract's price may move several times the underlying's move in one
 * round: a put struck 10% out of the money gains ≈ 10× on a 30% gap) and the underlying's staleness.
 */
export const OPTION_SERIES_MARGIN = {
  tier: 3,
  haircut: ethers.parseUnits("0.2", 18),
  penalty: ethers.parseUnits("0.05", 18),
  windowCap: 2n ** 127n,
} as const;

/** Implied-volatility feeds: a MedianPriceFeed per security (8 decimals, 0.3e8 = 30% a year), reported like prices. */
export const VOLATILITY_FEED_DECIMALS = 8;

/**
 * The portfolio-margin grid (dev defaults, the risk officer's `PortfolioRisk.setGrid`): volatility scanned ±25%,
 * extreme moves of twice the scan range counted at 35% (CME SPAN's), a short-option minimum of 1% of spot per
 * written share, a one-day look-ahead. The scan range of each underlying is its own maintenance ratio in the engine.
 */
export const DEV_PORTFOLIO_GRID: IPortfolioRisk.GridStruct = {
  volatilityShift: ethers.parseUnits("0.25", 18),
  extremeMultiple: ethers.parseUnits("2", 18),
  extremeFraction: ethers.parseUnits("0.35", 18),
  shortOptionMinimum: ethers.parseUnits("0.01", 18),
  lookAhead: 86_400,
};

/**
 * Deploys the OptionMarket and an implied-volatility MedianPriceFeed per security (reported by the ORACLE_REPORTER
 * holders like the price feeds), and wires them: `listSeries` to RISK_OFFICER, the market SETTLER on the engine (its
 * transferBetweenAccounts and settleTrade, mapped by deployMargin and deploySettlement) and a KYC-verified system
 * identity (it holds every series' locked collateral in its own margin account); and the PortfolioRisk satellite, set
 * on the engine (`setGrid` to RISK_OFFICER).
 */
export async function deployOptions(
  opts: DeployOptions,
  manager: AccessManager,
  contracts: Record<string, string>,
  tokens: TokenRecord[],
): Promise<Record<string, string>> {
  const log = opts.log ?? (() => {});
  const wait = async (tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> => {
    await (await tx).wait();
  };
  const managerAddress = await manager.getAddress();
  const cash = tokens.find((t) => t.kind === "cash");
  if (!cash) throw new Error("deployOptions: the deployment has no cash token");
  const market = await new OptionMarket__factory(opts.deployer).deploy(
    contracts.MarginEngine,
    contracts.OracleRouter,
    cash.address,
    managerAddress,
  );
  await market.waitForDeployment();
  const address = await market.getAddress();
  log(`OptionMarket ${address}`);
  const iface = OptionMarket__factory.createInterface();
  await wait(manager.setTargetFunctionRole(address, [iface.getFunction("listSeries").selector], ROLE.RISK_OFFICER));
  await wait(manager.grantRole(ROLE.SETTLER, address, 0));
  await registerSystemIdentity(opts, manager, contracts.KycRegistry, address, "OptionMarket");

  // The portfolio-margin satellite: the engine offers it every account holding a series; accounts opt in.
  const risk = await new PortfolioRisk__factory(opts.deployer).deploy(
    contracts.MarginEngine,
    address,
    managerAddress,
    DEV_PORTFOLIO_GRID,
  );
  await risk.waitForDeployment();
  const riskAddress = await risk.getAddress();
  log(`PortfolioRisk ${riskAddress}`);
  await wait(
    manager.setTargetFunctionRole(
      riskAddress,
      [PortfolioRisk__factory.createInterface().getFunction("setGrid").selector],
      ROLE.RISK_OFFICER,
    ),
  );
  const me = await opts.deployer.getAddress();
  const [wasOfficer] = await manager.hasRole(ROLE.RISK_OFFICER, me);
  if (!wasOfficer) await wait(manager.grantRole(ROLE.RISK_OFFICER, me, 0));
  await wait(MarginEngine__factory.connect(contracts.MarginEngine, opts.deployer).setPortfolioRisk(riskAddress));
  if (!wasOfficer) await wait(manager.renounceRole(ROLE.RISK_OFFICER, me));

  const out: Record<string, string> = { OptionMarket: address, PortfolioRisk: riskAddress };
  const feedIface = MedianPriceFeed__factory.createInterface();
  for (const token of tokens.filter((t) => t.kind === "security")) {
    const feed = await new MedianPriceFeed__factory(opts.deployer).deploy(
      managerAddress,
      VOLATILITY_FEED_DECIMALS,
      `${token.symbol} implied volatility`,
      DEV_FEED_PARAMS.quorum,
      DEV_FEED_PARAMS.maxObservationAge,
      DEV_FEED_PARAMS.maxObservationFuture,
    );
    await feed.waitForDeployment();
    const feedAddress = await feed.getAddress();
    log(`MedianPriceFeed ${token.symbol} implied volatility ${feedAddress}`);
    await wait(
      manager.setTargetFunctionRole(
        feedAddress,
        [feedIface.getFunction("setQuorum").selector, feedIface.getFunction("setObservationWindow").selector],
        ROLE.RISK_OFFICER,
      ),
    );
    out[volatilityFeedKey(token.symbol)] = feedAddress;
  }
  return out;
}

export interface ListSeriesArgs {
  contracts: Record<string, string>;
  /** holds RISK_OFFICER (listSeries, the router's and the engine's configureAsset) */
  riskOfficer: Signer;
  /** holds OPERATOR (the hub's listInstrument) */
  operator: Signer;
  terms: IOptionMarket.TermsStruct;
  name: string;
  symbol: string;
  /** seconds a price stays fresh (default: the dev router's hour) */
  maxStaleness?: number;
  margin?: Partial<{ tier: number; haircut: bigint; penalty: bigint; windowCap: bigint }>;
}

/**
 * Lists a series end to end, as the risk officer and the operator do: the market creates its token and feed; the
 * router takes the feed as the series' primary (breaker off); the engine lists the token as a position; the hub lists
 * it as an instrument. Returns the series (token) address.
 */
export async function listOptionSeries(a: ListSeriesArgs): Promise<string> {
  const c = a.contracts;
  const market = OptionMarket__factory.connect(c.OptionMarket, a.riskOfficer);
  const series = await market.listSeries.staticCall(a.terms, a.name, a.symbol);
  await (await market.listSeries(a.terms, a.name, a.symbol)).wait();
  const { feed } = await market.series(series);
  const router = OracleRouter__factory.connect(c.OracleRouter, a.riskOfficer);
  await (
    await router.configureAsset(series, {
      primary: feed,
      secondary: ethers.ZeroAddress,
      maxStaleness: a.maxStaleness ?? DEV_ORACLE_PARAMS.maxStaleness,
      maxDeviation: DEV_ORACLE_PARAMS.maxDeviation,
      maxMove: 0n,
      volatilityHalfLife: DEV_ORACLE_PARAMS.volatilityHalfLife,
    })
  ).wait();
  const m = { ...OPTION_SERIES_MARGIN, ...a.margin };
  const engine = MarginEngine__factory.connect(c.MarginEngine, a.riskOfficer);
  await (await engine.configureAsset(series, m.tier, m.haircut, m.penalty, m.windowCap)).wait();
  const hub = SettlementHub__factory.connect(c.SettlementHub, a.operator);
  await (await hub.listInstrument(series)).wait();
  return series;
}
