/** Worker thread entry: receives Jobs from the pool (pool.ts), answers JobResults. */
import { parentPort } from "node:worker_threads";
import { createKeccak256 } from "./keccak";
import { runJob, type Job } from "./treeJob";

const port = parentPort;
if (!port) throw new Error("treeWorker must run in a worker thread");

void createKeccak256().then((h) => {
  port.on("message", (job: Job) => {
    try {
      port.postMessage({ ok: true, result: runJob(job, h) });
    } catch (err) {
      port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });
  port.postMessage({ ready: true });
});
