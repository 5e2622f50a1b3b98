/** The oracle reporter capability: price sources → signed observations → relayed median rounds. */
export { chainClock, reporterFromDeployment, type ReporterFromDeployment } from "./fromDeployment";
export { PriceReporterService, type PriceReporterOptions, type Reporter, type TickResult } from "./service";
export {
  reportFeed,
  revertName,
  type FeedOutcome,
  type FeedTarget,
  type ReportFeedDeps,
  type ReporterQuote,
} from "./reportFeed";
export { pushReason, type FeedState, type PushPolicy, type PushReason } from "./policy";
export {
  FEED_DOMAIN_NAME,
  FEED_DOMAIN_VERSION,
  OBSERVATION_TYPES,
  feedDomain,
  signObservation,
  type Observation,
  type SignedObservation,
  type TypedDataSigner,
} from "./observation";
export { JsonPriceSource, PriceDocument, type JsonSourceOptions } from "./sources/jsonSource";
export {
  DEMO_ASSETS,
  MarketSimulator,
  SimulatedSource,
  VOLATILITY_SUFFIX,
  type MarketSimulatorOptions,
  type SimulatedAsset,
} from "./sources/simulator";
export { marketSimulatorRoutes } from "./marketRoutes";
export { SeededRandom } from "./random";
export { DEV_REPORTER_INDICES, HARDHAT_DEV_MNEMONIC, hardhatDevWallets } from "./devKeys";
export { formatDecimal, medianOf, parseDecimal } from "./decimal";
export {
  FEED_DECIMALS,
  OracleReporterError,
  noopLogger,
  type OracleErrorCode,
  type PriceQuote,
  type PriceSource,
  type ReporterLogger,
} from "./types";
