/**
 * npm run bench -- api [--orders 6000] [--connections 32] [--pipelining 1] [--rounds 4]
 *
 * Authenticated order submissions over HTTP keep-alive (autocannon) against the running service: a real hardhat
 * node with the full deployment (SettlementHub domain), the service in this process on SQLite with the order book
 * on the store journal and pre-trade risk (in-memory source: one verified, funded client). Every request is an
 * HMAC-signed POST /v1/orders carrying a pre-signed EIP-712 order (unique nonce), validated by zod, signature
 * recovered (OrderVerifier, libsecp256k1), risk-checked, journaled (group commit) and acknowledged; the orders
 * are non-crossing limits far from the touch, so the book only rests them. Beside it, in the same run: a bare express endpoint
 * (express.json, 201) receiving the same bodies; the two take turns in `rounds` slices of the stream. JSON lines:
 *   {"bench":"api","target":"orders"|"bare-express","req_per_s":…,"p99_ms":…,"errors":…} (orders adds of_bare)
 * The load generator runs in the same process as the server (both targets alike), so figures are per shared core.
 */
import express from "express";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { createApiKey, signedHeaders } from "../offchain/api";
import { startService } from "../offchain/main";
import { InMemoryRiskState, MarginState, PreTradeRisk } from "../offchain/orderbook";
import { orderToJson, settlementDomain, signOrder, type SignedOrderFields } from "../offchain/settlement/orders";
import { DEV_KEYS, parseConfig } from "../offchain/shared/config";
import { silentLogger } from "../offchain/shared/logger";
import { deployAll, devRoleHolders } from "../scripts/deploy/index";
import { startLocalChain } from "../scripts/lib/localChain";

const CHAIN_PORT = 8772;
const API_PORT = 18772;
const TICK = 10_000n;

interface AutocannonResult {
  requests: { average: number };
  latency: { p99: number };
  errors: number;
  non2xx: number;
  "2xx": number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no types
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require("autocannon") as Autocannon;

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

export async function main(args: string[]): Promise<void> {
  const total = arg(args, "orders", 6_000);
  const connections = arg(args, "connections", 32);
  const pipelining = arg(args, "pipelining", 1);
  const rounds = Math.max(1, arg(args, "rounds", 4));
  const dir = mkdtempSync(path.join(tmpdir(), "mb-bench-api-"));
  const chain = await startLocalChain(CHAIN_PORT);
  try {
    const signers = await Promise.all(Array.from({ length: 10 }, (_, i) => chain.provider.getSigner(i)));
    const record = await deployAll(
      { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
      "localhost",
    );
    const client = Wallet.createRandom();
    const account = client.address;
    const spec = {
      id: "mbBANK",
      base: record.contracts.mbBANK,
      baseDecimals: 0,
      quote: record.contracts.mbCNY,
      quoteDecimals: 6,
      tickSize: TICK,
      lotSize: 1n,
    };
    const state = new InMemoryRiskState();
    state.setInstrument("mbBANK", { spec, sector: "fin", initialMargin: 2n * 10n ** 17n, oraclePrice: 1_000 });
    state.setAccount(account.toLowerCase(), {
      kycVerified: true,
      kycExpiresAt: 0,
      maxLeverage: 5n * 10n ** 18n,
      marginState: MarginState.Healthy,
      tier: "standard",
      chain: { cash: 10n ** 18n, debt: 0n, positions: new Map([["mbBANK", 10n ** 9n]]) },
      unsettled: { cash: 0n, positions: new Map() },
    });
    const risk = new PreTradeRisk(state, {
      priceBandBps: 2_000,
      maxInstrumentExposure: 10n ** 20n,
      maxSectorExposure: 10n ** 20n,
      maxAccountExposure: 10n ** 20n,
      tiers: {
        standard: {
          maxLeverage: 10n ** 19n,
          maxOrdersPerSecond: 1e9,
          maxOrdersPerDay: 1e9,
          maxNotionalPerDay: 10n ** 30n,
        },
      },
    });
    const config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      chain: { rpcUrl: chain.url, network: "localhost", confirmations: 1, pollIntervalMs: 60_000 },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey, rateLimitPerMinute: 100_000_000 },
    });
    const service = await startService(config, {
      deployment: record,
      log: silentLogger,
      orderbook: { risk, instruments: [spec], snapshotEvery: 0 },
    });
    try {
      const key = await createApiKey(service.store, Buffer.from(DEV_KEYS.apiSecretKey, "hex"), {
        role: "client",
        subject: account,
        label: "bench",
      });
      // pre-sign the pool: bids 8.50–8.99 and asks 11.01–11.50 (the oracle is 10.00), never crossing
      const domain = settlementDomain(record.chainId, record.contracts.SettlementHub);
      const expiry = BigInt(Math.floor(Date.now() / 1000) + 3600);
      const bodies: string[] = [];
      const t0 = performance.now();
      for (let i = 0; i < total * 2; i++) {
        const side = (i % 2) as 0 | 1;
        const order: SignedOrderFields = {
          account,
          instrument: spec.base,
          side,
          expiry,
          limitPrice: (side === 0 ? 850n + BigInt(i % 50) : 1_101n + BigInt(i % 50)) * TICK,
          quantity: 1n + BigInt(i % 7),
          nonce: BigInt(i + 1),
        };
        const sig = await signOrder(client, domain, order);
        bodies.push(JSON.stringify({ order: orderToJson(order), signature: sig }));
      }
      process.stderr.write(`pre-signed ${bodies.length} orders in ${Math.round(performance.now() - t0)} ms\n`);

      const bare = express();
      bare.use(express.json({ limit: "16kb" }));
      bare.post("/v1/orders", (_req, res) => void res.status(201).json({ accepted: true }));
      const bareServer = await new Promise<import("node:http").Server>((resolve) => {
        const s = bare.listen(0, "127.0.0.1", () => resolve(s));
      });
      const barePort = (bareServer.address() as AddressInfo).port;

      interface Tally {
        ok: number;
        failed: number;
        seconds: number;
        p99: number[];
      }
      const tally = (): Tally => ({ ok: 0, failed: 0, seconds: 0, p99: [] });
      const totals = { "bare-express": tally(), orders: tally() };
      const run = async (target: "orders" | "bare-express", url: string, pool: string[]): Promise<void> => {
        // The load generator shares this process: sign every request before the clock starts, so the measured
        // window holds the server's work (HMAC check, validation, signature recovery, risk, journal), not the
        // client's. The timestamps stay well inside the service's window (the run lasts seconds).
        const headers = pool.map((body) =>
          target === "orders"
            ? signedHeaders({ keyId: key.keyId, secret: key.secret, method: "POST", path: "/v1/orders", body })
            : { "content-type": "application/json" },
        );
        let next = 0;
        const res = await autocannon({
          url,
          connections,
          pipelining,
          amount: pool.length,
          requests: [
            {
              method: "POST",
              path: "/v1/orders",
              setupRequest: (req: Record<string, unknown>) => {
                const i = next++ % pool.length;
                return { ...req, body: pool[i], headers: headers[i] };
              },
            },
          ],
        });
        const t = totals[target];
        t.ok += res["2xx"];
        t.failed += res.errors + res.non2xx;
        t.seconds += res.duration;
        t.p99.push(res.latency.p99);
      };
      // The two targets take turns in `rounds` slices, so a change in the machine's load during the run weighs on
      // both alike instead of on whichever ran second.
      const slice = Math.ceil(total / rounds);
      for (let r = 0; r < rounds; r++) {
        const from = r * slice;
        const to = Math.min(total, from + slice);
        if (from >= to) break;
        await run("bare-express", `http://127.0.0.1:${barePort}`, bodies.slice(from, to));
        await run("orders", service.url, bodies.slice(total + from, total + to));
      }
      const rate = (t: Tally): number => t.ok / t.seconds;
      for (const target of ["bare-express", "orders"] as const) {
        const t = totals[target];
        console.log(
          JSON.stringify({
            bench: "api",
            target,
            req_per_s: Math.round(rate(t)),
            ...(target === "orders"
              ? { of_bare: Math.round((rate(t) / rate(totals["bare-express"])) * 100) / 100 }
              : {}),
            p99_ms: Math.max(...t.p99),
            errors: t.failed,
            requests: t.ok + t.failed,
            connections,
            pipelining,
            rounds,
          }),
        );
      }
      const engine = service.orderbook!.service("mbBANK").engine;
      process.stderr.write(
        `book: seq ${engine.seq}, ${engine.book.depth(0).length} bid levels, ${engine.book.depth(1).length} ask levels\n`,
      );
      await new Promise((r) => bareServer.close(r));
    } finally {
      await service.stop();
    }
  } finally {
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
