import { hostname } from "node:os";
import type { Logger } from "./logger";

/** Lease time-to-live of every singleton role unless configured (MB_LEASE_TTL_MS in the production profile). */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/** What an instance needs of the store (store.instances). */
export interface InstanceStore {
  register(instanceId: string, host: string, pid: number, now?: number): Promise<number>;
  heartbeat(instanceId: string, epoch: number, now?: number): Promise<boolean>;
  retire(instanceId: string, epoch: number): Promise<void>;
}

/** A process of an instance, as leases and idempotency claims record it. */
export interface InstanceClaim {
  instance: string;
  epoch: number;
}

/**
 * This process as one start of a service instance. The instance's identity is stable across restarts (its
 * advertised URL, or its listen address on this host); `register` gives each start the next process epoch.
 * Everything the process takes — singleton leases, pending idempotency claims — records the identity and epoch,
 * so that:
 * - a restart of the same instance (a larger epoch) takes back its own leases at once instead of waiting for them
 *   to expire, and its dead predecessor's pending claims are free to retry;
 * - a process that stopped beating for `ttlMs` (killed, never restarted) is gone: another instance takes its
 *   leases when they expire and retries its claims.
 * The process beats every ttl/3 while it runs; a clean stop retires it at once.
 */
export class ServiceInstance {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  private constructor(
    readonly id: string,
    readonly epoch: number,
    readonly ttlMs: number,
    private readonly store: InstanceStore,
    private readonly log: Logger,
  ) {}

  /** Registers this process as the newest start of `id` and starts its heartbeat. */
  static async register(store: InstanceStore, id: string, ttlMs: number, log: Logger): Promise<ServiceInstance> {
    const epoch = await store.register(id, hostname(), process.pid);
    const instance = new ServiceInstance(id, epoch, ttlMs, store, log);
    instance.timer = setInterval(() => void instance.beat(), Math.max(100, Math.floor(ttlMs / 3)));
    instance.timer.unref();
    // uptimeMs: how long this process took to get here (module loading, store, chain, API): part of a restart's cost
    log.info("service instance registered", { instance: id, epoch, uptimeMs: Math.round(process.uptime() * 1000) });
    return instance;
  }

  /**
   * The identity of an instance: `advertisedUrl` when given (what clients and the other instances know it by);
   * otherwise its listen URL on this host (no two live processes can listen on one address).
   */
  static identity(listenUrl: string, advertisedUrl?: string): string {
    return advertisedUrl || `${hostname()} ${listenUrl}`;
  }

  get claim(): InstanceClaim {
    return { instance: this.id, epoch: this.epoch };
  }

  /** A lease owner string for this process: `prefix` (the advertised URL comes first, standbys read it) + process. */
  owner(prefix: string): string {
    return `${prefix} ${this.id}#${this.epoch}`;
  }

  status(): Record<string, unknown> {
    return { id: this.id, epoch: this.epoch, pid: process.pid, startedAt: new Date(this.startedAt).toISOString() };
  }

  private async beat(): Promise<void> {
    try {
      if (!(await this.store.heartbeat(this.id, this.epoch)))
        this.log.error("another process started under this instance's identity; it has taken this one's leases", {
          instance: this.id,
          epoch: this.epoch,
        });
    } catch (err) {
      this.log.warn("instance heartbeat failed", { instance: this.id, err });
    }
  }

  /** Stops beating and marks this process gone (a clean stop: its claims are free at once). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.store.retire(this.id, this.epoch).catch(() => undefined);
  }
}

/** A lease row as the store lists it (store.locks.leases()). */
export interface LeaseRowView {
  name: string;
  owner: string;
  expiresAt: number;
  epoch: number;
  instance: string | null;
  instanceEpoch: number | null;
}

/**
 * Each singleton's lease as /v1/status shows it: the holding instance and process epoch, the fencing epoch, and
 * whether it is held (by this process or another), expired (its holder stopped renewing) or released.
 */
export function singletonStatus(
  rows: readonly LeaseRowView[],
  self: ServiceInstance | undefined,
  now = Date.now(),
): Array<Record<string, unknown>> {
  return rows.map((r) => {
    const mine = self !== undefined && r.instance === self.id && r.instanceEpoch === self.epoch;
    const state = r.expiresAt === 0 ? "released" : r.expiresAt < now ? "expired" : mine ? "held here" : "held";
    return {
      name: r.name,
      state,
      holder: r.instance ?? r.owner,
      holderEpoch: r.instanceEpoch,
      leaseEpoch: r.epoch,
      expiresInMs: r.expiresAt === 0 ? null : r.expiresAt - now,
    };
  });
}
