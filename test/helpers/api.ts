import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ApiClient,
  ROLES,
  coreRoutes,
  createApi,
  createApiKey,
  listen,
  type CapabilityRoutes,
  type NewApiKey,
  type Role,
  type RunningApi,
  type StaticMount,
  type WsLimits,
  type WsStreams,
} from "../../offchain/api";
import { DEV_KEYS } from "../../offchain/shared/config";
import { ServiceInstance } from "../../offchain/shared/instance";
import { silentLogger } from "../../offchain/shared/logger";
import { openStore, type Store } from "../../offchain/store";

export const TEST_SECRET_KEY = Buffer.from(DEV_KEYS.apiSecretKey, "hex");

export interface TestApi {
  store: Store;
  sqliteFile: string;
  running: RunningApi;
  keys: Record<Role, NewApiKey>;
  /** This API's process as a start of its instance (when `instanceId` was given). */
  instance?: ServiceInstance;
  client(role: Role): ApiClient;
  anonymous: ApiClient;
  close(): Promise<void>;
}

/** The API with the core routes (plus `capabilities`) on a fresh SQLite store, one key per role. */
export async function startTestApi(opts: {
  port: number;
  rateLimitPerMinute?: number;
  capabilities?: CapabilityRoutes[];
  timestampWindowMs?: number;
  /** A PostgreSQL URL to use instead of a fresh SQLite file. */
  postgresUrl?: string;
  /** An SQLite file to use (e.g. the one of a previous start) instead of a fresh one. */
  sqliteFile?: string;
  /** More capabilities and WebSocket streams, built on the API's store. */
  setup?: (store: Store) => Promise<{ capabilities?: CapabilityRoutes[]; streams?: WsStreams }>;
  wsLimits?: Partial<WsLimits>;
  /** Registers this API as a start of instance `instanceId` (idempotency claims belong to it). */
  instanceId?: string;
  /** Lease time of the instance (its claims are stale after this long without a heartbeat). */
  instanceTtlMs?: number;
  /** Whether to create one key per role (default true; false on a restart over the same store). */
  createKeys?: boolean;
  /** Static files served before the API routes (the web console's pages). */
  staticMounts?: StaticMount[];
}): Promise<TestApi> {
  const dir = mkdtempSync(path.join(tmpdir(), "mb-api-"));
  const sqliteFile = opts.sqliteFile ?? path.join(dir, "api.sqlite");
  const store = opts.postgresUrl
    ? await openStore({ engine: "postgres", url: opts.postgresUrl, poolSize: 4 })
    : await openStore({ engine: "sqlite", path: sqliteFile });
  const extra = (await opts.setup?.(store)) ?? {};
  const instance = opts.instanceId
    ? await ServiceInstance.register(store.instances, opts.instanceId, opts.instanceTtlMs ?? 10_000, silentLogger)
    : undefined;
  const timestampWindowMs = opts.timestampWindowMs ?? 60_000;
  const api = createApi({
    store,
    log: silentLogger,
    secretKey: TEST_SECRET_KEY,
    timestampWindowMs,
    rateLimitPerMinute: opts.rateLimitPerMinute ?? 100_000,
    bodyLimitBytes: 16 * 1024,
    capabilities: [
      coreRoutes({ store, secretKey: TEST_SECRET_KEY, status: () => ({ test: true }) }),
      ...(opts.capabilities ?? []),
      ...(extra.capabilities ?? []),
    ],
    idempotencyOwner: () => instance && { instance: instance.id, epoch: instance.epoch, staleAfterMs: instance.ttlMs },
    staticMounts: opts.staticMounts,
  });
  const running = await listen(api, {
    host: "127.0.0.1",
    port: opts.port,
    store,
    secretKey: TEST_SECRET_KEY,
    timestampWindowMs,
    log: silentLogger,
    streams: extra.streams,
    wsLimits: opts.wsLimits,
  });
  const keys = {} as Record<Role, NewApiKey>;
  if (opts.createKeys !== false)
    for (const role of ROLES)
      keys[role] = await createApiKey(store, TEST_SECRET_KEY, {
        role,
        subject: `${role}-subject`,
        label: `test ${role}`,
      });
  return {
    store,
    sqliteFile,
    running,
    keys,
    instance,
    client: (role) => new ApiClient(running.url, keys[role]),
    anonymous: new ApiClient(running.url),
    async close() {
      await running.close();
      await instance?.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
