export { optionsCapability } from "./capability";
export { OPTION_CONTRACTS, optionsChain, optionsChainAt, type OptionsChain } from "./chain";
export { readSeries, type SeriesList, type SeriesView } from "./readSeries";
export { gridParameters, readPortfolioMargin, type PortfolioGroupView } from "./readPortfolioMargin";
export { holdersOf, roundStandingAt, settleExpiredSeries, writersOf, type SettleOutcome } from "./settle";
