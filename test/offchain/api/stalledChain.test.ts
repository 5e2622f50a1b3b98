import { expect } from "chai";
import { Wallet } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiClient, createApiKey } from "../../../offchain/api";
import { startService, type Service } from "../../../offchain/main";
import { orderToJson, settlementDomain, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import { DEV_KEYS, parseConfig } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { PLATFORM_RISK_LIMITS } from "../../../scripts/lib/riskLimits";
import { CutProxy } from "../../helpers/cutProxy";
import { startDevChain, type DevChain } from "../../helpers/devChain";

const CHAIN_PORT = 8619;
const PROXY_PORT = 8620;
const API_PORT = 18133;
/** What "a few seconds" means here: the default JSON-RPC deadline (4 s) plus the machine's load. */
const FAST_MS = 6_500;

interface Health {
  status: string;
  ready: boolean;
  checks: { chain?: { ok: boolean; head: number | null; lagBlocks: number | null; indexedBlock: number | null } };
}

/**
 * A stalled chain (the JSON-RPC connection accepted, nothing answered) with the default configuration: account,
 * pool, order and reserves requests answer 503 CHAIN_UNAVAILABLE within a few seconds instead of hanging for the
 * stall; liveness stays up, readiness goes down and reports the chain; all recovers when the node answers again.
 */
describe("a stalled chain answers fast", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let proxy: CutProxy;
  let service: Service;
  let dir: string;
  let client: ApiClient;
  let provider: ApiClient;
  let trader: ReturnType<typeof Wallet.createRandom>;

  before(async function () {
    dev = await startDevChain(CHAIN_PORT);
    proxy = new CutProxy(PROXY_PORT, dev.chain.url);
    await proxy.up();
    dir = mkdtempSync(path.join(tmpdir(), "mb-stall-"));
    const config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      chain: {
        rpcUrl: proxy.url,
        network: "localhost",
        deploymentsDir: dev.deploymentsDir,
        confirmations: 1,
        pollIntervalMs: 200,
      },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
    });
    service = await startService(config, {
      deployment: dev.record,
      demoKeys: true,
      log: silentLogger,
      orderbook: { limits: PLATFORM_RISK_LIMITS },
    });
    trader = Wallet.createRandom();
    const key = await createApiKey(service.store, config.api.secretKey, {
      role: "client",
      subject: trader.address,
      label: "stall",
    });
    client = new ApiClient(service.url, key);
    provider = new ApiClient(service.url, service.demoKeys.capital_provider);
  });
  after(async function () {
    proxy?.resume();
    await service?.stop();
    await proxy?.down();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function order(): Promise<unknown> {
    const o: SignedOrderFields = {
      account: trader.address,
      instrument: dev.record.contracts.mbBANK,
      side: 0,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 3600),
      limitPrice: 10_000_000n,
      quantity: 1n,
      nonce: BigInt(Date.now()),
    };
    const sig = await signOrder(trader, settlementDomain(dev.record.chainId, dev.record.contracts.SettlementHub), o);
    return { order: orderToJson(o), signature: sig };
  }

  const later = <T>(ms: number, fn: () => Promise<T>): Promise<T> =>
    new Promise((resolve, reject) => setTimeout(() => fn().then(resolve, reject), ms));

  const timed = async <T>(p: Promise<T>): Promise<{ ms: number; r: T }> => {
    const started = performance.now();
    const r = await p;
    return { ms: Math.round(performance.now() - started), r };
  };

  it("answers 503 CHAIN_UNAVAILABLE within a few seconds while the node stalls, and says so in readiness", async function () {
    let healthy = await client.get<Health>("/v1/health/ready");
    for (let i = 0; i < 100 && healthy.body.checks?.chain?.indexedBlock == null; i++) {
      await new Promise((r) => setTimeout(r, 100)); // the indexer's first step
      healthy = await client.get<Health>("/v1/health/ready");
    }
    expect(healthy.status, JSON.stringify(healthy.body)).to.equal(200);
    const body = await order();
    proxy.pause();
    const stallStarted = performance.now();
    const [account, pool, placed, epochs, health, ready, live] = await Promise.all([
      timed(client.get<{ error: { code: string } }>("/v1/accounts/me")),
      timed(provider.get<{ error: { code: string } }>("/v1/pool")),
      timed(client.post<{ error: { code: string } }>("/v1/orders", body)),
      timed(client.get<{ error: { code: string } }>("/v1/reserves/epochs")),
      // Health is probed at most once a second: asked once the last healthy probe is older than that.
      later(1_200, () => timed(client.get<Health>("/v1/health"))),
      later(1_200, () => timed(client.get<{ error: { code: string; details: Health } }>("/v1/health/ready"))),
      timed(client.get<{ status: string }>("/v1/health/live")),
    ]);
    const figures = { account, pool, placed, epochs, health, ready, live };
    console.log(
      `    stalled: ${Object.entries(figures)
        .map(([k, v]) => `${k} ${v.r.status} in ${v.ms} ms`)
        .join(", ")}`,
    );
    for (const [name, x] of Object.entries({ account, pool, placed, epochs })) {
      expect([name, x.r.status, (x.r.body as { error: { code: string } }).error.code]).to.deep.equal([
        name,
        503,
        "CHAIN_UNAVAILABLE",
      ]);
      expect(x.ms, name).to.be.lessThan(FAST_MS);
    }
    expect([live.r.status, live.r.body.status]).to.deep.equal([200, "live"]);
    expect(live.ms).to.be.lessThan(1_000);
    expect([health.r.status, health.r.body.status, health.r.body.ready]).to.deep.equal([200, "degraded", false]);
    expect(health.r.body.checks.chain!.ok).to.equal(false);
    expect([ready.r.status, ready.r.body.error.code]).to.deep.equal([503, "NOT_READY"]);
    expect(ready.ms).to.be.lessThan(FAST_MS);
    // The stall is still going on: every answer came while the node was silent.
    expect(proxy.heldCount).to.be.greaterThan(0);
    expect(performance.now() - stallStarted).to.be.lessThan(FAST_MS + 1_200);

    proxy.resume();
    let recovered = await client.get<Health>("/v1/health/ready");
    for (let i = 0; i < 50 && (recovered.status !== 200 || recovered.body.checks.chain?.lagBlocks == null); i++) {
      await new Promise((r) => setTimeout(r, 200));
      recovered = await client.get<Health>("/v1/health/ready");
    }
    expect(recovered.status).to.equal(200);
    const chain = recovered.body.checks.chain!;
    expect(chain.ok).to.equal(true);
    expect(chain.head).to.be.a("number");
    expect(chain.lagBlocks).to.equal(chain.head! - chain.indexedBlock!);
    expect((await client.get("/v1/accounts/me")).status).to.equal(200);
    expect((await provider.get("/v1/pool")).status).to.equal(200);
  });
});
