export {
  CLASSES,
  PROVIDER_CONTRACTS,
  TRANCHE_ID,
  providersChain,
  providersChainAt,
  type ClassName,
  type ProvidersChain,
} from "./chain";
export { readClasses, readQueue } from "./readClasses";
export { readProvider } from "./readProvider";
export { decodeCall, readScheduled } from "./scheduled";
export { serveDueRedemptions, SERVE_ERROR_INTERFACES, type ServeOutcome, type ServeQueueDeps } from "./serveQueue";
export { providerRoutes, type ProviderRoutesDeps } from "./routes";
export * from "./schemas";
export {
  forecastCash,
  forecastChart,
  openOnDay,
  type AssetCalendar,
  type Forecast,
  type ForecastDay,
} from "./forecast";
export { readForecast, FORECAST_DAYS, type ForecastSources, type LiveAgreement } from "./readForecast";
