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
export { readScheduled } from "./scheduled";
export { serveDueRedemptions, SERVE_ERROR_INTERFACES, type ServeOutcome, type ServeQueueDeps } from "./serveQueue";
export { providerRoutes, type ProviderRoutesDeps } from "./routes";
export * from "./schemas";
