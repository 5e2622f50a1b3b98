import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JsonRpcSigner } from "ethers";
import type { Page } from "playwright-core";
import { ApiClient, createApiKey, type NewApiKey } from "../../offchain/api";
import type { DeploymentRecord } from "../../offchain/chain";
import { startPracticeService, startService, type Service } from "../../offchain/main";
import {
  JsonPriceSource,
  hardhatDevWallets,
  reporterFromDeployment,
  DEV_REPORTER_INDICES,
} from "../../offchain/oracle";
import { PRACTICE_START_WHOLE } from "../../offchain/practice";
import { orderToJson, settlementDomain, signOrder, type SignedOrderFields } from "../../offchain/settlement/orders";
import { DEV_KEYS, PRACTICE_DEV_KEYS, parseConfig, type Config } from "../../offchain/shared/config";
import { practiceAccountOf } from "../../offchain/chain/practiceChain";
import { silentLogger } from "../../offchain/shared/logger";
import { MarginEngine__factory, SettlementHub__factory } from "../../typechain-types";
import { deployPractice, practiceDevWallets } from "../../scripts/deploy/practice";
import { writeDeployment } from "../../scripts/deploy/index";
import { PLATFORM_RISK_LIMITS } from "../../scripts/lib/riskLimits";
import { startDevChain, type DevChain } from "../helpers/devChain";
import { expectTranslated } from "../helpers/consoleText";
import { CHROMIUM, CNY, E2eStack, SHOTS, launchChromium } from "../helpers/e2eStack";
import { createTestDatabase, type TestPostgres } from "../helpers/postgres";

const CHAIN_PORT = 8831;
const API_PORT = 18831;
const PRACTICE_PORT = 18832;
const TICK = 10_000n;
const PRICES = { mbBANK: "10", mbTECH: "50", mbSMALL: "20" };

interface State {
  account: string;
  atStart: boolean;
  debt: string;
  margin: Record<string, string>;
  walletBalances: Record<string, string>;
  mode?: string;
}

/**
 * Paper trading end to end on one real hardhat node holding both deployments (the real one and the practice one,
 * scripts/deploy/practice.ts): the real service on SQLite with its order books, and the practice service on
 * SQLite, then on PostgreSQL (its own schema). The practice account of client B is opened by the practice
 * operator; B trades, borrows and resets through the practice API, and nothing of it reaches the real deployment
 * or the real store.
 */
describe("paper trading: the practice service beside the real one (e2e)", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let stack: E2eStack;
  let practiceRecord: DeploymentRecord;
  let real: Service;
  let dir: string;
  let b: JsonRpcSigner;
  let bWallet: string;
  let realB: ApiClient;
  let nonce = 1n;

  /** The practice feeds get the same prices through the practice relayer (the reporters are the real ones). */
  async function relayPractice(): Promise<void> {
    const file = path.join(dir, "practice-prices.json");
    writeFileSync(file, JSON.stringify({ prices: PRICES }));
    const p = dev.chain.provider;
    const reporter = await reporterFromDeployment({
      record: practiceRecord,
      provider: p,
      reporters: hardhatDevWallets(DEV_REPORTER_INDICES, p),
      relayer: practiceDevWallets(p).relayer,
      source: new JsonPriceSource({ location: file }),
      policy: { heartbeatSeconds: 600, deviationBps: 50 },
      intervalMs: 60_000,
      clock: "chain",
    });
    const { failures } = await reporter.tick();
    if (failures.length) throw new Error(`practice price relay failed: ${JSON.stringify(failures)}`);
  }

  function config(port: number, store?: { url: string }): Config {
    return parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      store: store ? { engine: "postgres", url: store.url, poolSize: 4 } : { engine: "sqlite" },
      chain: {
        rpcUrl: dev.chain.url,
        network: "localhost",
        deploymentsDir: dev.deploymentsDir,
        confirmations: 1,
        pollIntervalMs: 300,
      },
      api: { host: "127.0.0.1", port, secretKey: DEV_KEYS.apiSecretKey },
      practice: { enabled: true, port: PRACTICE_PORT },
    });
  }

  /** B's order on `listing`'s mbBANK, signed by B's wallet for `domainRecord`'s hub, for `account`. */
  async function order(
    domainRecord: DeploymentRecord,
    account: string,
    side: 0 | 1,
    price: bigint,
    qty: bigint,
    listing = domainRecord,
  ) {
    const o: SignedOrderFields = {
      account,
      instrument: listing.contracts.mbBANK,
      side,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 3600),
      limitPrice: price,
      quantity: qty,
      nonce: nonce++,
    };
    const signature = await signOrder(
      b,
      settlementDomain(domainRecord.chainId, domainRecord.contracts.SettlementHub),
      o,
    );
    return { order: orderToJson(o), signature };
  }

  /** What the real deployment and the real store hold for B (compared before and after each practice action). */
  async function realSnapshot(): Promise<string> {
    const engine = MarginEngine__factory.connect(dev.record.contracts.MarginEngine, dev.chain.provider);
    const [debt] = await engine.debtOf(bWallet);
    const balances = await Promise.all(dev.record.tokens.map((t) => engine.balanceOf(bWallet, t.address)));
    const { block: _moves, ...account } = (await realB.get<{ block: number }>("/v1/accounts/me")).body;
    const orders = await realB.get("/v1/orders");
    return JSON.stringify({ debt: debt.toString(), balances: balances.map(String), account, orders });
  }

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "mb-practice-"));
    dev = await startDevChain(CHAIN_PORT);
    stack = new E2eStack(dev, dir);
    const p = dev.chain.provider;
    const started = performance.now();
    practiceRecord = await deployPractice({
      provider: p,
      funder: dev.signers[0],
      reporters: dev.record.roles.reporters,
      network: "localhost-practice",
    });
    console.log(`      practice deployment: ${Math.round(performance.now() - started)} ms`);
    writeDeployment(practiceRecord, dev.deploymentsDir);
    b = await p.getSigner(10);
    bWallet = await b.getAddress();
    await stack.verify(2, [b, "practice-b"]);
    await stack.relayPrices(PRICES);
    await relayPractice();
    await stack.mint("mbCNY", b, 50_000n * CNY, "practice-b-real");
    await stack.deposit(b, "mbCNY", 20_000n * CNY);
    real = await startService(config(API_PORT), {
      deployment: dev.record,
      demoKeys: true,
      demoClientAccount: bWallet,
      orderbook: { limits: PLATFORM_RISK_LIMITS },
      log: silentLogger,
    });
    realB = new ApiClient(real.url, real.demoKeys.client!);
  });

  after(async () => {
    await real?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    describe(`practice store on ${engine}`, () => {
      let pg: TestPostgres | undefined;
      let practice: Service;
      let operator: ApiClient;
      let client: ApiClient;
      let clientKey: NewApiKey;
      let account: string;

      before(async function () {
        if (engine === "postgres") {
          pg = await createTestDatabase("mb_e2e_practice");
          if ("skip" in pg) return this.skip();
        }
        const cfg = config(API_PORT, pg && "url" in pg ? { url: pg.url } : undefined);
        practice = await startPracticeService(cfg, {
          deployment: practiceRecord,
          demoKeys: true,
          orderbook: { limits: PLATFORM_RISK_LIMITS },
          log: silentLogger,
        });
        operator = new ApiClient(practice.url, practice.demoKeys.operator!);
      });

      after(async () => {
        await practice?.stop();
        if (pg && "drop" in pg) await pg.drop();
      });

      it("opens B's practice account once (the operator), starting with the practice balances", async () => {
        account = practiceAccountOf(PRACTICE_DEV_KEYS.accountSeed, bWallet);
        expect(account).to.not.equal(bWallet);
        const key = (clientKey = await createApiKey(practice.store, Buffer.from(DEV_KEYS.apiSecretKey, "hex"), {
          role: "client",
          subject: account,
          label: "practice B",
        }));
        client = new ApiClient(practice.url, key);
        // Before any open by this service: unknown on the first run; on the second, opened by the first service,
        // and found again through its practice identity (the wallet), as after a restart.
        expect((await client.get("/v1/practice")).status).to.equal(engine === "sqlite" ? 404 : 200);
        const first = await operator.post<{ account: string; opened: boolean }>("/v1/practice/accounts", {
          wallet: bWallet,
        });
        expect(first.status, JSON.stringify(first.body)).to.equal(201);
        expect(first.body).to.include({ account, opened: engine === "sqlite" });
        const again = await operator.post<{ opened: boolean }>("/v1/practice/accounts", { wallet: bWallet });
        expect(again.body.opened).to.equal(false);
        // The SQLite run may have left the account elsewhere: each engine's run begins from a reset.
        expect((await client.post("/v1/practice/reset")).status).to.equal(200);
        const s = await client.get<State>("/v1/practice");
        expect(s.status).to.equal(200);
        expect(s.body.atStart).to.equal(true);
        expect(s.body.debt).to.equal("0");
        expect(s.body.margin.mbCNY).to.equal((PRACTICE_START_WHOLE.cash * CNY).toString());
        expect(s.body.margin.mbBANK).to.equal(PRACTICE_START_WHOLE.security.toString());
      });

      it("marks every practice response (header and JSON body) and no real one", async () => {
        const anonymousPractice = new ApiClient(practice.url);
        const anonymousReal = new ApiClient(real.url);
        const practiceAnswers = [
          await client.get("/v1/practice"),
          await client.get("/v1/accounts/me"),
          await anonymousPractice.get("/v1/health"),
          await anonymousPractice.get("/v1/no-such-route"),
          await client.post("/v1/practice/borrow", { amount: "-1" }),
          await new ApiClient(practice.url, practice.demoKeys.operator!).get("/v1/status"),
        ];
        for (const r of practiceAnswers) {
          expect(r.headers.get("marginbridge-mode"), JSON.stringify(r.body)).to.equal("practice");
          expect((r.body as { mode?: string }).mode, JSON.stringify(r.body)).to.equal("practice");
        }
        expect(practiceAnswers[4].status).to.equal(400);
        const page = await fetch(`${practice.url}/console/client.html`);
        expect(page.status).to.equal(200);
        expect(page.headers.get("marginbridge-mode")).to.equal("practice");
        const realAnswers = [
          await realB.get("/v1/accounts/me"),
          await anonymousReal.get("/v1/health"),
          await anonymousReal.get("/v1/no-such-route"),
          await new ApiClient(real.url, real.demoKeys.operator!).get("/v1/status"),
        ];
        for (const r of realAnswers) {
          expect(r.headers.get("marginbridge-mode")).to.equal(null);
          expect(r.body).to.not.have.property("mode");
        }
        expect((await fetch(`${real.url}/console/client.html`)).headers.get("marginbridge-mode")).to.equal(null);
      });

      it("keeps practice balances apart: a practice borrow changes nothing real, a real deposit nothing in practice", async () => {
        const before = await realSnapshot();
        const borrowed = await client.post<State>("/v1/practice/borrow", { amount: (100_000n * CNY).toString() });
        expect(borrowed.status, JSON.stringify(borrowed.body)).to.equal(200);
        expect(BigInt(borrowed.body.debt)).to.be.at.least(100_000n * CNY);
        expect(borrowed.body.margin.mbCNY).to.equal((200_000n * CNY).toString());
        expect(await realSnapshot()).to.equal(before);

        const practiceBefore = (await client.get<State>("/v1/practice")).body;
        await stack.deposit(b, "mbCNY", 1_000n * CNY);
        const practiceAfter = (await client.get<State>("/v1/practice")).body;
        expect(practiceAfter.margin).to.deep.equal(practiceBefore.margin);
        expect(practiceAfter.walletBalances).to.deep.equal(practiceBefore.walletBalances);
      });

      it("refuses practice-signed orders on the real API; the practice API takes them", async () => {
        const before = await realSnapshot();
        const price = 9n * 100n * TICK; // 9.00 mbCNY: rests below the market
        const practiceOrder = await order(practiceRecord, account, 0, price, 10n);
        const placed = await client.post<{ accepted: boolean; restingQuantity: string }>("/v1/orders", practiceOrder);
        expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
        expect(placed.body.restingQuantity).to.equal("10");

        // The same signed order on the real API: neither B's real account nor a real instrument.
        const onReal = await realB.post<{ error: { code: string } }>("/v1/orders", practiceOrder);
        expect(onReal.status, JSON.stringify(onReal.body)).to.be.within(400, 499);
        // B's own account on the real instrument, signed for the practice hub: on the real hub its signature
        // recovers to another address, so the real API refuses it as the hub would.
        const replay = await order(practiceRecord, bWallet, 0, price, 10n, dev.record);
        const replayed = await realB.post<{ error: { details: { reject: string } } }>("/v1/orders", replay);
        expect(replayed.status).to.equal(403);
        expect(replayed.body.error.details.reject).to.equal("BAD_SIGNATURE");
        // The two hubs' EIP-712 domains differ by their verifying contract.
        const domains = await Promise.all(
          [dev.record, practiceRecord].map((r) =>
            SettlementHub__factory.connect(r.contracts.SettlementHub, dev.chain.provider).eip712Domain(),
          ),
        );
        expect(domains[0].verifyingContract).to.not.equal(domains[1].verifyingContract);
        expect(await realSnapshot()).to.equal(before);
      });

      it("resets to the start (orders cancelled, no debt), idempotently, touching nothing real", async () => {
        const before = await realSnapshot();
        const reset = await client.post<{ cancelledOrders: number; transactions: number }>("/v1/practice/reset");
        expect(reset.status, JSON.stringify(reset.body)).to.equal(200);
        expect(reset.body.cancelledOrders).to.equal(1);
        expect(reset.body.transactions).to.be.greaterThan(0);
        const s = (await client.get<State>("/v1/practice")).body;
        expect(s.atStart).to.equal(true);
        expect(s.debt).to.equal("0");
        expect(Object.values(s.walletBalances).every((v) => v === "0")).to.equal(true);
        expect((await client.get<{ orders: unknown[] }>("/v1/orders")).body.orders).to.deep.equal([]);

        const again = await client.post<{ cancelledOrders: number; transactions: number }>("/v1/practice/reset");
        expect(again.body).to.include({ cancelledOrders: 0, transactions: 0 });
        expect(await realSnapshot()).to.equal(before);
      });

      it("serialises two resets fired at once: one puts the account back, the other finds it at the start", async () => {
        await client.post("/v1/practice/borrow", { amount: (30_000n * CNY).toString() });
        const both = await Promise.all([
          client.post<{ transactions: number }>("/v1/practice/reset"),
          client.post<{ transactions: number }>("/v1/practice/reset"),
        ]);
        expect(both.map((r) => r.status)).to.deep.equal([200, 200]);
        const txs = both.map((r) => r.body.transactions).sort((x, y) => x - y);
        expect(txs[0]).to.equal(0);
        expect(txs[1]).to.be.greaterThan(0);
        expect((await client.get<State>("/v1/practice")).body.atStart).to.equal(true);
      });

      // One browser walk (with the SQLite store): the pages do not depend on the store.
      if (engine === "sqlite")
        it("Chromium: every practice page in 简体中文 and English carries the translated banner; balances apart", async function () {
          if (!existsSync(CHROMIUM)) return this.skip();
          const browser = await launchChromium();
          try {
            const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
            const signIn = async (p: Page, key: NewApiKey) => {
              await p.evaluate(() => sessionStorage.clear());
              await p.reload();
              await p.fill("input[name=keyId]", key.keyId);
              await p.fill("input[name=secret]", key.secret);
              await p.click("#key-form button[type=submit]");
            };
            const pages: { name: string; key?: NewApiKey; ready: string }[] = [
              { name: "index", ready: "ul.links a" },
              { name: "client", key: clientKey, ready: "#positions tbody tr td:has-text('mbBANK')" },
              { name: "provider", key: practice.demoKeys.capital_provider!, ready: "#stress tbody tr" },
              { name: "disclosures", ready: "#check-table tbody tr[data-ok]" },
              { name: "auditor", ready: "#verify" },
            ];
            const banner = { "zh-CN": "模拟交易", en: "Paper trading" } as const;
            for (const lang of ["zh-CN", "en"] as const) {
              for (const p of pages) {
                await page.goto(`${practice.url}/console/${p.name}.html${lang === "en" ? "?lang=en" : ""}`);
                if (p.key) await signIn(page, p.key);
                await page.waitForSelector(p.ready, { timeout: 20_000 });
                await page.waitForSelector(".practice-banner", { timeout: 5_000 });
                await page.waitForTimeout(300); // the page's other reads settle
                const text = (await page.textContent(".practice-banner")) ?? "";
                expect(text, `${p.name} (${lang})`).to.contain(banner[lang]);
                expect(await page.title(), `${p.name} (${lang})`).to.contain(banner[lang]);
                await expectTranslated(page, lang, `practice ${p.name}`);
                if (lang === "zh-CN" && p.name === "client")
                  await page.screenshot({ path: path.join(SHOTS, "console-practice-client-zh.png"), fullPage: true });
              }
            }
            // The practice client page shows the practice account's cash, the real one B's real cash, no banner.
            await page.goto(`${practice.url}/console/client.html?lang=en`);
            await signIn(page, clientKey);
            await page.waitForSelector("#cash:has-text('mbCNY')");
            expect(await page.textContent("#cash")).to.equal("100,000.00 mbCNY");
            // The client resets from the page: a borrow through the API, then the page's button.
            await client.post("/v1/practice/borrow", { amount: (10_000n * CNY).toString() });
            await page.waitForSelector("#cash:has-text('110,000.00')");
            await page.click("#practice-reset");
            await page.waitForSelector("#practice-reset-status:has-text('Back at the start')");
            await page.waitForSelector("#cash:has-text('100,000.00')");
            expect((await client.get<State>("/v1/practice")).body.atStart).to.equal(true);
            const realCash = (await realB.get<{ cash: string }>("/v1/accounts/me")).body.cash;
            await page.goto(`${real.url}/console/client.html?lang=en`);
            await signIn(page, real.demoKeys.client!);
            await page.waitForSelector("#cash:has-text('mbCNY')");
            expect(await page.textContent("#cash")).to.equal(
              `${(BigInt(realCash) / CNY).toLocaleString("en")}.00 mbCNY`,
            );
            await page.waitForTimeout(500);
            expect(await page.$(".practice-banner")).to.equal(null);
            expect(await page.$("#practice-reset")).to.equal(null);
          } finally {
            await browser.close();
          }
        });

      it("has no practice routes on the real service: a reset cannot reach the real deployment or store", async () => {
        const onReal = await realB.post("/v1/practice/reset");
        expect(onReal.status).to.equal(404);
        const status = await new ApiClient(real.url, real.demoKeys.operator!).get<{
          capabilities: Record<string, { available: boolean; reason?: string }>;
          network: string;
        }>("/v1/status");
        expect(status.body.capabilities.practice).to.deep.equal({
          available: false,
          reason: "not the practice service",
        });
        const practiceStatus = await new ApiClient(practice.url, practice.demoKeys.operator!).get<{
          network: string;
        }>("/v1/status");
        expect(practiceStatus.body.network).to.equal("localhost-practice");
        expect(status.body.network).to.equal("localhost");
        // A real account's key on the practice service is unknown there: the stores are apart.
        expect((await new ApiClient(practice.url, real.demoKeys.client!).get("/v1/practice")).status).to.equal(401);
      });
    });
  }
});
