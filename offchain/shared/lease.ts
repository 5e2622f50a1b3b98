import { AppError } from "./errors";
import type { InstanceClaim } from "./instance";
import type { Logger } from "./logger";

/** What a lease needs of the store (store.locks): take or renew with an epoch, give up. */
export interface LeaseStore {
  acquireLease(
    name: string,
    owner: string,
    ttlMs: number,
    now?: number,
    claim?: InstanceClaim,
  ): Promise<number | undefined>;
  releaseLease(name: string, owner: string): Promise<void>;
}

export interface LeaseOptions {
  /** The lease row's name, e.g. `role:orderbook`. */
  name: string;
  /** This instance (unique per process start). */
  owner: string;
  /** This process's instance and epoch: a lease an earlier process of the same instance held is taken at once. */
  claim?: InstanceClaim;
  ttlMs: number;
  /** How often the holder renews and a standby tries (default ttl/3). */
  renewEveryMs?: number;
  store: LeaseStore;
  log: Logger;
  /** Starts the role as holder of `epoch`; a throw gives the lease up. */
  onAcquired(epoch: number): Promise<void>;
  /** Stops the role (the lease was lost, given up, or the process stops). */
  onLost(): Promise<void>;
}

/**
 * A singleton role across the instances sharing one store: the holder renews its lease every `renewEveryMs`;
 * a standby tries as often and takes over once the holder has not renewed for `ttlMs` (it died, or lost the
 * store). The epoch taken with the lease is the fencing token: the role's writes check, in their own
 * transaction, that the lease still has this owner and epoch (`locks.holdsLease`), so a holder that lost its
 * lease without noticing (a long pause) cannot write after the takeover. The holder also stops acting on its own
 * once it has failed to renew for a whole ttl.
 */
export class Lease {
  private heldEpoch: number | undefined;
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  /** The role's start (onAcquired) for the held epoch: it runs beside the renewals, and a drop waits for it. */
  private starting: Promise<void> = Promise.resolve();
  private stopped = true;

  constructor(private readonly opts: LeaseOptions) {}

  /** The epoch while this instance holds the lease. */
  get epoch(): number | undefined {
    return this.held() ? this.heldEpoch : undefined;
  }

  held(): boolean {
    return this.heldEpoch !== undefined && Date.now() < this.validUntil;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const every = this.opts.renewEveryMs ?? Math.max(100, Math.floor(this.opts.ttlMs / 3));
    const loop = (): void => {
      this.running = this.step().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, every);
      });
    };
    loop();
  }

  /**
   * Something the role did under `epoch` found the lease gone (a fenced write refused): stop acting now, retry later.
   * A refusal for an earlier epoch (a write of the role's previous start, still finishing) says nothing about the
   * epoch held now and is ignored.
   */
  lost(reason: string, epoch?: number): void {
    if (this.heldEpoch === undefined) return;
    if (epoch !== undefined && epoch !== this.heldEpoch) return;
    this.opts.log.warn("lease lost", { lease: this.opts.name, epoch: this.heldEpoch, reason });
    this.validUntil = 0;
    this.running = this.running.then(() => this.drop());
  }

  /** Stops the role and gives the lease up so a standby takes over at its next try. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.heldEpoch !== undefined) {
      await this.drop();
      await this.opts.store.releaseLease(this.opts.name, this.opts.owner).catch(() => undefined);
    }
  }

  private async step(): Promise<void> {
    const { name, owner, ttlMs, log } = this.opts;
    const asked = Date.now();
    let epoch: number | undefined;
    try {
      epoch = await this.opts.store.acquireLease(name, owner, ttlMs, Date.now(), this.opts.claim);
    } catch (err) {
      // The store is unreachable: keep acting only while the last renewal is surely still ours.
      if (this.heldEpoch !== undefined && !this.held()) {
        log.warn("lease not renewed in time; stepping down", { lease: name, err });
        await this.drop();
      }
      return;
    }
    if (epoch === undefined || (this.heldEpoch !== undefined && epoch !== this.heldEpoch)) {
      if (this.heldEpoch !== undefined) {
        log.warn("lease taken over by another instance; stepping down", { lease: name, epoch: this.heldEpoch });
        await this.drop();
      }
      if (epoch === undefined) return;
    }
    // Counted from before the request: the store's expiry is at least this late.
    this.validUntil = asked + ttlMs;
    if (this.heldEpoch === epoch) return;
    this.heldEpoch = epoch;
    log.info("lease acquired", { lease: name, epoch });
    // The role starts beside the renewals, not before the next one: a start slower than the ttl (its first chain
    // reads behind a busy node) must not let the lease it started under expire.
    const start = this.opts.onAcquired(epoch);
    this.starting = start.catch(() => undefined);
    start.catch((err: unknown) => {
      log.error("could not start the role after taking its lease; giving it up", { lease: name, err });
      this.running = this.running.then(async () => {
        if (this.heldEpoch !== epoch) return;
        await this.drop();
        await this.opts.store.releaseLease(name, owner).catch(() => undefined);
      });
    });
  }

  private async drop(): Promise<void> {
    if (this.heldEpoch === undefined) return;
    this.heldEpoch = undefined;
    this.validUntil = 0;
    await this.starting; // stopped after it started, never while it starts
    try {
      await this.opts.onLost();
    } catch (err) {
      this.opts.log.error("stopping the role failed", { lease: this.opts.name, err });
    }
  }
}

/** The error a fenced write raises once its lease is gone (503 NOT_LEADER over HTTP). */
export function leaseLostError(name: string, epoch: number): AppError {
  return new AppError("NOT_LEADER", `this instance no longer holds the ${name} lease (epoch ${epoch})`, {
    details: { lease: name, epoch },
  });
}
