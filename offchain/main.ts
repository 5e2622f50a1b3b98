import type { Indexer } from "./chain";
import { keeperCapability } from "./keeper/capability";
import type { Keeper } from "./keeper";
import { kycCapability } from "./kyc/capability";
import { orderbookCapability, type OrderbookServiceOptions } from "./orderbook/capability";
import type { OrderGateway } from "./orderbook";
import { portfolioCapability } from "./portfolio/capability";
import { ensurePracticeSchema, practiceCapability, practiceServiceConfig } from "./practice";
import type { PracticeChain } from "./chain/practiceChain";
import { providersCapability } from "./providers/capability";
import { reservesCapability, type ReservesServiceOptions } from "./reserves/capability";
import type { Capability } from "./service/capability";
import { composeService } from "./service/compose";
import { coreCapability } from "./service/core";
import type { CoreServiceOptions, ServiceBase } from "./service/options";
import { settlementCapability } from "./settlement/capability";
import { surveillanceCapability } from "./surveillance/capability";
import { opsCapability } from "./ops/capability";
import { optionsCapability } from "./options/capability";
import type { Config } from "./shared/config";
import { webCapability } from "./web/capability";

export type { LeaseSettings } from "./service/options";
export type { OrderbookOptions } from "./orderbook/capability";

/** Every capability's options (each capability declares its own slice). */
export interface ServiceOptions extends CoreServiceOptions, ReservesServiceOptions, OrderbookServiceOptions {}

export interface Service extends ServiceBase {
  /** The proof-of-reserves indexer (MarginEngine accounts), on its own cursor. */
  reservesIndexer?: Indexer;
  keeper?: Keeper;
  /** The order gateway when the order books run. */
  orderbook?: OrderGateway;
  /** The practice deployment's accounts (the practice service only). */
  practice?: PracticeChain;
}

/**
 * The service's capabilities, in start order (stopped in reverse). Adding one: a folder with its capability.ts
 * (offchain/service/capability.ts is the face) and one line here. Routes are served in this order.
 */
export const CAPABILITIES: readonly Capability<ServiceOptions>[] = [
  coreCapability,
  kycCapability,
  reservesCapability,
  portfolioCapability,
  providersCapability,
  settlementCapability,
  keeperCapability,
  orderbookCapability,
  optionsCapability,
  surveillanceCapability,
  opsCapability,
  practiceCapability,
  webCapability,
];

/**
 * Wires the service from one parsed configuration: store → chain gateway and indexer (when a deployment is
 * known) → capabilities → HTTP/WebSocket API → background jobs (offchain/service/compose.ts). Nothing here
 * decides anything.
 */
export async function startService(config: Config, opts: ServiceOptions = {}): Promise<Service> {
  const { exposed, ...service } = await composeService(config, opts, CAPABILITIES);
  return { ...service, ...(exposed as Pick<Service, "reservesIndexer" | "keeper" | "orderbook" | "practice">) };
}

/**
 * The practice (paper-trading) service: the same capabilities over the practice deployment (`opts.deployment`)
 * and the practice store, on its own port, every response marked "practice" (offchain/practice/config.ts).
 */
export async function startPracticeService(config: Config, opts: ServiceOptions = {}): Promise<Service> {
  const practice = practiceServiceConfig(config);
  await ensurePracticeSchema(practice);
  return startService(practice, { ...opts, mode: "practice" });
}
