/**
 * npm run bench -- orderbook [--ops N] [--seed S] [--stream default|deep] [--repeat 3] [--window 2048] [--no-journal]
 *
 * For each seeded stream (default, and deep: the same mix with about ten times as many resting orders):
 * - runs the engine alone (no I/O) and `nodejs-order-book` on the same stream, each in its own fresh process,
 *   alternately `--repeat` times, keeping each engine's best run;
 * - checks in lockstep that both give the same acceptance, fills and best bid/ask after every operation and the
 *   same final depth (self-trade prevention off);
 * - runs the full service path (in a fresh process too): edge validation → pre-trade risk → engine → file journal
 *   (group commit, fdatasync) → acknowledgement, and reports acknowledged orders/s.
 * Prints one JSON line per result.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { marginbridge, nodejsOrderBook } from "./orderbook/engines";
import type { ServiceResult } from "./orderbook/service";
import { generate, save } from "./orderbook/stream";
import { verify } from "./orderbook/verify";

interface Result {
  ops_per_s: number;
  ops_per_cpu_s?: number;
  p50_us: number;
  p99_us: number;
  rss_mb: number;
}

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

function measure(file: string, engine: string, ...extra: string[]): Result {
  const tsNode = require.resolve("ts-node/dist/bin.js");
  const worker = path.join(__dirname, "orderbook", "worker.ts");
  const r = spawnSync(process.execPath, [tsNode, "--transpile-only", worker, file, engine, ...extra], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`worker ${engine} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as Result;
}

export async function main(args: string[]): Promise<void> {
  const n = Number(arg(args, "--ops", "1000000"));
  const seed = Number(arg(args, "--seed", "20260101"));
  const only = arg(args, "--stream", "");
  const window = Number(arg(args, "--window", "2048"));
  const repeat = Number(arg(args, "--repeat", "3"));
  const dir = mkdtempSync(path.join(tmpdir(), "mb-bench-streams-"));
  try {
    // resting targets chosen so the deep stream averages about ten times the default's resting orders
    for (const [name, resting] of [
      ["default", 1_000],
      ["deep", 16_000],
    ] as const) {
      if (only !== "" && only !== name) continue;
      const { stream, stats } = generate(name, n, resting, seed);
      const file = path.join(dir, `${name}.bin`);
      save(stream, file);
      const verdict = verify(stream, marginbridge(stream), nodejsOrderBook(stream));
      // alternate the engines and keep each one's best run: on shared cores the best run is the least disturbed
      let ours = measure(file, "marginbridge");
      let theirs = measure(file, "nodejs-order-book");
      for (let k = 1; k < repeat; k++) {
        const a = measure(file, "marginbridge");
        if (a.ops_per_s > ours.ops_per_s) ours = a;
        const b = measure(file, "nodejs-order-book");
        if (b.ops_per_s > theirs.ops_per_s) theirs = b;
      }
      const cpuRatio = (ours.ops_per_cpu_s ?? 0) / (theirs.ops_per_cpu_s ?? 1);
      const line = (engine: string, r: Result, extra: Record<string, unknown> = {}) =>
        console.log(
          JSON.stringify({ bench: "orderbook", stream: name, engine, ...r, identical: verdict.identical, ...extra }),
        );
      line("marginbridge", ours, {
        ops: n,
        runs: repeat,
        speedup: Math.round((ours.ops_per_s / theirs.ops_per_s) * 10) / 10,
        // the same ratio per CPU-second: what the speedup is when other processes share the cores
        speedup_cpu: Math.round(cpuRatio * 10) / 10,
        avg_resting: stats.avgResting,
        avg_levels: stats.avgLevels,
        fills: verdict.fills,
        mix_pct: stats.mix,
      });
      line("nodejs-order-book", theirs);
      if (!verdict.identical)
        console.log(JSON.stringify({ bench: "orderbook", stream: name, mismatch: verdict.mismatch }));
      if (!args.includes("--no-journal")) {
        const journals: Array<["file" | "sqlite", string]> = [
          ["file", "file, group commit, fdatasync"],
          ["sqlite", "SQLite store (WAL, synchronous=NORMAL), group commit: one transaction per group"],
        ];
        for (const [kind, journal] of journals) {
          if (kind === "sqlite" && args.includes("--no-sqlite")) continue;
          const svc = measure(file, "marginbridge+journal", String(window), kind) as unknown as ServiceResult;
          console.log(
            JSON.stringify({
              bench: "orderbook",
              stream: name,
              engine: "marginbridge+journal",
              ops_per_s: svc.ops_per_s,
              acked_orders_per_s: svc.ops_per_s,
              acked_orders_per_cpu_s: svc.cpu_ops_per_s,
              p50_us: svc.p50_us,
              p99_us: svc.p99_us,
              rss_mb: svc.rss_mb,
              identical: verdict.identical,
              journal,
              window,
              fsync_groups: svc.groups,
              accepted: svc.acked,
            }),
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
