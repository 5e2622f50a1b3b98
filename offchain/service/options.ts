import type { NewApiKey, Role } from "../api";
import type { ChainGateway, ContractHandler, DeploymentRecord, Indexer } from "../chain";
import type { CapabilityRoutes } from "../api";
import type { ServiceInstance } from "../shared/instance";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";

/** The service options the composition itself reads; each capability adds its own (offchain/main.ts). */
export interface CoreServiceOptions {
  /** Use this deployment record instead of reading deployments/<network>.json. */
  deployment?: DeploymentRecord;
  /** Create one API key per role and return them (development only). */
  demoKeys?: boolean;
  /** Subject (account address) of the demo client key. */
  demoClientAccount?: string;
  /** Contract handlers of later capabilities, indexed with the core ones. */
  extraHandlers?: ContractHandler[];
  /** Routes of later capabilities (order book, settlement, reserves…). */
  extraRoutes?: CapabilityRoutes[];
  /** The highest block a crash cannot lose (the embedded chain's durable head); the indexers stay at or below it. */
  durableHead?: () => number;
  /** JSON-RPC URL the web console's auditor page is told to use (GET /v1/config); default: the service's own. */
  publicRpcUrl?: string;
  /**
   * Several instances on one store (docs/production.md): the order book runs only on the holder of the
   * `role:orderbook` lease (the others answer order writes with 503 NOT_LEADER and the leader's URL), and every
   * singleton's lease lives `ttlMs` (bounds the failover time). Without it the order book opens at once.
   */
  leases?: LeaseSettings;
  /**
   * "practice": this is the practice (paper-trading) service: every response is marked (header MarginBridge-Mode
   * and `mode` in JSON bodies, offchain/api/app.ts) and the practice capability runs. Unset: the real service.
   */
  mode?: "practice";
  log?: Logger;
}

export interface LeaseSettings {
  /** Lease time-to-live of every singleton role (ms; a standby takes over this long after the holder died). */
  ttlMs: number;
  /** The URL other instances tell clients to use for order writes (default: this instance's listen URL). */
  advertisedUrl?: string;
}

/** The running service as the composition builds it; capabilities add their handles (offchain/main.ts). */
export interface ServiceBase {
  url: string;
  /** The separate Prometheus listener's URL, when MB_METRICS_PORT is set. */
  metricsUrl?: string;
  store: Store;
  chain?: ChainGateway;
  indexer?: Indexer;
  demoKeys: Partial<Record<Role, NewApiKey>>;
  /** This process as a start of its instance (identity, process epoch). */
  instance: ServiceInstance;
  log: Logger;
  stop(): Promise<void>;
}
