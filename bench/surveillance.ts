/**
 * npm run bench -- surveillance [--ops N] [--accounts A] [--book-rate R] [--seconds S] [--seed X]
 *
 * Surveillance against the order book's journal rate. The orderbook bench's seeded stream (limits near the touch,
 * market orders, cancels, modifies) is run through the matching engine to record a journal as the book writes it
 * (one StampedCommand per operation, accounts by order id, the trades of each command as fills), then:
 * - rules: the recorded journal rows (JSON) through flowEvents and the rule families in process (the job's CPU path);
 * - store job: the rows and fills in a SQLite store, one FlowSurveillance.run() reading them (the job as deployed);
 * - paced: a writer appends journal rows and fills to SQLite at --book-rate entries/s (the book's measured rate,
 *   default the service path's 147,000 acknowledged orders/s) for --seconds while the job runs back to back in the
 *   same process; reports how far behind the job ever was and whether it kept up.
 * Prints one JSON line per result.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { silentLogger } from "../offchain/shared/logger";
import { openStore, type Store } from "../offchain/store";
import { FlowMonitor, FlowSurveillance, flowEvents, flowRules, journalRules } from "../offchain/surveillance";
import type { FillRow } from "../offchain/store";
import type { Stamped } from "../offchain/surveillance/flow";
import { marginbridge } from "./orderbook/engines";
import { Op, generate } from "./orderbook/stream";

interface Recorded {
  rows: Array<{ seq: number; entry: string }>;
  fills: FillRow[];
}

const BOOK = "BENCH";

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/** The seeded stream through the engine: the journal the book would write, `rate` entries a second from t0. */
function record(n: number, accounts: number, seed: number, t0: number, rate: number, seq0 = 0): Recorded {
  const { stream } = generate("default", n, 1_000, seed);
  const engine = marginbridge(stream);
  const acct = (id: number): string => "0x" + (id % accounts).toString(16).padStart(40, "0");
  const out: Recorded = { rows: [], fills: [] };
  const sideOf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    engine.run(i);
    const k = stream.kind[i];
    const id = stream.id[i];
    const seq = seq0 + i + 1;
    const ts = t0 + Math.floor((i * 1_000) / rate);
    const cmd =
      k === Op.Cancel
        ? { kind: "cancel", id, account: acct(id) }
        : k === Op.Modify
          ? { kind: "modify", id, account: acct(id), price: stream.price[i] }
          : k === Op.Market
            ? { kind: "market", id, account: acct(id), side: stream.side[i], qty: stream.qty[i] }
            : {
                kind: "limit",
                id,
                account: acct(id),
                side: stream.side[i],
                price: stream.price[i],
                qty: stream.qty[i],
              };
    if (k !== Op.Cancel && k !== Op.Modify) sideOf.set(id, stream.side[i]);
    out.rows.push({ seq, entry: JSON.stringify({ seq, ts, cmd }) });
    engine.lastFills().forEach(([makerId, price, qty], j) => {
      const tradeId = `${BOOK}:${seq}-${j + 1}`;
      const common = { tradeId, instrument: BOOK, price: BigInt(price), quantity: BigInt(qty), seq, idx: j + 1 };
      const takerSide = stream.side[i] === 0 ? "buy" : "sell";
      out.fills.push({ ...common, role: "taker", account: acct(id), orderId: id, side: takerSide });
      out.fills.push({
        ...common,
        role: "maker",
        account: acct(makerId),
        orderId: makerId,
        side: takerSide === "buy" ? "sell" : "buy",
      });
    });
  }
  return out;
}

function rulesInProcess(r: Recorded): Record<string, unknown> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const monitor = new FlowMonitor(journalRules(flowRules()), flowRules().windowMs);
  const stamped = r.rows.map((row) => JSON.parse(row.entry) as Stamped);
  const events = flowEvents(BOOK, stamped, r.fills);
  let findings = 0;
  for (const e of events) findings += monitor.feed(e).length;
  findings += monitor.closeDue(Number.MAX_SAFE_INTEGER).length;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return {
    path: "rules in process (JSON parse + events + rules)",
    journal_entries: r.rows.length,
    events: events.length,
    entries_per_s: Math.round(r.rows.length / s),
    events_per_s: Math.round(events.length / s),
    events_per_cpu_s: Math.round(events.length / ((cpu.user + cpu.system) / 1e6)),
    findings,
  };
}

async function write(store: Store, r: Recorded, from: number, to: number): Promise<void> {
  const rows = r.rows.slice(from, to);
  if (rows.length === 0) return;
  const lo = rows[0].seq;
  const hi = rows[rows.length - 1].seq;
  const fills = r.fills.filter((f) => f.seq >= lo && f.seq <= hi);
  await store.transaction(async (tx) => {
    await tx.orderbook.appendJournal(BOOK, rows);
    await tx.orderbook.recordFills(fills);
  });
}

async function storeJob(r: Recorded, dir: string): Promise<Record<string, unknown>> {
  const store = await openStore({ engine: "sqlite", path: path.join(dir, "job.db") });
  try {
    for (let i = 0; i < r.rows.length; i += 5_000) await write(store, r, i, i + 5_000);
    const job = new FlowSurveillance(store, { rules: flowRules(), tiers: ["standard", "flagged"], log: silentLogger });
    const t0 = process.hrtime.bigint();
    const out = await job.run(Number.MAX_SAFE_INTEGER);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return {
      path: "store job (SQLite: read journal + fills, rules, raise alerts)",
      journal_entries: r.rows.length,
      events: out.events,
      entries_per_s: Math.round(r.rows.length / s),
      events_per_s: Math.round(out.events / s),
      findings: out.findings,
      alerts: out.raised,
    };
  } finally {
    await store.close();
  }
}

async function paced(rate: number, seconds: number, accounts: number, seed: number, dir: string) {
  const store = await openStore({ engine: "sqlite", path: path.join(dir, "paced.db") });
  const r = record(Math.ceil(rate * seconds), accounts, seed + 1, Date.now(), rate);
  const job = new FlowSurveillance(store, {
    rules: flowRules(),
    tiers: ["standard", "flagged"],
    log: silentLogger,
    lagMs: 0, // journal rows and their fills are written in one transaction here
  });
  let written = 0;
  let maxLag = 0;
  let runs = 0;
  let done = false;
  const start = Date.now();
  const writer = (async () => {
    while (written < r.rows.length) {
      // at most 20 ms of the rate per write: a writer that fell behind catches up at its own pace, not in one
      // transaction of everything due (which would read as the job's lag)
      const due = Math.min(
        r.rows.length,
        Math.floor(((Date.now() - start) * rate) / 1_000),
        written + Math.ceil(rate / 50),
      );
      if (due > written) {
        await write(store, r, written, due);
        written = due;
      }
      await new Promise((res) => setTimeout(res, 10));
    }
    done = true;
  })();
  const reader = (async () => {
    for (;;) {
      await job.run(Date.now());
      runs++;
      const pos = job.positions().get(`journal:${BOOK}`) ?? 0;
      maxLag = Math.max(maxLag, written - pos);
      if (done && pos >= r.rows.length) return;
      await new Promise((res) => setImmediate(res));
    }
  })();
  await Promise.all([writer, reader]);
  const wall = (Date.now() - start) / 1_000;
  await store.close();
  return {
    path: "paced: writer at the book's rate into SQLite, the job back to back",
    book_rate: rate,
    seconds: Math.round(wall * 100) / 100,
    journal_entries: r.rows.length,
    written_per_s: Math.round(r.rows.length / wall),
    job_runs: runs,
    // the writer shares the process (and the cores) with the job: what it reached is the rate the job was given
    writer_reached_rate: wall < seconds * 1.1,
    max_lag_entries: maxLag,
    max_lag_ms: Math.round((maxLag * wall * 1_000) / r.rows.length),
    kept_up: maxLag <= Math.max(1, r.rows.length / wall),
  };
}

export async function main(args: string[]): Promise<void> {
  const n = Number(arg(args, "--ops", "200000"));
  const accounts = Number(arg(args, "--accounts", "500"));
  const rate = Number(arg(args, "--book-rate", "147000"));
  const seconds = Number(arg(args, "--seconds", "10"));
  const seed = Number(arg(args, "--seed", "20260101"));
  const dir = mkdtempSync(path.join(tmpdir(), "mb-bench-surv-"));
  try {
    const r = record(n, accounts, seed, 1_800_000_000_000, rate);
    const line = (x: Record<string, unknown>): void =>
      console.log(JSON.stringify({ bench: "surveillance", accounts, ...x }));
    line(rulesInProcess(r));
    line(await storeJob(r, dir));
    if (!args.includes("--no-paced")) line(await paced(rate, seconds, accounts, seed, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
