/**
 * The service path of the benchmark, run in its own process by worker.ts: untrusted JSON-shaped commands →
 * decodeCommand → PreTradeRisk → engine → FileJournal (group commit, fdatasync) → acknowledgement, with `window`
 * commands in flight.
 */
import { openStore } from "../../offchain/store";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  BookService,
  decodeCommand,
  FileJournal,
  FileSnapshotStore,
  StoreJournal,
  StoreSnapshotStore,
  InMemoryRiskState,
  MarginState,
  PreTradeRisk,
} from "../../offchain/orderbook";
import { Op, type Stream } from "./stream";

export interface ServiceResult {
  ops_per_s: number;
  p50_us: number;
  p99_us: number;
  rss_mb: number;
  groups: number;
  acked: number;
  cpu_ops_per_s: number;
}

const SIDES = ["buy", "sell"] as const;

/** The stream's operations as the untrusted JSON the API would receive. */
function wire(s: Stream, i: number): unknown {
  const side = SIDES[s.side[i]];
  switch (s.kind[i] as Op) {
    case Op.Cancel:
      return { kind: "cancel", id: s.id[i], account: "b" };
    case Op.Modify:
      return { kind: "modify", id: s.id[i], account: "b", price: s.price[i] };
    case Op.Market:
      return { kind: "market", id: s.id[i], account: "b", side, qty: s.qty[i] };
    default: {
      const k = s.kind[i] as Op;
      return {
        kind: "limit",
        id: s.id[i],
        account: "b",
        side,
        price: s.price[i],
        qty: s.qty[i],
        tif: k === Op.Fok ? "FOK" : k === Op.Ioc ? "IOC" : "GTC",
        ...(k === Op.PostOnly ? { postOnly: true } : {}),
      };
    }
  }
}

/** The service path with validation, risk and the durable journal; `window` commands in flight (group commit). */
export async function serviceRun(
  s: Stream,
  window: number,
  journalKind: "file" | "sqlite" = "file",
): Promise<ServiceResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "mb-bench-orderbook-"));
  try {
    const state = new InMemoryRiskState();
    const WAD = 10n ** 18n;
    state.setInstrument("BENCH", {
      spec: {
        id: "BENCH",
        base: "mbBANK",
        baseDecimals: 0,
        quote: "mbCNY",
        quoteDecimals: 6,
        tickSize: 100n,
        lotSize: 100n,
      },
      sector: "financials",
      initialMargin: WAD / 5n,
      oraclePrice: 100_000,
    });
    state.setAccount("b", {
      kycVerified: true,
      kycExpiresAt: 0,
      maxLeverage: 5n * WAD,
      marginState: MarginState.Healthy,
      tier: "standard",
      chain: { cash: 10n ** 20n, debt: 0n, positions: new Map() },
      unsettled: { cash: 0n, positions: new Map() },
    });
    const big = 10n ** 30n;
    const risk = new PreTradeRisk(state, {
      priceBandBps: 5_000,
      maxInstrumentExposure: big,
      maxSectorExposure: big,
      maxAccountExposure: big,
      tiers: {
        standard: { maxLeverage: 5n * WAD, maxOrdersPerSecond: 1e9, maxOrdersPerDay: 1e9, maxNotionalPerDay: big },
      },
    });
    const store =
      journalKind === "sqlite" ? await openStore({ engine: "sqlite", path: path.join(dir, "store.sqlite") }) : null;
    const journal = store ? await StoreJournal.open(store, "BENCH") : await FileJournal.open(path.join(dir, "journal"));
    const svc = await BookService.open({
      instrument: "BENCH",
      journal,
      snapshots: store ? new StoreSnapshotStore(store, "BENCH") : new FileSnapshotStore(path.join(dir, "snapshots")),
      risk,
      snapshotEvery: 250_000,
    });
    const lat = new Float64Array(s.n);
    let inflight = 0;
    let acked = 0;
    let wake: (() => void) | null = null;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < s.n; i++) {
      while (inflight >= window) await new Promise<void>((r) => (wake = r));
      const start = performance.now();
      const d = decodeCommand(wire(s, i));
      if (!d.ok) throw new Error(`stream op ${i} failed validation: ${d.reject}`);
      inflight++;
      void svc.submit(d.cmd).then((ack) => {
        lat[i] = performance.now() - start;
        if (ack.accepted) acked++;
        inflight--;
        const w = wake;
        wake = null;
        w?.();
      });
    }
    while (inflight > 0) await new Promise<void>((r) => (wake = r));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const rss = process.memoryUsage().rss;
    await svc.close();
    await store?.close();
    lat.sort();
    const us = (q: number): number => Math.round(lat[Math.floor(q * (s.n - 1))] * 1000 * 10) / 10;
    return {
      ops_per_s: Math.round(s.n / seconds),
      p50_us: us(0.5),
      p99_us: us(0.99),
      rss_mb: Math.round(rss / 1048576),
      groups: journal.groups,
      acked,
      // per CPU-second of this process: what one core would do if the machine were not shared
      cpu_ops_per_s: Math.round(s.n / ((cpu.user + cpu.system) / 1e6)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
