import type { Logger } from "./logger";

/** A background job: run every `intervalMs`, one instance at a time across the fleet (lease), bounded in time. */
export interface Job {
  name: string;
  intervalMs: number;
  timeoutMs: number;
  /**
   * Lease time-to-live (default 2 × timeoutMs). The lease is renewed every ttl/3 while a run lasts, so a short
   * ttl bounds how long a standby waits after the holder died without cutting a long run short.
   */
  leaseTtlMs?: number;
  /** Runs on every instance, without a lease (work on this instance's own in-memory state). */
  local?: boolean;
  /**
   * A signal (Signals.notify) that runs the job now instead of at its next tick: work another capability just
   * produced (e.g. trades queued for settlement) does not wait out the interval. A wake during a run runs it again
   * right after; the interval stays the fallback (a standby, or work written by another instance).
   */
  wakeOn?: string;
  run(): Promise<unknown>;
}

/**
 * How long a woken job waits, so a burst of notifications becomes one run (and one batch): the settlement batcher
 * then sends at most about four batches a second under a burst of trades, not one per block (each a transaction the
 * node must execute while it answers pre-trade reads), and a lone trade still settles within a quarter second.
 */
export const WAKE_COALESCE_MS = 250;

/** In-process wake-ups from producers of work to the jobs that consume it (one set per service instance). */
export class Signals {
  private readonly listeners = new Map<string, Set<() => void>>();

  notify(name: string): void {
    for (const f of this.listeners.get(name) ?? []) f();
  }

  on(name: string, f: () => void): () => void {
    const set = this.listeners.get(name) ?? new Set();
    set.add(f);
    this.listeners.set(name, set);
    return () => set.delete(f);
  }
}

export interface JobRunnerDeps {
  /** Takes or renews the job's lease; false when another instance holds it. */
  tryLease(name: string, ttlMs: number): Promise<boolean>;
  log: Logger;
  /** Called after every run (for metrics). */
  onRun?: (name: string, ok: boolean, ms: number) => void;
  /** Wake-ups for jobs with `wakeOn`. */
  signals?: Signals;
}

/** Runs each job in its own timer loop; a run never overlaps the previous one. Returns a stopper. */
export function startJobs(jobs: Job[], deps: JobRunnerDeps): { stop(): Promise<void> } {
  let stopped = false;
  const timers = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  const running = new Set<string>();
  const woken = new Set<string>();
  const schedule = (job: Job, delay: number): void => {
    if (stopped) return;
    timers.set(
      job.name,
      setTimeout(() => {
        timers.delete(job.name);
        running.add(job.name);
        woken.delete(job.name);
        const p = runOnce(job).finally(() => {
          inFlight.delete(p);
          running.delete(job.name);
          schedule(job, woken.has(job.name) ? WAKE_COALESCE_MS : job.intervalMs);
        });
        inFlight.add(p);
      }, delay),
    );
  };
  const wake = (job: Job): void => {
    if (stopped || woken.has(job.name)) return;
    woken.add(job.name);
    if (running.has(job.name)) return; // runs again as soon as this run ends
    clearTimeout(timers.get(job.name));
    schedule(job, WAKE_COALESCE_MS);
  };
  const unsubscribe = jobs.flatMap((job) =>
    job.wakeOn !== undefined && deps.signals ? [deps.signals.on(job.wakeOn, () => wake(job))] : [],
  );
  const runOnce = async (job: Job): Promise<void> => {
    const started = Date.now();
    let ok = false;
    try {
      const lease = `job:${job.name}`;
      const ttl = job.leaseTtlMs ?? job.timeoutMs * 2;
      if (!job.local && !(await deps.tryLease(lease, ttl))) return;
      const heartbeat = job.local
        ? undefined
        : setInterval(
            () =>
              void deps.tryLease(lease, ttl).then(
                (held) => held || deps.log.warn("job lease lost during a run", { job: job.name }),
                () => undefined,
              ),
            Math.max(50, Math.floor(ttl / 3)),
          );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`job ${job.name} timed out after ${job.timeoutMs} ms`)),
          job.timeoutMs,
        );
      });
      try {
        await Promise.race([job.run(), timeout]);
      } finally {
        clearTimeout(timer);
        clearInterval(heartbeat);
      }
      ok = true;
    } catch (err) {
      deps.log.error("job failed", { job: job.name, err });
    } finally {
      deps.onRun?.(job.name, ok, Date.now() - started);
    }
  };
  for (const job of jobs) schedule(job, 0);
  return {
    async stop() {
      stopped = true;
      for (const off of unsubscribe) off();
      for (const t of timers.values()) clearTimeout(t);
      await Promise.all([...inFlight]);
    },
  };
}
