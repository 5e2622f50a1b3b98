import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { id, type HDNodeWallet } from "ethers";
import { ApiClient, createApiKey, type NewApiKey } from "../../offchain/api";
import { hardhatDevWallets } from "../../offchain/oracle";
import { settlementDomain, signOrder, type SignedOrderFields } from "../../offchain/settlement/orders";
import { openStore, type Store } from "../../offchain/store";
import { deployAll, writeDeployment } from "../../scripts/deploy/index";
import type { DeploymentRecord } from "../../scripts/deploy/types";
import { startLocalChain, type LocalChain } from "../../scripts/lib/localChain";
import {
  CollateralToken__factory,
  KycRegistry__factory,
  MarginEngine__factory,
  SettlementHub__factory,
} from "../../typechain-types";
import { type Proc, runScript, spawnProc, waitForOutput } from "../helpers/childProcess";
import { acknowledge, quizAnswers } from "../helpers/kyc";
import { createTestDatabase, type TestPostgres } from "../helpers/postgres";

const RPC_PORT = 8940;
const API_PORTS = [19400, 19401, 19402];
const CNY = 10n ** 6n;
const TICK = 10_000n; // 0.01 CNY
const SECRET = "a1".repeat(32);
const KYC_DATA_KEY = "b2".repeat(32);

/** Role holders on the stand-in network: hardhat accounts that are not the development keys the service refuses. */
const ACCOUNTS = {
  deployer: 0,
  custodian: 2,
  riskOfficer: 3,
  buyer: 10,
  seller: 11,
  kycOfficer: 13,
  operator: 14,
  reservePublisher: 15,
  reporters: [16, 17, 18],
  relayer: 19,
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000, every = 200): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * The production profile end to end: a plain `hardhat node` stands in for the permissioned network (JSON-RPC
 * only); `npm run deploy` deploys to it by environment; two `npm start` production-profile instances share one
 * fresh PostgreSQL database. Clients go through both instances' HTTP APIs; the order-book leader is killed with
 * SIGKILL and the standby takes over with every acknowledged order.
 */
describe("production profile: deploy by configuration, two instances on one PostgreSQL, leader failover (e2e)", function () {
  this.timeout(300_000);
  let pg: TestPostgres;
  let chain: LocalChain;
  let dir: string;
  let record: DeploymentRecord;
  let store: Store;
  const instances: Proc[] = [];
  let wallets: Record<number, HDNodeWallet>;
  let keys: { buyer: NewApiKey; seller: NewApiKey };
  let nonce = 1n;
  const urls = API_PORTS.map((p) => `http://127.0.0.1:${p}`);
  const started = Date.now();
  const timings: Record<string, number> = {};
  const mark = (name: string): void => void (timings[name] = Math.round((Date.now() - started) / 100) / 10);

  const key = (i: number): string => wallets[i].privateKey;
  const serviceEnv = (port: number): Record<string, string> => ({
    MB_PROFILE: "production",
    MB_NETWORK: "permissioned",
    MB_RPC_URL: chain.url,
    MB_CHAIN_ID: "31337",
    MB_DEPLOYMENTS_DIR: path.join(dir, "deployments"),
    MB_STORE: "postgres",
    MB_DATABASE_URL: (pg as { url: string }).url,
    MB_DB_POOL_SIZE: "6",
    MB_DATA_DIR: path.join(dir, `data-${port}`),
    MB_API_PORT: String(port),
    MB_API_SECRET_KEY: SECRET,
    MB_KYC_DATA_KEY: KYC_DATA_KEY,
    MB_KYC_OFFICER_KEY: key(ACCOUNTS.kycOfficer),
    MB_OPERATOR_KEY: key(ACCOUNTS.operator),
    MB_RESERVE_PUBLISHER_KEY: key(ACCOUNTS.reservePublisher),
    MB_REPORTER_KEYS: ACCOUNTS.reporters.map(key).join(","),
    MB_RELAYER_KEY: key(ACCOUNTS.relayer),
    MB_PRICE_SOURCE: path.join(dir, "prices.json"),
    MB_ORACLE_INTERVAL_MS: "1000",
    MB_LEASE_TTL_MS: "3000",
    MB_CONFIRMATIONS: "1",
    MB_POLL_INTERVAL_MS: "300",
    MB_SETTLEMENT_INTERVAL_MS: "500",
    // The hardhat node standing in for the permissioned chain is slow with a large settlement batch and answers
    // nothing else meanwhile: estimating 53–60 trades took it 3.3–3.8 s, executing them about 1 s more (a node like
    // Besu takes milliseconds). Batches of at most 25 fills keep the first batch after a restart (the whole burst
    // queued) from holding up the new leader's chain reads for seconds.
    MB_SETTLEMENT_MAX_FILLS: "25",
    MB_LOG_LEVEL: "info",
  });
  const startInstance = (port: number): Proc => runScript("scripts/start.ts", serviceEnv(port));

  async function signed(who: number, side: 0 | 1, price: bigint, qty: bigint) {
    const order: SignedOrderFields = {
      account: wallets[who].address,
      instrument: record.contracts.mbBANK,
      side,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 3600),
      limitPrice: price,
      quantity: qty,
      nonce: nonce++,
    };
    const signature = await signOrder(
      wallets[who],
      settlementDomain(record.chainId, record.contracts.SettlementHub),
      order,
    );
    return {
      order: {
        ...order,
        expiry: order.expiry.toString(),
        limitPrice: price.toString(),
        quantity: qty.toString(),
        nonce: order.nonce.toString(),
      },
      signature,
    };
  }

  const positionOf = async (url: string, k: NewApiKey, symbol: string): Promise<string | undefined> => {
    const r = await new ApiClient(url, k).get<{ positions: Array<{ token: { symbol: string }; quantity: string }> }>(
      "/v1/accounts/me",
    );
    if (r.status !== 200) return undefined;
    return r.body.positions.find((p) => p.token.symbol === symbol)?.quantity ?? "0";
  };

  before(async function () {
    pg = await createTestDatabase("mb_e2e_production");
    if ("skip" in pg) {
      console.log(`      skipped: ${pg.skip}`);
      this.skip();
    }
    dir = mkdtempSync(path.join(os.tmpdir(), "mb-production-"));
    chain = await startLocalChain(RPC_PORT);
    // A QBFT network makes a block every period; so does the stand-in (transactions are still mined at once).
    await chain.provider.send("evm_setIntervalMining", [500]);
    const all = [...new Set([...Object.values(ACCOUNTS).flat()])];
    wallets = Object.fromEntries(hardhatDevWallets(all, chain.provider).map((w, i) => [all[i], w]));
    writeFileSync(
      path.join(dir, "prices.json"),
      JSON.stringify({ prices: { mbBANK: "10.00", mbTECH: "50.00", mbSMALL: "5.00" } }),
    );
    mark("node");

    // npm run deploy, configured by the environment only.
    const deploy = spawnProc(["npm", "run", "--silent", "deploy"], {
      MB_NETWORK: "permissioned",
      MB_RPC_URL: chain.url,
      MB_CHAIN_ID: "31337",
      MB_DEPLOYER_KEY: key(ACCOUNTS.deployer),
      MB_DEPLOYMENTS_DIR: path.join(dir, "deployments"),
      MB_RISK_DELAY_SECONDS: "0",
      MB_ROLE_KYC_OFFICER: wallets[ACCOUNTS.kycOfficer].address,
      MB_ROLE_CUSTODIAN: wallets[ACCOUNTS.custodian].address,
      MB_ROLE_RISK_OFFICER: wallets[ACCOUNTS.riskOfficer].address,
      MB_ROLE_OPERATOR: wallets[ACCOUNTS.operator].address,
      MB_ROLE_RESERVE_PUBLISHER: wallets[ACCOUNTS.reservePublisher].address,
      MB_ROLE_REPORTERS: ACCOUNTS.reporters.map((i) => wallets[i].address).join(","),
    });
    expect(await deploy.exited, deploy.output()).to.equal(0);
    record = JSON.parse(readFileSync(path.join(dir, "deployments", "permissioned.json"), "utf8")) as DeploymentRecord;
    expect(record).to.include({ network: "permissioned", chainId: 31337 });
    expect(record.roles.operator).to.equal(wallets[ACCOUNTS.operator].address);
    mark("deployed");
  });

  after(async () => {
    for (const p of instances) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await Promise.all(instances.map((p) => p.exited));
    await store?.close();
    await chain?.stop();
    if (pg && "drop" in pg) await pg.drop().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`      timings (s from start): ${JSON.stringify(timings)}`);
  });

  it("refuses to start without a live deployment record, naming the deploy command", async () => {
    const env = { ...serviceEnv(API_PORTS[0]), MB_DEPLOYMENTS_DIR: path.join(dir, "nowhere") };
    const p = runScript("scripts/start.ts", env);
    instances.push(p);
    expect(await p.exited).to.equal(1);
    expect(p.output()).to.match(/npm start refused: no deployment record .*permissioned\.json.*npm run deploy/s);
    expect(p.output()).to.not.match(/local chain/);
  });

  it("runs two instances on one database: KYC, an order pair matched and settled, seen from both", async () => {
    const a = startInstance(API_PORTS[0]);
    instances.push(a);
    await waitForOutput(a, /production profile\) is running/);
    await waitForOutput(a, /order book leader/);
    const b = startInstance(API_PORTS[1]);
    instances.push(b);
    await waitForOutput(b, /production profile\) is running/);
    expect(a.output()).to.not.match(/local chain|market simulator/);
    mark("instances up");

    store = await openStore({ engine: "postgres", url: (pg as { url: string }).url, poolSize: 2 });
    const secret = Buffer.from(SECRET, "hex");
    keys = {
      buyer: await createApiKey(store, secret, {
        role: "client",
        subject: wallets[ACCOUNTS.buyer].address,
        label: "buyer",
      }),
      seller: await createApiKey(store, secret, {
        role: "client",
        subject: wallets[ACCOUNTS.seller].address,
        label: "seller",
      }),
    };

    // KYC through each instance; the KYC officer's key writes KycRegistry.
    const application = (name: string) => ({
      jurisdiction: 156,
      identity: {
        fullName: name,
        dateOfBirth: "1985-04-12",
        nationality: "CN",
        documentType: "passport",
        documentNumber: `E${name.length}${Date.now() % 1e7}`,
        homeAddress: "1 Century Avenue, Pudong, Shanghai",
      },
      questionnaire: {
        investmentExperienceYears: 2,
        annualIncomeCny: "150000",
        netAssetsCny: "300000",
        lossTolerancePct: 20,
        objective: "growth",
        understandsMarginCalls: true,
      },
      suitability: quizAnswers(),
      creditScore: 700,
    });
    const kycA = await new ApiClient(urls[0], keys.buyer).post<{ id: string; status: string }>(
      "/v1/kyc/applications",
      application("Li Wei"),
      "kyc-buyer",
    );
    expect(kycA.status, JSON.stringify(kycA.body)).to.equal(201);
    const kycB = await new ApiClient(urls[1], keys.seller).post<{ id: string; status: string }>(
      "/v1/kyc/applications",
      application("Wang Fang"),
      "kyc-seller",
    );
    expect(kycB.status, JSON.stringify(kycB.body)).to.equal(201);
    // Each client signs the risk disclosure (EIP-712) with its wallet, which approves the application.
    const ackA = await acknowledge(new ApiClient(urls[0], keys.buyer), wallets[ACCOUNTS.buyer], kycA.body.id);
    const ackB = await acknowledge(new ApiClient(urls[1], keys.seller), wallets[ACCOUNTS.seller], kycB.body.id);
    expect([ackA.body.application.status, ackB.body.application.status]).to.deep.equal(["approved", "approved"]);
    const registry = KycRegistry__factory.connect(record.contracts.KycRegistry, chain.provider);
    expect(await registry.isVerified(wallets[ACCOUNTS.buyer].address)).to.equal(true);
    // Each application is readable on the other instance.
    const seenOnB = await new ApiClient(urls[1], keys.buyer).get<{ status: string }>(
      `/v1/kyc/applications/${kycA.body.id}`,
    );
    expect(seenOnB.body.status).to.equal("approved");

    // The custodian credits the clients; each deposits into its margin account (their own transactions).
    const cash = record.tokens.find((t) => t.symbol === "mbCNY")!.address;
    const bank = record.contracts.mbBANK;
    const custodian = wallets[ACCOUNTS.custodian];
    const engine = MarginEngine__factory.connect(record.contracts.MarginEngine, chain.provider);
    const fund = async (who: number, token: string, amount: bigint): Promise<void> => {
      const w = wallets[who];
      const t = CollateralToken__factory.connect(token, custodian);
      await (await t.mint(w.address, amount, id(`e2e-${who}-${token}`))).wait();
      await (await t.connect(w).approve(record.contracts.MarginEngine, amount)).wait();
      await (await engine.connect(w).deposit(token, amount)).wait();
    };
    await fund(ACCOUNTS.buyer, cash, 100_000n * CNY);
    await fund(ACCOUNTS.seller, bank, 1_000n);
    mark("clients funded");

    // Orders: the standby refuses writes with NOT_LEADER and the leader's URL; the leader matches.
    const sell1 = await signed(ACCOUNTS.seller, 1, 1_000n * TICK, 10n);
    const atStandby = await new ApiClient(urls[1], keys.seller).post<{
      error: { code: string; details: { leader: string } };
    }>("/v1/orders", sell1);
    expect(atStandby.status).to.equal(503);
    expect(atStandby.body.error.code).to.equal("NOT_LEADER");
    expect(atStandby.body.error.details.leader).to.equal(urls[0]);
    const rest = await until("oracle prices in the leader's books", async () => {
      const r = await new ApiClient(urls[0], keys.seller).post<{ accepted: boolean; restingQuantity: string }>(
        "/v1/orders",
        sell1,
      );
      return r.status === 201 ? r : undefined;
    });
    expect(rest.body).to.include({ accepted: true, restingQuantity: "10" });
    const buy1 = await new ApiClient(urls[0], keys.buyer).post<{ accepted: boolean; filledQuantity: string }>(
      "/v1/orders",
      await signed(ACCOUNTS.buyer, 0, 1_000n * TICK, 10n),
    );
    expect(buy1.status, JSON.stringify(buy1.body)).to.equal(201);
    expect(buy1.body).to.include({ accepted: true, filledQuantity: "10" });
    mark("matched");

    // Settled on-chain by the batcher; the position is visible through both instances' read APIs.
    for (const url of urls.slice(0, 2)) {
      expect(
        await until(`settled position via ${url}`, async () => {
          const q = await positionOf(url, keys.buyer, "mbBANK");
          return q === "10" ? q : undefined;
        }),
      ).to.equal("10");
    }
    expect(await engine.balanceOf(wallets[ACCOUNTS.buyer].address, bank)).to.equal(10n);
    mark("settled");
  });

  it("kill -9 of the leader: the standby takes over within the lease time, with every acknowledged order", async () => {
    const [a, b] = instances.slice(-2);
    // An order acknowledged by the leader just before it dies.
    const sell2 = await new ApiClient(urls[0], keys.seller).post<{ accepted: boolean; orderId: number }>(
      "/v1/orders",
      await signed(ACCOUNTS.seller, 1, 1_000n * TICK, 5n),
    );
    expect(sell2.status, JSON.stringify(sell2.body)).to.equal(201);
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    await a.exited;

    const book = await until(
      "the standby to serve the order books",
      async () => {
        const r = await new ApiClient(urls[1]).get<{ asks: Array<{ price: string; quantity: string }> }>(
          "/v1/book/mbBANK",
        );
        return r.status === 200 ? r.body : undefined;
      },
      30_000,
      100,
    );
    const failoverMs = Date.now() - killedAt;
    console.log(`      order-book failover after kill -9: ${failoverMs} ms (lease ttl 3000 ms)`);
    expect(failoverMs).to.be.below(3_000 + 1_000 + 5_000);
    expect(book.asks).to.deep.equal([{ price: "10", quantity: "5", orders: 1 }]);
    await waitForOutput(b, /order book leader/);

    // The flow continues on the new leader: the acknowledged ask matches, the batcher (taken over) settles it.
    const buy2 = await new ApiClient(urls[1], keys.buyer).post<{ accepted: boolean; filledQuantity: string }>(
      "/v1/orders",
      await signed(ACCOUNTS.buyer, 0, 1_000n * TICK, 5n),
    );
    expect(buy2.status, JSON.stringify(buy2.body)).to.equal(201);
    expect(buy2.body).to.include({ accepted: true, filledQuantity: "5" });
    expect(
      await until("the second trade settled via the survivor", async () => {
        const q = await positionOf(urls[1], keys.buyer, "mbBANK");
        return q === "15" ? q : undefined;
      }),
    ).to.equal("15");
    console.log(`      settled on the survivor ${Math.round((Date.now() - killedAt) / 100) / 10} s after the kill`);
    mark("failover flow settled");
  });

  it("a paused leader (SIGSTOP) loses its lease and, resumed, cannot write: its order is fenced off, it points at the new leader", async () => {
    const b = instances.at(-1)!;
    const c = startInstance(API_PORTS[2]);
    instances.push(c);
    await waitForOutput(c, /production profile\) is running/);
    b.child.kill("SIGSTOP");
    const pausedAt = Date.now();
    try {
      await waitForOutput(c, /order book leader/, 30_000);
      console.log(`      standby took the order books ${Date.now() - pausedAt} ms after the leader paused`);
      // Sent to the paused old leader: it is handled only after the resume, when the new leader holds the lease.
      const late = new ApiClient(urls[1], keys.seller).post<{ error: { code: string } }>(
        "/v1/orders",
        await signed(ACCOUNTS.seller, 1, 1_001n * TICK, 7n),
      );
      await new Promise((r) => setTimeout(r, 300));
      b.child.kill("SIGCONT");
      const answer = await late;
      expect(answer.status, JSON.stringify(answer.body)).to.equal(503);
      expect(answer.body.error.code).to.equal("NOT_LEADER");
    } finally {
      b.child.kill("SIGCONT");
    }
    const book = await new ApiClient(urls[2]).get<{ asks: unknown[] }>("/v1/book/mbBANK");
    expect(book.status).to.equal(200);
    expect(book.body.asks, "the fenced order is in no book").to.deep.equal([]);
    const redirect = await until("the old leader to name the new one", async () => {
      const r = await new ApiClient(urls[1], keys.seller).post<{
        error: { code: string; details: { leader: string } };
      }>("/v1/orders", await signed(ACCOUNTS.seller, 1, 1_001n * TICK, 1n));
      return r.status === 503 && r.body.error.details.leader === urls[2] ? r : undefined;
    });
    expect(redirect.body.error.code).to.equal("NOT_LEADER");
    expect(b.output()).to.match(/lease (lost|taken over)/);
  });

  it("chaos: kill -9 during a burst of signed orders with idempotency keys, restart: nothing acknowledged lost, no key stuck, settling again without waiting for a lease to expire", async () => {
    // One instance with the default lease time (10 s): without taking its own leases back, a restart would wait
    // for them to expire. The instances of the earlier tests are gone.
    for (const p of instances) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await Promise.all(instances.map((p) => p.exited));
    const env = { ...serviceEnv(API_PORTS[0]), MB_LEASE_TTL_MS: "10000" };
    const url = urls[0];
    const operator = await createApiKey(store, Buffer.from(SECRET, "hex"), {
      role: "operator",
      subject: "chaos-operator",
      label: "chaos operator",
    });
    type Singleton = { name: string; state: string; holderEpoch: number | null; leaseEpoch: number };
    type Status = { instance: { id: string; epoch: number }; singletons: Singleton[] };
    const ROLES = [
      "role:orderbook",
      "job:settlement-batcher",
      "indexer:main",
      "indexer:reserves",
      "role:oracle-reporter",
    ];
    const allHeld = async (): Promise<Status | undefined> => {
      const r = await new ApiClient(url, operator).get<Status>("/v1/status");
      if (r.status !== 200) return undefined;
      const held = ROLES.every((n) => r.body.singletons.find((x) => x.name === n)?.state === "held here");
      return held ? r.body : undefined;
    };
    let d = runScript("scripts/start.ts", env);
    instances.push(d);
    await waitForOutput(d, /production profile\) is running/);
    const before = await until("every singleton on the one instance", allHeld, 30_000, 250);
    const engine = MarginEngine__factory.connect(record.contracts.MarginEngine, chain.provider);
    const hub = SettlementHub__factory.connect(record.contracts.SettlementHub, chain.provider);
    const buyer = wallets[ACCOUNTS.buyer].address;
    const bankBefore = await engine.balanceOf(buyer, record.contracts.mbBANK);

    // The burst: crossing pairs of one lot at 10.00, each request with its own Idempotency-Key.
    type Sent = { who: "buyer" | "seller"; idem: string; body: unknown; status?: number; ack?: { orderId: number } };
    const sent: Sent[] = [];
    let acked = 0;
    let killedAt = 0;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; killedAt === 0 && i < 400; i++) {
      const who = i % 2 === 0 ? ("seller" as const) : ("buyer" as const);
      const body = await signed(ACCOUNTS[who], who === "seller" ? 1 : 0, 1_000n * TICK, 1n);
      const req: Sent = { who, idem: `chaos-${i}`, body };
      sent.push(req);
      const p = new ApiClient(url, keys[who])
        .request<{ orderId: number }>("POST", "/v1/orders", { body, idempotencyKey: req.idem })
        .then(
          (r) => {
            req.status = r.status;
            if (r.status === 201) {
              req.ack = r.body;
              acked++;
            }
          },
          () => undefined, // no answer: the process died with the request in flight
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (acked >= 40 && killedAt === 0) {
        d.child.kill("SIGKILL");
        killedAt = Date.now();
      }
      await new Promise((r) => setTimeout(r, 12)); // ~40 orders/s per account, under its pre-trade order rate
    }
    if (killedAt === 0) {
      // A loaded machine: the 40th acknowledgement came after the last send (a full run saw 400 sent, none killed,
      // and waited on a live process). Kill as soon as it is in, with the rest of the burst still in flight.
      await until("40 acknowledged orders", async () => (acked >= 40 ? true : undefined), 60_000, 20).catch((err) => {
        const byStatus: Record<string, number> = {};
        for (const r of sent) byStatus[String(r.status ?? "none")] = (byStatus[String(r.status ?? "none")] ?? 0) + 1;
        throw new Error(`${(err as Error).message}: answers by status ${JSON.stringify(byStatus)}`);
      });
      d.child.kill("SIGKILL");
      killedAt = Date.now();
    }
    await d.exited;
    const restartedAt = Date.now();
    d = runScript("scripts/start.ts", env);
    instances.push(d);
    await Promise.all([...inFlight]);
    const lost = sent.filter((r) => r.status === undefined);
    console.log(
      `      burst: ${sent.length} orders sent, ${acked} acknowledged, ${lost.length} without an answer at the kill`,
    );
    expect(acked).to.be.at.least(40);

    // Settlement after the restart: the first batch the new process lands (any in-flight transaction of the
    // dead one is mined within a block period; blocks before then are not counted).
    await new Promise((r) => setTimeout(r, 1_000));
    const fromBlock = (await chain.provider.getBlockNumber()) + 1;
    await waitForOutput(d, /production profile\) is running/);
    const servingAt = Date.now();
    const after = await until("every singleton back on the restarted instance", allHeld, 30_000, 100);
    const reclaimedAt = Date.now();
    // a fresh crossing pair, in case the dead process had settled everything it acknowledged
    for (const [who, side] of [
      ["seller", 1],
      ["buyer", 0],
    ] as const) {
      let attempt = 0;
      const r = await until(`the restarted books (${who})`, async () => {
        const res = await new ApiClient(url, keys[who]).request<{ orderId: number }>("POST", "/v1/orders", {
          body: await signed(ACCOUNTS[who], side, 1_000n * TICK, 1n),
          idempotencyKey: `chaos-after-${who}-${attempt++}`,
        });
        return res.status === 201 ? res : undefined;
      });
      sent.push({ who, idem: `chaos-after-${who}-${attempt - 1}`, body: undefined, status: 201, ack: r.body });
    }
    const firstBatch = await until(
      "the first settlement after the restart",
      async () => ((await hub.queryFilter(hub.filters.BatchSettled(), fromBlock)).length > 0 ? Date.now() : undefined),
      60_000,
      100,
    );
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    // the process's own boot (ts-node loading the modules, store, chain and API) as it logged it
    const boot = Number(/"msg":"service instance registered".*?"uptimeMs":(\d+)/.exec(d.output())?.[1] ?? NaN);
    console.log(
      `      restart → API serving ${s(servingAt - restartedAt)}, every singleton held ${s(reclaimedAt - restartedAt)}, ` +
        `first settlement on-chain ${s(firstBatch - restartedAt)} (${s(firstBatch - killedAt)} after the kill; ` +
        `the process booted in ${s(boot)}, then settled ${s(firstBatch - restartedAt - boot)} later; lease time 10 s)`,
    );
    expect(after.instance.epoch).to.equal(before.instance.epoch + 1);
    for (const n of ROLES) {
      const was = before.singletons.find((x) => x.name === n)!;
      const now = after.singletons.find((x) => x.name === n)!;
      expect(now.holderEpoch, n).to.equal(after.instance.epoch);
      expect(now.leaseEpoch, `${n}: a new fencing epoch`).to.be.above(was.leaseEpoch);
    }
    // What this asserts is that the restarted instance took its own leases back at once (its instance claim) and
    // settled without waiting for any lease to expire: its part after its own boot stays under the lease time. How
    // fast that is is a measured figure, printed above (2.3–2.4 s on a quiet machine, 5.0 s at a load average of 8),
    // not a bound of this test (speed targets belong to benchmarks). The boot is ts-node compiling and loading the
    // modules (6–7 s quiet, 21 s at that load), so the total is only bounded loosely.
    expect(firstBatch - restartedAt - boot, "first settlement after the restarted service came up").to.be.below(10_000);
    expect(firstBatch - restartedAt, "first settlement after the restart").to.be.below(30_000);

    // No key is stuck: every request retried with its key gets a definitive answer (never 409 in progress);
    // acknowledged ones get their first answer again.
    const retried = await Promise.all(
      sent
        .filter((r) => r.body !== undefined)
        .map(async (r) => {
          // A 503 (the chain did not answer pre-trade risk in time: hundreds of retries at once on a loaded node) or
          // a 429 (the key's order rate) is the service asking to be asked again, not an answer: a client retries it
          // after a pause, and so does the test.
          for (let attempt = 1; ; attempt++) {
            const res = await new ApiClient(url, keys[r.who]).request<{
              orderId?: number;
              error?: { code: string; details: { reject?: string; orderId?: number } };
            }>("POST", "/v1/orders", { body: r.body, idempotencyKey: r.idem });
            if ((res.status !== 503 && res.status !== 429) || attempt === 60) return { r, res };
            await new Promise((done) => setTimeout(done, 1_000));
          }
        }),
    );
    const burstIds = { buyer: new Set<number>(), seller: new Set<number>() };
    for (const r of sent) if (r.ack) burstIds[r.who].add(r.ack.orderId);
    for (const { r, res } of retried) {
      expect(res.status, `${r.idem}: ${JSON.stringify(res.body)}`).to.not.equal(409);
      if (r.ack) {
        expect([res.status, res.body.orderId], r.idem).to.deep.equal([201, r.ack.orderId]);
        expect(res.headers.get("idempotent-replayed"), r.idem).to.equal("true");
      }
      if (res.status === 201) burstIds[r.who].add(res.body.orderId!);
      else if (res.body.error?.details.reject === "ORDER_REPLAYED")
        burstIds[r.who].add(res.body.error.details.orderId!);
      else expect(res.status, `${r.idem}: ${JSON.stringify(res.body)}`).to.equal(422);
    }

    // Every acknowledged order is in the book or in its trades; every trade settles once.
    const seen = new Map<number, bigint>();
    const resting = new Set<number>();
    for (const who of ["buyer", "seller"] as const) {
      let cursor: string | null = null;
      do {
        const page: {
          status: number;
          body: {
            orders: Array<{ id: number }>;
            fills: Array<{ orderId: number; quantity: string; side: string }>;
            nextCursor: string | null;
          };
        } = await new ApiClient(url, keys[who]).get(`/v1/orders?limit=500${cursor ? `&cursor=${cursor}` : ""}`);
        expect(page.status).to.equal(200);
        if (cursor === null) for (const o of page.body.orders) resting.add(o.id);
        for (const f of page.body.fills) seen.set(f.orderId, (seen.get(f.orderId) ?? 0n) + BigInt(f.quantity));
        cursor = page.body.nextCursor;
      } while (cursor !== null);
    }
    for (const r of sent.filter((x) => x.ack))
      expect(resting.has(r.ack!.orderId) || seen.has(r.ack!.orderId), `acknowledged order ${r.ack!.orderId}`).to.equal(
        true,
      );
    await until(
      "every trade settled",
      async () => {
        const c = await store.settlement.counts();
        return c.pending === 0 && c.submitted === 0 ? c : undefined;
      },
      60_000,
      250,
    );
    expect((await store.settlement.counts()).rejected, "no trade refused by the hub").to.equal(0);
    // the chain holds exactly what the book's fills of the burst say the buyer bought (none lost, none twice)
    const bought = [...burstIds.buyer].reduce((sum, id) => sum + (seen.get(id) ?? 0n), 0n);
    const onChain = async () => engine.balanceOf(buyer, record.contracts.mbBANK);
    const bankAfter = await until(
      `the buyer's position on-chain (${bankBefore} + ${bought} bought; now ${await onChain()})`,
      async () => {
        const q = await engine.balanceOf(buyer, record.contracts.mbBANK);
        return q === bankBefore + bought ? q : undefined;
      },
      30_000,
      250,
    );
    console.log(
      `      buyer's mbBANK ${bankBefore} → ${bankAfter} on-chain: the burst's ${bought} lots bought, each once`,
    );
  });

  it("refuses a deployment that lends without a bound agreement (issue 22), naming the admin's fix (last: it deploys a second stack)", async () => {
    const lax = await deployAll(
      {
        deployer: wallets[ACCOUNTS.deployer],
        roles: record.roles,
        riskDelaySeconds: 0,
        requireAgreements: false, // what this test is about: production refuses it
      },
      "permissioned",
    );
    const laxDir = path.join(dir, "lax-deployments");
    writeDeployment(lax, laxDir);
    const p = runScript("scripts/start.ts", { ...serviceEnv(API_PORTS[0]), MB_DEPLOYMENTS_DIR: laxDir });
    instances.push(p);
    expect(await p.exited).to.equal(1);
    expect(p.output()).to.match(
      /npm start refused: the deployment in .*permissioned\.json does not require financing agreements to borrow: the admin calls AgreementBinding\.requireAgreements\(\) once/s,
    );
  });
});
