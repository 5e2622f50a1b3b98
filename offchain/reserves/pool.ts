import { availableParallelism } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { Job, JobResult } from "./treeJob";

interface Pending {
  resolve(r: JobResult): void;
  reject(e: Error): void;
}

/**
 * A fixed set of hashing threads. Under ts-node (tests, scripts) each worker registers ts-node before loading
 * treeWorker.ts; from compiled JavaScript it loads treeWorker.js directly.
 */
export class HashPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<Worker, Pending>();

  private constructor(workers: Worker[]) {
    this.workers = workers;
    for (const w of workers) {
      w.on("message", (m: { ok: boolean; result?: JobResult; error?: string }) => {
        const p = this.pending.get(w);
        if (!p) return;
        this.pending.delete(w);
        if (m.ok) p.resolve(m.result ?? {});
        else p.reject(new Error(m.error));
      });
      w.on("error", (err) => {
        const p = this.pending.get(w);
        this.pending.delete(w);
        p?.reject(err);
      });
    }
  }

  /** Starts `threads` workers (default: one per core) and waits until each has its hasher ready. */
  static async start(threads = availableParallelism()): Promise<HashPool> {
    const ext = path.extname(__filename);
    const entry = path.join(__dirname, `treeWorker${ext}`);
    const code =
      ext === ".ts"
        ? `require("ts-node").register({ transpileOnly: true }); require(${JSON.stringify(entry)});`
        : `require(${JSON.stringify(entry)});`;
    const workers = Array.from({ length: Math.max(1, threads) }, () => new Worker(code, { eval: true }));
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once("message", () => resolve());
            w.once("error", reject);
          }),
      ),
    );
    return new HashPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Runs one job per worker (jobs.length <= size) and waits for all of them. */
  runAll(jobs: Job[]): Promise<JobResult[]> {
    if (jobs.length > this.workers.length) throw new Error("more jobs than workers");
    return Promise.all(
      jobs.map(
        (job, i) =>
          new Promise<JobResult>((resolve, reject) => {
            const w = this.workers[i];
            this.pending.set(w, { resolve, reject });
            w.postMessage(job);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
