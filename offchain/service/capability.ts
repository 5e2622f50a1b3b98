import type { ApiMetrics, CapabilityRoutes, StaticMount, WsStreams } from "../api";
import type { ChainGateway, ContractHandler, DeploymentRecord } from "../chain";
import type { Config } from "../shared/config";
import type { InstanceClaim, ServiceInstance } from "../shared/instance";
import type { Job, Signals } from "../shared/jobs";
import type { Logger } from "../shared/logger";
import type { Repositories, Store } from "../store";
import type { CoreServiceOptions } from "./options";

/**
 * What a capability requires before it is built. The service checks it once at start-up: a capability whose needs
 * are not met is not built, and says why (one log line, and in GET /v1/status under `capabilities`).
 */
export interface Needs<O extends object = object> {
  /** Contracts the deployment record must name (the chain gateway comes with them). Empty: runs without a chain. */
  contracts: readonly string[];
  /** Needs the chain gateway even with no particular contract (any deployment record). */
  chain?: boolean;
  /**
   * Further conditions on the configuration and the service options: the reason the capability is off, or
   * undefined when it may run (e.g. the order books run only when ServiceOptions.orderbook is given).
   */
  enabled?: (deps: CapabilityDeps<O>) => string | undefined;
}

/**
 * The shared dependencies every capability is built from. `O` is the slice of the service options the capability
 * reads (each capability declares its own; offchain/main.ts's ServiceOptions is their union).
 */
export interface CapabilityDeps<O extends object = object> {
  config: Config;
  options: O & CoreServiceOptions;
  store: Store;
  log: Logger;
  /** The deployment record and the chain gateway over it; always present when `needs.contracts` is not empty. */
  deployment?: DeploymentRecord;
  chain?: ChainGateway;
  /**
   * Lease fencing for a leased job's writes: inside the job's transaction, throws (rolling the write back) unless
   * this instance still holds the lease `name` at the epoch it took it with.
   */
  fence(tx: Repositories, name: string): Promise<void>;
  /** In-process wake-ups: a capability notifies the work it produced; a job with `wakeOn` runs on it. */
  signals: Signals;
  /** This process as a start of its instance; undefined until the API listens. */
  instance(): ServiceInstance | undefined;
  /** The composed GET /v1/status body (every capability's facts). */
  status(): Promise<Record<string, unknown>>;
  /** What the capabilities built so far expose (CapabilityParts.exposes, merged by name), e.g. the order gateway. */
  exposed(): object;
}

/** This instance once the API listens: what `start()` receives. */
export interface Running {
  /** The listen URL. */
  url: string;
  /** The lease owner name of this process (advertised URL first). */
  owner: string;
  holder: { owner: string; claim: InstanceClaim };
  /** Lease time-to-live of every singleton role. */
  leaseTtlMs: number;
}

/** What a capability contributes to the service once built. Every part is optional. */
export interface CapabilityParts {
  /** Contract handlers for the service's indexer (in list order, after those of earlier capabilities). */
  handlers?: ContractHandler[];
  routes?: CapabilityRoutes[];
  /** WebSocket channels (GET /v1/ws). */
  streams?: WsStreams;
  /** Static files under the API's origin (the web console). */
  staticMounts?: StaticMount[];
  /** Background jobs: leased (one instance at a time) unless `local`. */
  jobs?: Job[];
  /** Registers Prometheus gauges. */
  metrics?(metrics: ApiMetrics): void;
  /** Facts merged into GET /v1/status. */
  status?(): Record<string, unknown>;
  /** Built, but part of it is off (e.g. the keeper's routes without its loop): why, reported like `needs`. */
  partial?: string;
  /** Objects the Service handle exposes (the keeper, the order gateway…), merged into it by name. */
  exposes?: object;
  /** Called once the API listens, in list order (leases, loops). */
  start?(running: Running): void | Promise<void>;
  /** Called on stop, in reverse list order, after the listener closed and the jobs stopped. */
  stop?(): Promise<void>;
}

/** The one face of every capability folder: a name, what it needs, and one factory over the shared dependencies. */
export interface Capability<O extends object = object> {
  name: string;
  needs: Needs<O>;
  build(deps: CapabilityDeps<O>): CapabilityParts | Promise<CapabilityParts>;
}

/** How a capability fared at start-up (GET /v1/status `capabilities`). */
export type CapabilityState = { available: true; partial?: string } | { available: false; reason: string };

/**
 * Why `needs` is not met (`missing`: contracts or the chain are absent, as opposed to a capability the
 * configuration leaves off), or undefined when it is.
 */
export function unmetNeeds<O extends object>(
  needs: Needs<O>,
  deps: CapabilityDeps<O>,
): { reason: string; missing: boolean } | undefined {
  if (needs.contracts.length > 0 || needs.chain) {
    if (!deps.deployment || !deps.chain) {
      const what = needs.contracts.length > 0 ? needs.contracts.join(", ") : "the chain";
      return { reason: `no deployment record (needs ${what})`, missing: true };
    }
    const missing = needs.contracts.filter((c) => !deps.deployment!.contracts[c]);
    if (missing.length > 0) return { reason: `the deployment has no ${missing.join(", ")}`, missing: true };
  }
  const off = needs.enabled?.(deps);
  return off === undefined ? undefined : { reason: off, missing: false };
}
