import { expect } from "chai";
import { Signals, WAKE_COALESCE_MS, startJobs, type Job } from "../../../offchain/shared/jobs";
import { createLogger } from "../../../offchain/shared/logger";

const log = createLogger({ level: "error", base: {} });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits (up to 2 s, a loaded machine included) until `starts` has n runs. The interval is a minute: a run in that
 * time can only be a wake-up. */
async function runs(starts: number[], n: number): Promise<void> {
  for (let i = 0; i < 200 && starts.length < n; i++) await sleep(10);
  expect(starts).to.have.length(n);
}

/** A job that records when each run started and can be held open, to observe scheduling around a run. */
function recorder(name: string, intervalMs: number, wakeOn?: string) {
  const starts: number[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const job: Job = {
    name,
    intervalMs,
    timeoutMs: 5_000,
    local: true,
    wakeOn,
    run: async () => {
      starts.push(Date.now());
      if (hold) await new Promise<void>((r) => (release = r));
    },
  };
  return {
    job,
    starts,
    holdNext: () => (hold = true),
    release: () => {
      hold = false;
      release?.();
    },
  };
}

describe("background jobs: interval, wake-ups", function () {
  it("runs at start, then every interval; a notification runs the job within the coalescing delay", async function () {
    const signals = new Signals();
    const r = recorder("batcher", 60_000, "work");
    const jobs = startJobs([r.job], { tryLease: async () => true, log, signals });
    try {
      await runs(r.starts, 1); // the run at start; the next tick is a minute away
      const notified = Date.now();
      signals.notify("work");
      signals.notify("work"); // a burst of notifications is one run
      signals.notify("work");
      await runs(r.starts, 2);
      expect(r.starts[1] - notified)
        .to.be.at.least(WAKE_COALESCE_MS - 2)
        .and.below(2_000);
      await sleep(WAKE_COALESCE_MS * 3);
      expect(r.starts, "three notifications, one run").to.have.length(2);
      signals.notify("other"); // another signal wakes nothing
      await sleep(WAKE_COALESCE_MS + 50);
      expect(r.starts).to.have.length(2);
    } finally {
      await jobs.stop();
    }
  });

  it("a notification during a run runs the job again right after it, never alongside it", async function () {
    const signals = new Signals();
    const r = recorder("batcher", 60_000, "work");
    r.holdNext();
    const jobs = startJobs([r.job], { tryLease: async () => true, log, signals });
    try {
      await runs(r.starts, 1); // held open
      signals.notify("work");
      await sleep(WAKE_COALESCE_MS + 50);
      expect(r.starts, "no second run while the first is open").to.have.length(1);
      const released = Date.now();
      r.release();
      await runs(r.starts, 2);
      expect(r.starts[1] - released).to.be.below(2_000);
    } finally {
      await jobs.stop();
    }
  });

  it("stops listening once stopped: a late notification starts nothing", async function () {
    const signals = new Signals();
    const r = recorder("batcher", 60_000, "work");
    const jobs = startJobs([r.job], { tryLease: async () => true, log, signals });
    await runs(r.starts, 1);
    await jobs.stop();
    signals.notify("work");
    await sleep(WAKE_COALESCE_MS + 50);
    expect(r.starts).to.have.length(1);
  });
});
