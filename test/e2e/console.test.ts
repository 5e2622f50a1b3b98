import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeBytes32String, hexlify, randomBytes, type JsonRpcSigner } from "ethers";
import { chromium, type Browser, type Page } from "playwright-core";
import { ApiClient } from "../../offchain/api";
import { startService, type Service } from "../../offchain/main";
import {
  DEV_REPORTER_INDICES,
  JsonPriceSource,
  hardhatDevWallets,
  reporterFromDeployment,
} from "../../offchain/oracle";
import { findClientProof, publishEpoch, type ClientProofFile, type LiabilitySet } from "../../offchain/reserves";
import type { AccountSummary, PoolSummary } from "../../offchain/portfolio";
import { DEV_KEYS, parseConfig } from "../../offchain/shared/config";
import { silentLogger } from "../../offchain/shared/logger";
import {
  CapitalPool__factory,
  CollateralToken__factory,
  KycRegistry__factory,
  MarginEngine__factory,
  ReserveLedger__factory,
} from "../../typechain-types";
import { startDevChain, type DevChain } from "../helpers/devChain";

const CHAIN_PORT = 8751;
const API_PORT = 18901;
const CHROMIUM = "/usr/bin/chromium";
const SHOTS = path.join(__dirname, "..", "..", "test-results");
const CNY = 10n ** 6n;

/**
 * The web console end to end: a real hardhat node with the full deployment, the service on SQLite, a funded margin
 * account and two published reserves epochs; then real headless Chromium loads each page from the service.
 */
describe("web console in headless Chromium (e2e)", function () {
  this.timeout(120_000);
  let dev: DevChain;
  let service: Service;
  let browser: Browser;
  let dir: string;
  let client: JsonRpcSigner;
  let proof: ClientProofFile;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`skipping the console e2e test: ${CHROMIUM} is absent (apt-get install -y chromium)`);
      this.skip();
    }
    const started = performance.now();
    dir = mkdtempSync(path.join(tmpdir(), "mb-console-"));
    dev = await startDevChain(CHAIN_PORT);
    const { record } = dev;
    const p = dev.chain.provider;
    client = await p.getSigner(10);
    const lender = await p.getSigner(11);
    const [clientAddr, lenderAddr] = [await client.getAddress(), await lender.getAddress()];
    const send = async (tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> => void (await (await tx).wait());

    // KYC, prices (three reporters sign, one relays), custody mints.
    const kyc = KycRegistry__factory.connect(record.contracts.KycRegistry, dev.signers[1]);
    const expires = (await p.getBlock("latest"))!.timestamp + 365 * 86_400;
    await send(kyc.setIdentity(clientAddr, 2, 156, expires, encodeBytes32String("console-client")));
    await send(kyc.setIdentity(lenderAddr, 2, 156, expires, encodeBytes32String("console-lender")));
    const prices = path.join(dir, "prices.json");
    writeFileSync(prices, JSON.stringify({ prices: { mbBANK: "10", mbTECH: "50", mbSMALL: "20" } }));
    const reporter = await reporterFromDeployment({
      record,
      provider: p,
      reporters: hardhatDevWallets(DEV_REPORTER_INDICES, p),
      relayer: hardhatDevWallets([9], p)[0],
      source: new JsonPriceSource({ location: prices }),
      policy: { heartbeatSeconds: 600, deviationBps: 50 },
      intervalMs: 60_000,
    });
    expect((await reporter.tick()).failures).to.deep.equal([]);
    const cash = CollateralToken__factory.connect(record.contracts.mbCNY, dev.signers[2]);
    const bank = CollateralToken__factory.connect(record.contracts.mbBANK, dev.signers[2]);
    await send(cash.mint(lenderAddr, 1_000_000n * CNY, encodeBytes32String("console-lender-1")));
    await send(bank.mint(clientAddr, 10_000n, encodeBytes32String("console-client-1")));

    // A capital provider funds the pool; the client posts 10,000 mbBANK (100,000 CNY), borrows 50,000 and takes
    // 40,000 out: cash 10,000, debt 50,000, one security, so the engine also gives a liquidation price.
    const pool = CapitalPool__factory.connect(record.contracts.CapitalPool, lender);
    await send(cash.connect(lender).approve(record.contracts.CapitalPool, 1_000_000n * CNY));
    await send(pool.deposit(1_000_000n * CNY, lenderAddr));
    const engine = MarginEngine__factory.connect(record.contracts.MarginEngine, client);
    await send(bank.connect(client).approve(record.contracts.MarginEngine, 10_000n));
    await send(engine.deposit(record.contracts.mbBANK, 10_000n));
    await send(engine.borrow(50_000n * CNY));
    await send(engine.withdraw(record.contracts.mbCNY, 40_000n * CNY));

    // Two reserves epochs whose liabilities are the client's real margin balances and debt.
    const ledger = ReserveLedger__factory.connect(record.contracts.ReserveLedger, dev.signers[5]);
    const assets = await ledger.assets();
    const secret = hexlify(randomBytes(32));
    const source = {
      description: "console e2e: the margin engine's balances",
      load: async (): Promise<LiabilitySet> => {
        const [debt] = await engine.debtOf(clientAddr);
        const owed = await Promise.all(assets.map((a) => engine.balanceOf(clientAddr, a)));
        return {
          assets,
          snapshotBlock: BigInt(await p.getBlockNumber()),
          accounts: [
            { accountId: clientAddr.toLowerCase(), secret, owed, debt: assets.map((_a, i) => (i ? 0n : debt)) },
          ],
        };
      },
    };
    const dataDir = path.join(dir, "reserves");
    await publishEpoch({ ledger, source, dataDir, plainExport: false, minDepth: 2 });
    await send(bank.mint(clientAddr, 500n, encodeBytes32String("console-client-2")));
    await send(bank.connect(client).approve(record.contracts.MarginEngine, 500n));
    await send(engine.deposit(record.contracts.mbBANK, 500n));
    const second = await publishEpoch({ ledger, source, dataDir, plainExport: false, minDepth: 2 });
    proof = findClientProof(second.dir, clientAddr.toLowerCase())!;

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
      },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
    });
    service = await startService(config, {
      deployment: record,
      demoKeys: true,
      demoClientAccount: clientAddr,
      log: silentLogger,
    });
    console.log(
      `      setup (node, deployment, accounts, two epochs, service): ${Math.round(performance.now() - started)} ms`,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(page: Page, role: "client" | "capital_provider"): Promise<void> {
    const key = service.demoKeys[role]!;
    await page.fill("input[name=keyId]", key.keyId);
    await page.fill("input[name=secret]", key.secret);
    await page.click("#key-form button[type=submit]");
  }

  it("serves the read API the pages use: the account and the pool from the chain, by role", async () => {
    const asClient = new ApiClient(service.url, service.demoKeys.client);
    const me = await asClient.get<AccountSummary>("/v1/accounts/me");
    expect(me.status).to.equal(200);
    expect(me.body).to.include({ state: "Healthy", cash: (10_000n * CNY).toString(), positionValue: "105000000000" });
    expect(BigInt(me.body.debt)).to.be.gte(50_000n * CNY);
    // equity = 10,000 + 105,000 − debt; margin ratio = equity / 105,000 (WAD)
    const view = await MarginEngine__factory.connect(dev.record.contracts.MarginEngine, dev.chain.provider).accountView(
      await client.getAddress(),
      { blockTag: me.body.block },
    );
    expect(me.body.marginRatio).to.equal(view.marginRatio.toString());
    expect(me.body.liquidationPrice).to.equal(view.liquidationPrice.toString());
    expect(me.body.positions[0].liquidationPrice).to.not.equal(null);
    expect((await asClient.get("/v1/pool")).status).to.equal(403);

    const pool = await new ApiClient(service.url, service.demoKeys.capital_provider).get<PoolSummary>("/v1/pool");
    expect(pool.status).to.equal(200);
    expect(pool.body.pool.ratePerDay).to.equal((80_000_000_000_000_000n / 365n).toString());
    expect(pool.body.reserves.latestEpoch).to.equal(2);
    expect(pool.body.reserves.chartSvg).to.match(/<svg[^>]*>/);
    expect(pool.body.badDebtEvents).to.deep.equal([]);
    // Latency of the two reads on the local node (printed for docs/console.md, not asserted).
    const timed = async (c: ApiClient, route: string): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) expect((await c.get(route)).status).to.equal(200);
      return Math.round((performance.now() - t0) / 5);
    };
    const provider = new ApiClient(service.url, service.demoKeys.capital_provider);
    console.log(
      `      read latency: /v1/accounts/me ${await timed(asClient, "/v1/accounts/me")} ms, ` +
        `/v1/pool ${await timed(provider, "/v1/pool")} ms (mean of 5)`,
    );
    const config = await new ApiClient(service.url).get<{ rpcUrl: string }>("/v1/config");
    expect(config.body.rpcUrl).to.equal(dev.chain.url);

    // The pages are plain files with their own CSP (JSON-RPC to the chosen node is the only connection beyond 'self').
    const html = await fetch(`${service.url}/console/auditor.html`);
    expect(html.status).to.equal(200);
    expect(html.headers.get("content-security-policy")).to.contain("connect-src 'self' http: https:");
    expect(html.headers.get("content-security-policy")).to.contain("script-src 'self'");
    expect((await fetch(`${service.url}/console/vendor/ethers.min.js`)).status).to.equal(200);
    expect((await fetch(`${service.url}/console/%2e%2e/index.ts`)).status).to.equal(404);
  });

  it("client page: shows the margin ratio, state, liquidation price and positions live from the chain", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${service.url}/console/client.html`);
    await signIn(page, "client");
    await page.waitForSelector("#positions tbody tr td:has-text('mbBANK')", { timeout: 15_000 });
    expect(await page.textContent("#state")).to.equal("Healthy");
    const me = (await new ApiClient(service.url, service.demoKeys.client).get<AccountSummary>("/v1/accounts/me")).body;
    const hundredths = (BigInt(me.marginRatio!) * 10_000n) / 10n ** 18n; // the page truncates to 2 places
    const pct = `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, "0")}`;
    expect(await page.textContent("#margin-ratio")).to.equal(`${pct}%`);
    expect(await page.textContent("#liquidation-price")).to.match(/engine liquidation price \d+\.\d{4}/);
    expect(await page.textContent("#positions tbody")).to.contain("10,500");
    expect(await page.textContent("#orders tbody")).to.contain("not available");
    // The keeper's notices for this account (none: the account is Healthy and was never called).
    await page.waitForSelector("#notices tbody td", { timeout: 15_000 });
    expect(await page.textContent("#notices tbody")).to.contain("No notices.");
    await page.screenshot({ path: path.join(SHOTS, "console-client.png"), fullPage: true });
    expect(await page.evaluate(() => sessionStorage.length)).to.equal(1);
    expect(await page.evaluate(() => localStorage.length)).to.equal(0);
    await page.close();
  });

  it("capital-provider page: shows pool figures and the reserve-ratio chart over epochs", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${service.url}/console/provider.html`);
    await signIn(page, "capital_provider");
    await page.waitForSelector("#reserve-chart svg", { timeout: 15_000 });
    expect(await page.textContent("#rate-day")).to.equal("0.021917%");
    expect(await page.textContent("#utilisation")).to.match(/^5\.\d\d%$/);
    expect(await page.textContent("#reserve-chart svg")).to.contain("epoch 2");
    expect(await page.locator("#reserves tbody tr").count()).to.equal(8);
    expect(await page.textContent("#bad-debt tbody")).to.contain("No bad debt recorded");
    await page.screenshot({ path: path.join(SHOTS, "console-provider.png"), fullPage: true });
    await page.close();
  });

  it("auditor page: verifies a real proof against the chain (PASS) and rejects a tampered one (FAIL)", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${service.url}/console/auditor.html`);
    await page.waitForFunction(() => (document.getElementById("rpc-url") as HTMLInputElement).value !== "");
    expect(await page.inputValue("#rpc-url")).to.equal(dev.chain.url);

    // The real proof as a file the auditor loads; the tampered one pasted.
    const file = path.join(dir, "proof.json");
    writeFileSync(file, JSON.stringify(proof, null, 2));
    await page.setInputFiles("#proof-file", file);
    await page.waitForFunction(() => (document.getElementById("proof-text") as HTMLTextAreaElement).value !== "");
    await page.click("#verify");
    await page.waitForSelector("#verdict:not([hidden])");
    expect(await page.textContent("#verdict")).to.match(/^PASS/);
    expect(await page.locator("#checks td.fail").count()).to.equal(0);
    expect(await page.locator("#checks td.pass").count()).to.equal(11);
    await page.screenshot({ path: path.join(SHOTS, "console-auditor-pass.png"), fullPage: true });

    const tampered = structuredClone(proof);
    tampered.leaf.owed[1] = (BigInt(tampered.leaf.owed[1]) + 1000n).toString(); // claims 1,000 more mbBANK
    await page.fill("#proof-text", JSON.stringify(tampered, null, 2));
    await page.click("#verify");
    await page.waitForFunction(() => document.getElementById("verdict")!.textContent!.startsWith("FAIL"));
    const checks = await page.textContent("#checks tbody");
    expect(checks).to.contain("reverted: ReserveRootMismatch");
    await page.screenshot({ path: path.join(SHOTS, "console-auditor-fail.png"), fullPage: true });
    await page.close();
  });
});
