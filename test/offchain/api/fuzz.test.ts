import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Pool, errors as undiciErrors } from "undici";
import { MAX_JSON_DEPTH } from "../../../offchain/api/json";
import { startService, type Service } from "../../../offchain/main";
import { DEMO_ASSETS, MarketSimulator, marketSimulatorRoutes } from "../../../offchain/oracle";
import { DEV_KEYS, DEV_OPERATOR_KEY, parseConfig } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { openSqlite } from "../../../offchain/store/sqlite";
import { PLATFORM_RISK_LIMITS } from "../../../scripts/lib/riskLimits";
import { DEV_PRIVATE_KEYS, startDevChain, type DevChain } from "../../helpers/devChain";
import {
  RequestGenerator,
  openSchemas,
  operationsOf,
  type FuzzKey,
  type FuzzRequest,
  type Operation,
} from "../../helpers/openapiFuzz";

const CHAIN_PORT = 8616;
const API_PORT = 18112;
const REQUESTS = 10_000;
const CONCURRENCY = 32;
/**
 * Tables the service's background loops write while the fuzz runs (indexers, leases; the surveillance jobs' cursors,
 * sanctions screens, review marks, and the alerts and case files only those jobs raise); every other must not move.
 */
const BACKGROUND =
  /^(chain_|reserves_accounts$|job_locks$|schema_migrations$|surveillance_(cursors|alerts|cases)$|sanctions_screens$|equity_marks$)/;

/**
 * The malformed-input fuzz, driven by the service's own OpenAPI document: the full service (every capability,
 * the development market routes too) on a real hardhat node and SQLite, every operation of /openapi.json hit with
 * requests that each carry a defect the document forbids. Every answer must be a 4xx and no table may change.
 */
describe("API fuzz: malformed requests to every route of the OpenAPI document", function () {
  this.timeout(300_000);
  let dev: DevChain;
  let service: Service;
  let dir: string;
  let ops: Operation[];
  let doc: { paths: Record<string, Record<string, unknown>> };

  before(async function () {
    dev = await startDevChain(CHAIN_PORT);
    dir = mkdtempSync(path.join(tmpdir(), "mb-fuzz-"));
    const config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      chain: {
        rpcUrl: dev.chain.url,
        network: "localhost",
        deploymentsDir: dev.deploymentsDir,
        confirmations: 1,
        pollIntervalMs: 500,
        kycOfficerKey: DEV_PRIVATE_KEYS[1],
        reservePublisherKey: DEV_KEYS.reservePublisherKey,
      },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey, rateLimitPerMinute: 10_000_000 },
      settlement: { operatorKey: DEV_OPERATOR_KEY },
      keeper: { enabled: false },
    });
    const simulator = new MarketSimulator({ seed: 7, assets: DEMO_ASSETS, stepSeconds: 60 });
    service = await startService(config, {
      deployment: dev.record,
      demoKeys: true,
      log: silentLogger,
      orderbook: { limits: PLATFORM_RISK_LIMITS },
      extraRoutes: [
        marketSimulatorRoutes(
          simulator,
          DEMO_ASSETS.map((a) => a.symbol),
        ),
      ],
    });
    doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as typeof doc;
    ops = operationsOf(doc as never);
  });

  after(async function () {
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function rowCounts(): Promise<Record<string, number>> {
    const db = openSqlite(path.join(dir, "marginbridge.sqlite"));
    try {
      const tables = await db.query<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      );
      const out: Record<string, number> = {};
      for (const { name } of tables) {
        if (BACKGROUND.test(name)) continue;
        out[name] = Number((await db.query(`SELECT COUNT(*) AS n FROM "${name}"`))[0].n);
      }
      return out;
    } finally {
      await db.close();
    }
  }

  it("declares a closed schema for every input of every route", function () {
    expect(ops.length).to.be.greaterThan(40);
    expect(openSchemas(ops)).to.deep.equal([]);
  });

  it(`answers ${REQUESTS} malformed requests spread over every route with 4xx only and changes no table`, async function () {
    const keys: Record<string, FuzzKey> = {};
    for (const [role, k] of Object.entries(service.demoKeys)) keys[role] = { keyId: k.keyId, secret: k.secret, role };
    const methodsByPath = new Map<string, Set<string>>();
    for (const op of ops) {
      const set = methodsByPath.get(op.path) ?? new Set<string>();
      set.add(op.method);
      methodsByPath.set(op.path, set);
    }
    const gen = new RequestGenerator({ seed: 20261123, keys, maxDepth: MAX_JSON_DEPTH, methodsByPath });
    // Round-robin over the operations, so each gets its share however many there are.
    const requests: FuzzRequest[] = Array.from({ length: REQUESTS }, (_, i) => gen.generate(ops[i % ops.length]));

    await new Promise((r) => setTimeout(r, 1000)); // the first indexer and job runs settle
    const before = await rowCounts();
    const pool = new Pool(service.url, { connections: CONCURRENCY });
    const byRoute = new Map<string, Map<number, number>>();
    const byDefect = new Map<string, number>();
    const failures: string[] = [];
    let sent = 0;
    let next = 0;
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const r = requests[next++];
        let status: number;
        try {
          const res = await pool.request({
            path: r.path,
            method: r.method as "GET",
            headers: r.headers,
            body: r.body,
          });
          await res.body.arrayBuffer();
          status = res.statusCode;
        } catch (err) {
          // A request the client itself refuses to send (invalid header bytes) never reaches the server.
          if (err instanceof undiciErrors.InvalidArgumentError) continue;
          throw err;
        }
        sent++;
        const route = `${r.op.method} ${r.op.path}`;
        const statuses = byRoute.get(route) ?? new Map<number, number>();
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        byRoute.set(route, statuses);
        byDefect.set(r.defect, (byDefect.get(r.defect) ?? 0) + 1);
        if (status >= 500 || status < 400)
          failures.push(`${status} ${r.defect} ${r.method} ${r.path} ${r.body?.slice(0, 120) ?? ""}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await pool.close();
    const elapsed = performance.now() - started;
    const statusTotals = new Map<number, number>();
    for (const m of byRoute.values()) for (const [s, n] of m) statusTotals.set(s, (statusTotals.get(s) ?? 0) + n);
    console.log(
      `    ${sent} requests over ${ops.length} operations in ${Math.round(elapsed)} ms ` +
        `(${Math.round((sent / elapsed) * 1000)}/s); statuses ${JSON.stringify(Object.fromEntries(statusTotals))}; ` +
        `defects ${JSON.stringify(Object.fromEntries(byDefect))}`,
    );
    expect(failures.slice(0, 10)).to.deep.equal([]);
    expect(sent).to.be.greaterThanOrEqual(REQUESTS * 0.99);
    // Every operation of the document was fuzzed.
    const missed = ops.map((o) => `${o.method} ${o.path}`).filter((k) => (byRoute.get(k)?.size ?? 0) === 0);
    expect(missed).to.deep.equal([]);
    expect(await rowCounts()).to.deep.equal(before);
  });
});
