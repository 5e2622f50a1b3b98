/** Risk analytics: the capability's whole public surface. Pure functions over the typed book (types.ts). */
export type { Account, AssetRisk, Book, Funding, LiquidityTier, Market, Position } from "./types";
export { RiskError } from "./errors";
export { WAD, divCeil, formatUnits, mulDivDown, mulDivUp, wadFromNumber } from "./fixed";
export { valueAccount, positionValue, quantityForValue, type AccountState, type Valuation } from "./valuation";
export {
  NO_HISTORY,
  dailyVolatility,
  decayWeight,
  logReturn,
  nextVolatilityState,
  sqrt,
  type VolatilityState,
} from "./volatility";
export { expNeg, normalCdf, optionPrice, type OptionPriceInput } from "./optionPrice";
export {
  PORTFOLIO_MAX_LEGS,
  PORTFOLIO_SCENARIOS,
  portfolioRequirement,
  portfolioValue,
  scenarioLosses,
  scenarioMarket,
  shortOptionCharge,
  type OptionLeg,
  type OptionMarket,
  type PortfolioRequirement,
  type PortfolioRiskParameters,
} from "./portfolioMargin";
export {
  portfolioAccountMargins,
  portfolioRequirements,
  type PortfolioAccountInput,
  type PortfolioGrid,
  type PortfolioHolding,
  type PortfolioPositionMargin,
  type PortfolioSeriesTerms,
  type PortfolioUnderlying,
} from "./portfolioAccount";
export { tierMargins, type TierMargins, type TierRule } from "./tierMargins";
export {
  accountLiquidation,
  liquidationReturn,
  type AccountLiquidation,
  type PositionLiquidation,
} from "./liquidationPrice";
export { liquidateAccount, type LiquidationResult, type Seizure } from "./stress/liquidate";
export type { Scenario } from "./stress/scenario";
export {
  custodianFailure,
  providerRun,
  reserveAdequacy,
  type ProviderRunDay,
  type ProviderRunInput,
  type ProviderRunResult,
  type ReserveAdequacy,
  type ReserveAdequacyInput,
} from "./stress/counterparty";
export {
  runScenario,
  type AccountOutcome,
  type DayRecord,
  type ScenarioResult,
  type SimulationOptions,
} from "./stress/simulate";
export {
  SHIPPED_SHOCK_PATHS_DIR,
  dailyReturns,
  historicalScenario,
  loadShockPaths,
  parseShockPath,
  type ShockPath,
} from "./stress/shockPaths";
export { Rng, cholesky } from "./stress/random";
export {
  ReturnGenerator,
  TRADING_DAYS_PER_YEAR,
  distribution,
  monteCarloScenarios,
  runMonteCarlo,
  type MarketModel,
  type MetricDistribution,
  type MonteCarloOptions,
  type MonteCarloResult,
} from "./stress/monteCarlo";
export { bookExposures, historicalVar, monteCarloVar, tailRisk, type VarFigure } from "./var";
export { barChart, lineChart, type BarChartInput, type LineChartInput, type LineSeries } from "./charts/svg";
export {
  DEFAULT_BETA_BY_TIER,
  DEFAULT_CORRELATION,
  DEFAULT_DAILY_LIQUIDATION_LIMIT,
  DEFAULT_DEGREES_OF_FREEDOM,
  DEFAULT_VOLATILITY_BY_TIER,
  parseBookFile,
  parseDecimal,
  type BookFile,
  type ParsedBookFile,
} from "./bookFile";
export {
  buildStressReport,
  stressCharts,
  stressReportJson,
  summariseBook,
  type BookSummary,
  type ChartFile,
  type StressReport,
  type StressReportOptions,
} from "./report";
