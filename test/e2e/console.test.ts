import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { hexlify, randomBytes, type JsonRpcSigner } from "ethers";
import type { Browser, Page } from "playwright-core";
import { ApiClient, createApiKey } from "../../offchain/api";
import { DEV_KEYS } from "../../offchain/shared/config";
import type { Service } from "../../offchain/main";
import { findClientProof, publishEpoch, type ClientProofFile, type LiabilitySet } from "../../offchain/reserves";
import type { AccountSummary, DisclosureSummary, PoolSummary } from "../../offchain/portfolio";
import { MarginEngine__factory, ReserveLedger__factory } from "../../typechain-types";
import { startDevChain, type DevChain } from "../helpers/devChain";
import { expectTranslated } from "../helpers/consoleText";
import { CHROMIUM, CNY, E2eStack, SHOTS, launchChromium } from "../helpers/e2eStack";
import { acknowledge, quizAnswers } from "../helpers/kyc";

const CHAIN_PORT = 8751;
const API_PORT = 18901;

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
    const stack = new E2eStack(dev, dir);
    const { record } = dev;
    const p = dev.chain.provider;
    client = await p.getSigner(10);
    const lender = await p.getSigner(11);
    const clientAddr = await client.getAddress();

    // KYC, prices (three reporters sign, one relays), custody mints.
    await stack.verify(2, [client, "console-client"], [lender, "console-lender"]);
    await stack.relayPrices({ mbBANK: "10", mbTECH: "50", mbSMALL: "20" });
    await stack.mint("mbCNY", lender, 1_000_000n * CNY, "console-lender-1");
    await stack.mint("mbBANK", client, 10_000n, "console-client-1");

    // A capital provider funds the pool; the client posts 10,000 mbBANK (100,000 CNY), borrows 50,000 and takes
    // 40,000 out: cash 10,000, debt 50,000, one security, so the engine also gives a liquidation price.
    await stack.supplyPool(lender, 1_000_000n * CNY);
    await stack.deposit(client, "mbBANK", 10_000n);
    await stack.borrow(client, 50_000n * CNY, 40_000n * CNY);
    const engine = stack.engine(client);

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
    await stack.mint("mbBANK", client, 500n, "console-client-2");
    await stack.deposit(client, "mbBANK", 500n);
    const second = await publishEpoch({ ledger, source, dataDir, plainExport: false, minDepth: 2 });
    proof = findClientProof(second.dir, clientAddr.toLowerCase())!;

    service = await stack.startService(API_PORT, clientAddr);
    // A KYC application with the quiz answered and the risk disclosure signed, for the onboarding page's review queue.
    const applicant = await p.getSigner(12);
    const asApplicant = new ApiClient(
      service.url,
      await createApiKey(service.store, Buffer.from(DEV_KEYS.apiSecretKey, "hex"), {
        role: "client",
        subject: await applicant.getAddress(),
        label: "console applicant",
      }),
    );
    const filed = await asApplicant.post<{ id: string }>("/v1/kyc/applications", {
      jurisdiction: 156,
      identity: {
        fullName: "Sun Li",
        dateOfBirth: "1990-01-01",
        nationality: "CN",
        documentType: "passport",
        documentNumber: "E12345678",
        homeAddress: "1 Century Avenue, Pudong, Shanghai",
      },
      questionnaire: {
        investmentExperienceYears: 4,
        annualIncomeCny: "300000",
        netAssetsCny: "800000",
        lossTolerancePct: 30,
        objective: "growth",
        understandsMarginCalls: true,
      },
      suitability: quizAnswers(["liquidation"]),
      creditScore: 720,
    });
    expect(filed.status, JSON.stringify(filed.body)).to.equal(201);
    expect((await acknowledge(asApplicant, applicant, filed.body.id)).status).to.equal(200);
    console.log(
      `      setup (node, deployment, accounts, two epochs, service): ${Math.round(performance.now() - started)} ms`,
    );
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(page: Page, role: "client" | "capital_provider" | "kyc_officer"): Promise<void> {
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

    // The pages are plain files with their own CSP: they connect to the API and the configured JSON-RPC node only.
    const html = await fetch(`${service.url}/console/auditor.html?lang=en`);
    expect(html.status).to.equal(200);
    expect(html.headers.get("content-security-policy")).to.contain(
      `connect-src 'self' ${new URL(dev.chain.url).origin};`,
    );
    expect(html.headers.get("content-security-policy")).to.contain("script-src 'self'");
    expect((await fetch(`${service.url}/console/vendor/ethers.min.js`)).status).to.equal(200);
    expect((await fetch(`${service.url}/console/%2e%2e/index.ts`)).status).to.equal(404);
  });

  it("client page: shows the margin ratio, state, liquidation price and positions live from the chain", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${service.url}/console/client.html?lang=en`);
    await signIn(page, "client");
    await page.waitForSelector("#positions tbody tr td:has-text('mbBANK')", { timeout: 15_000 });
    expect(await page.textContent("#state")).to.equal("Healthy");
    const me = (await new ApiClient(service.url, service.demoKeys.client).get<AccountSummary>("/v1/accounts/me")).body;
    const hundredths = (BigInt(me.marginRatio!) * 10_000n) / 10n ** 18n; // the page truncates to 2 places
    const pct = `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, "0")}`;
    expect(await page.textContent("#margin-ratio")).to.equal(`${pct}%`);
    expect(await page.textContent("#liquidation-price")).to.match(/engine liquidation price \d+\.\d{4}/);
    expect(await page.textContent("#margin-mode")).to.equal("dynamic margins: they follow the market's volatility");
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
    await page.goto(`${service.url}/console/provider.html?lang=en`);
    await signIn(page, "capital_provider");
    await page.waitForSelector("#reserve-chart svg", { timeout: 15_000 });
    expect(await page.textContent("#rate-day")).to.equal("0.021917%");
    expect(await page.textContent("#utilisation")).to.match(/^5\.\d\d%$/);
    expect(await page.textContent("#reserve-chart svg")).to.contain("epoch 2");
    expect(await page.locator("#reserves tbody tr").count()).to.equal(8);
    expect(await page.textContent("#bad-debt tbody")).to.contain("No bad debt recorded");
    // The share classes (public), the scheduled changes and the 30-day forecast (issue 19).
    await page.waitForSelector("#forecast-chart svg", { timeout: 15_000 });
    expect(await page.locator("#class-table tbody tr").count()).to.equal(2);
    expect(await page.textContent("#class-table tbody")).to.contain("Junior (first loss)");
    expect(await page.textContent("#book-line")).to.match(/utilisation 5\.\d\d%/);
    expect(await page.textContent("#scheduled-table tbody")).to.contain("Nothing scheduled");
    expect(await page.textContent("#forecast-line")).to.contain("no shortfall under stress");
    // The demo capital-provider key is a staff key (no address): its own position is not shown.
    expect(await page.isHidden("#mine")).to.equal(true);
    // The forecast job ran at start-up: its last figures are in the service's status.
    const status = await new ApiClient(service.url, service.demoKeys.risk_officer).get<{
      cashFlowForecast?: { firstStressedShortfall: string | null };
    }>("/v1/status");
    expect(status.body.cashFlowForecast, JSON.stringify(status.body)).to.deep.include({ firstStressedShortfall: null });
    await page.screenshot({ path: path.join(SHOTS, "console-provider.png"), fullPage: true });
    await page.close();
  });

  it("public disclosure page: no key, the figures from the chain, and the browser's own check says they match", async () => {
    const api = await new ApiClient(service.url).get<DisclosureSummary>("/v1/disclosures");
    expect(api.status).to.equal(200);
    const d = api.body;
    // One open account: (cash 10,000 + positions 105,000) / equity about 65,000 ≈ 1.77×.
    expect(d.leverage).to.deep.include({ openAccounts: 1, underwater: 0 });
    expect(d.leverage.buckets.find((b) => b.label === "1.5–2×")!.accounts).to.equal(1);
    expect(d.classes.map((c) => c.class)).to.deep.equal(["senior", "junior"]);
    expect(d.reserves.latestEpoch).to.equal(2);
    expect(d.liquidations).to.deep.equal([]);
    expect(d.fees.assets.map((a) => a.symbol)).to.include.members(["mbBANK", "mbTECH", "mbSMALL"]);

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${service.url}/console/disclosures.html`);
    await page.waitForSelector("#check-table tbody tr[data-ok]", { timeout: 20_000 });
    const verdicts = await page
      .locator("#check-table tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-ok")));
    expect(verdicts.length).to.be.greaterThanOrEqual(7);
    expect(verdicts.every((v) => v === "true")).to.equal(true);
    expect(await page.textContent("#classes tbody")).to.contain("劣后级");
    expect(await page.textContent("#leverage tbody")).to.contain("1.5–2×");
    expect(await page.textContent("#fees tbody")).to.contain("mbSMALL");
    await page.screenshot({ path: path.join(SHOTS, "console-disclosures.png"), fullPage: true });
    await page.close();
  });

  it("every page in 简体中文 (the default) and English, with no text left untranslated", async () => {
    const pages: { name: string; role?: "client" | "capital_provider" | "kyc_officer"; ready: string }[] = [
      { name: "index", ready: "ul.links a" },
      { name: "client", role: "client", ready: "#positions tbody tr td:has-text('mbBANK')" },
      { name: "provider", role: "capital_provider", ready: "#stress tbody tr" },
      { name: "disclosures", ready: "#check-table tbody tr[data-ok]" },
      { name: "auditor", ready: "#verify" },
      { name: "onboarding", role: "kyc_officer", ready: "#applications tbody [data-ack='risk-disclosure']" },
    ];
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    for (const lang of ["zh-CN", "en"] as const) {
      for (const p of pages) {
        await page.goto(`${service.url}/console/${p.name}.html${lang === "en" ? "?lang=en" : ""}`);
        if (p.role) {
          await page.evaluate(() => sessionStorage.clear());
          await page.reload();
          await signIn(page, p.role);
        }
        await page.waitForSelector(p.ready, { timeout: 20_000 });
        await page.waitForTimeout(300); // the page's other reads settle
        expect(await page.getAttribute("html", "lang"), p.name).to.equal(lang);
        await expectTranslated(page, lang, p.name);
        expect(await page.$(".practice-banner"), `${p.name}: the real console shows no practice banner`).to.equal(null);
        if (lang === "zh-CN")
          await page.screenshot({ path: path.join(SHOTS, `console-${p.name}-zh.png`), fullPage: true });
      }
    }
    // The switch keeps the page and changes the language; links keep it too.
    await page.goto(`${service.url}/console/index.html?lang=en`);
    expect(await page.getAttribute("header.top a[data-i18n='nav.provider']", "href")).to.contain("lang=en");
    await page.click(".lang-switch a[data-lang='zh-CN']");
    // The new page's <html lang> is zh-CN before its script runs: wait for the translated heading itself.
    await page.waitForFunction(() => document.querySelector("h1")?.textContent === "MarginBridge 控制台");
    expect(await page.textContent("h1")).to.equal("MarginBridge 控制台");
    await page.close();
  });

  it("auditor page: verifies a real proof against the chain (PASS) and rejects a tampered one (FAIL)", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${service.url}/console/auditor.html?lang=en`);
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
