/**
 * Measures one engine on one stream in a fresh process (so neither engine's garbage, JIT state or memory skews
 * the other): a short warm-up on a throw-away book, a throughput pass (whole stream, no per-op timing), then a
 * latency pass on a fresh book (each operation timed). Prints one JSON object.
 * With engine `marginbridge+journal` it runs the service path instead (see service.ts).
 * Usage: ts-node --transpile-only bench/orderbook/worker.ts <stream file> <marginbridge|nodejs-order-book|marginbridge+journal> [window]
 */
import { performance } from "node:perf_hooks";
import { type BenchEngine, marginbridge, nodejsOrderBook } from "./engines";
import { serviceRun } from "./service";
import { load, type Stream } from "./stream";

function make(name: string, s: Stream): BenchEngine {
  return name === "marginbridge" ? marginbridge(s) : nodejsOrderBook(s);
}

async function main(): Promise<void> {
  const [file, engine, window, journalKind] = process.argv.slice(2);
  const s = load(file);
  if (engine === "marginbridge+journal") {
    process.stdout.write(
      `${JSON.stringify(await serviceRun(s, Number(window ?? 2048), journalKind === "sqlite" ? "sqlite" : "file"))}\n`,
    );
    return;
  }
  const warm = make(engine, s);
  for (let i = 0; i < Math.min(s.n, 200_000); i++) warm.run(i);

  const e = make(engine, s);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < s.n; i++) e.run(i);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rss = process.memoryUsage().rss;

  const l = make(engine, s);
  const lat = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) {
    const a = performance.now();
    l.run(i);
    lat[i] = performance.now() - a;
  }
  lat.sort();
  const us = (q: number): number => Math.round(lat[Math.min(s.n - 1, Math.floor(q * s.n))] * 1000 * 100) / 100;
  process.stdout.write(
    `${JSON.stringify({
      ops_per_s: Math.round(s.n / seconds),
      // per CPU-second: robust to other processes taking the core
      ops_per_cpu_s: Math.round(s.n / ((cpu.user + cpu.system) / 1e6)),
      p50_us: us(0.5),
      p99_us: us(0.99),
      rss_mb: Math.round(rss / 1048576),
    })}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
