/** The console's read model (client account, capital pool, public config): the capability's public surface. */
export { portfolioRoutes, type PortfolioDeps } from "./routes";
export { portfolioChain, type PortfolioChain } from "./chainReader";
export { readAccount } from "./readAccount";
export { readPool, EPOCHS_SHOWN } from "./readPool";
export { readBook, type ChainBook } from "./readBook";
export { readStress, stressOf, stressRun, STRESS_RUN } from "./readStress";
export { reserveOf, RESERVE_RULE } from "./readReserve";
export { readDisclosures } from "./readDisclosures";
export { readMarginModes } from "./readMarginModes";
export { simulate, type Simulation, type SimulateInput, type ProposedAction } from "./simulate";
export { sizePosition, type Sizing, type SizingInput } from "./sizing";
export { tradeCosts, DEFAULT_TRADE_FEES, type TradeCosts, type TradeFeeSchedule } from "./tradeCosts";
export { simulationSchema } from "./simulateSchemas";
export {
  PRICE_STATUSES,
  accountSummarySchema,
  poolSummarySchema,
  stressSummarySchema,
  type StressSummary,
  reserveAdequacySchema,
  type ReserveAdequacySummary,
  publicConfigSchema,
  type AccountSummary,
  type PoolSummary,
  type BadDebtEvent,
  type PublicConfig,
  disclosureSchema,
  type DisclosureSummary,
  marginModesSchema,
  type MarginModesSummary,
} from "./schemas";
