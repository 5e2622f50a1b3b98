import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseUnits, type JsonRpcSigner } from "ethers";
import type { Browser, Page } from "playwright-core";
import { ApiClient, createApiKey } from "../../offchain/api";
import type { Service } from "../../offchain/main";
import { DEV_KEYS } from "../../offchain/shared/config";
import { OracleRouter__factory, ProtocolAccessManager__factory, type OracleRouter } from "../../typechain-types";
import { expectTranslated } from "../helpers/consoleText";
import { DEV_PRIVATE_KEYS, startDevChain, type DevChain } from "../helpers/devChain";
import { CHROMIUM, CNY, E2eStack, SHOTS, launchChromium } from "../helpers/e2eStack";
import { acknowledge, quizAnswers } from "../helpers/kyc";

const CHAIN_PORT = 8991;
const API_PORT = 18992;
type StaffRole = "kyc_officer" | "risk_officer";

/**
 * The operations console in real headless Chromium, served by the service over a hardhat node with the full
 * deployment: a client in margin trouble, a tripped mbTECH breaker, an operation scheduled behind the AccessManager
 * delay and a KYC application waiting for review. Every ops page is walked in both languages; a KYC officer approves
 * the application from ops.html and a risk officer re-arms the breaker from ops-oracle.html.
 */
describe("operations console in headless Chromium (e2e)", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let service: Service;
  let browser: Browser;
  let dir: string;
  let router: OracleRouter;
  let applicationId: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`skipping the ops console e2e test: ${CHROMIUM} is absent`);
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), "mb-ops-console-"));
    dev = await startDevChain(CHAIN_PORT);
    const stack = new E2eStack(dev, dir);
    const p = dev.chain.provider;
    const client: JsonRpcSigner = await p.getSigner(10);
    const lender = await p.getSigner(11);
    await stack.verify(2, [client, "ops-ui-client"], [lender, "ops-ui-lender"]);
    await stack.relayPrices({ mbBANK: "10", mbTECH: "50", mbSMALL: "20" });
    router = OracleRouter__factory.connect(dev.record.contracts.OracleRouter, dev.signers[0]);
    const poke = async (symbol: string) => (await router.poke(dev.record.contracts[symbol])).wait();
    for (const symbol of ["mbBANK", "mbTECH", "mbSMALL"]) await poke(symbol);
    await stack.mint("mbCNY", lender, 1_000_000n * CNY, "ops-ui-lender-1");
    await stack.mint("mbBANK", client, 10_000n, "ops-ui-client-1");
    await stack.supplyPool(lender, 1_000_000n * CNY);
    await stack.deposit(client, "mbBANK", 10_000n);
    await stack.borrow(client, 50_000n * CNY, 40_000n * CNY);
    // mbTECH +60 % trips its breaker; mbBANK falls 15 % a round (inside the move limit) to 6.1: the engine calls
    // the client's margin
    await stack.relayPrices({ mbBANK: "8.5", mbTECH: "80" });
    await poke("mbBANK");
    await poke("mbTECH");
    for (const p of ["7.2", "6.1"]) {
      await stack.relayPrices({ mbBANK: p });
      await poke("mbBANK");
    }
    await (await stack.engine(dev.signers[0]).poke(await client.getAddress())).wait();
    expect((await router.assetState(dev.record.contracts.mbTECH)).tripped).to.equal(true);
    // a risk-parameter change scheduled behind a one-hour delay
    const manager = ProtocolAccessManager__factory.connect(dev.record.contracts.AccessManager, dev.signers[0]);
    const deputy = await p.getSigner(12);
    await (await manager.grantRole(3n, await deputy.getAddress(), 3_600)).wait();
    const data = router.interface.encodeFunctionData("setGuards", [
      dev.record.contracts.mbSMALL,
      3_000,
      parseUnits("0.02", 18),
      parseUnits("0.2", 18),
    ]);
    await (await manager.connect(deputy).schedule(dev.record.contracts.OracleRouter, data, 0)).wait();

    service = await stack.startService(API_PORT, await client.getAddress(), {
      risk: { breakerResetKey: DEV_KEYS.riskOfficerKey },
      kycOfficerKey: DEV_PRIVATE_KEYS[1],
    });
    applicationId = await fileApplication(await p.getSigner(13));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A tier-5 application (above the auto-approval limit) with the risk disclosure signed: it waits for review. */
  async function fileApplication(applicant: JsonRpcSigner): Promise<string> {
    const api = new ApiClient(
      service.url,
      await createApiKey(service.store, Buffer.from(DEV_KEYS.apiSecretKey, "hex"), {
        role: "client",
        subject: await applicant.getAddress(),
        label: "ops applicant",
      }),
    );
    const filed = await api.post<{ id: string }>("/v1/kyc/applications", {
      jurisdiction: 156,
      identity: {
        fullName: "Zhao Min",
        dateOfBirth: "1985-05-05",
        nationality: "CN",
        documentType: "passport",
        documentNumber: "E87654321",
        homeAddress: "8 Lujiazui Ring Road, Pudong, Shanghai",
      },
      questionnaire: {
        investmentExperienceYears: 12,
        annualIncomeCny: "1500000",
        netAssetsCny: "12000000",
        lossTolerancePct: 50,
        objective: "growth",
        understandsMarginCalls: true,
      },
      suitability: quizAnswers(),
      creditScore: 820,
    });
    expect(filed.status, JSON.stringify(filed.body)).to.equal(201);
    const after = await acknowledge(api, applicant, filed.body.id);
    expect(after.status).to.equal(200);
    expect(after.body.application.status).to.equal("pending_review");
    return filed.body.id;
  }

  async function signIn(page: Page, role: StaffRole): Promise<void> {
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    const key = service.demoKeys[role]!;
    await page.fill("input[name=keyId]", key.keyId);
    await page.fill("input[name=secret]", key.secret);
    await page.click("#key-form button[type=submit]");
  }

  it("walks every ops page in 简体中文 and English with no text left untranslated, the ops nav on each", async () => {
    const pages: { name: string; role: StaffRole; ready: string }[] = [
      { name: "ops", role: "kyc_officer", ready: `#kyc-queue tr[data-application='${applicationId}']` },
      { name: "ops-margin", role: "risk_officer", ready: "#board tbody tr[data-state] form[data-pause]" },
      { name: "ops-oracle", role: "risk_officer", ready: "#feeds tbody tr[data-asset='mbTECH'] form[data-reset]" },
      { name: "ops-params", role: "risk_officer", ready: "#operations tbody tr[data-status='pending']" },
      { name: "ops-amendments", role: "risk_officer", ready: "#amendments tbody tr td" },
      { name: "ops-agreements", role: "risk_officer", ready: "#ends p.muted, #ends article" },
    ];
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    for (const lang of ["zh-CN", "en"] as const) {
      for (const p of pages) {
        await page.goto(`${service.url}/console/${p.name}.html${lang === "en" ? "?lang=en" : ""}`);
        await signIn(page, p.role);
        await page.waitForSelector(p.ready, { timeout: 20_000 });
        if (p.name === "ops") {
          // the application's detail too: quiz, identity, acknowledgements, history
          await page.click(`#kyc-queue [data-open='${applicationId}']`);
          await page.waitForSelector("#kyc-detail:not([hidden]) #detail-history li");
        }
        await page.waitForTimeout(300);
        expect(await page.getAttribute("html", "lang"), p.name).to.equal(lang);
        await expectTranslated(page, lang, p.name);
        // the ops nav: every ops page, S1's and S2's included, in the page's language, this one marked
        const nav = await page.locator("nav.ops-nav a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
        expect(nav.map((h) => h!.split("?")[0].split("/").pop())).to.deep.equal([
          "ops.html",
          "ops-margin.html",
          "ops-oracle.html",
          "ops-params.html",
          "ops-amendments.html",
          "ops-groups.html",
          "ops-alerts.html",
          "ops-agreements.html",
        ]);
        if (lang === "en") expect(nav.every((h) => h!.includes("lang=en"))).to.equal(true);
        expect(await page.getAttribute("nav.ops-nav a[aria-current=page]", "href")).to.contain(`${p.name}.html`);
        if (lang === "zh-CN")
          await page.screenshot({ path: path.join(SHOTS, `console-${p.name}-zh.png`), fullPage: true });
      }
    }
    // the board's figures are the API's; the params page names the function it decoded
    await page.goto(`${service.url}/console/ops-params.html?lang=en`);
    await signIn(page, "risk_officer");
    await page.waitForSelector("#operations tbody tr[data-status='pending']");
    expect(await page.textContent("#operations tbody")).to.contain("setGuards(address,uint32,uint64,uint64)");
    await page.close();
  });

  it("a KYC officer opens the application and approves it with a reason from ops.html", async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    await page.goto(`${service.url}/console/ops.html?lang=en`);
    await signIn(page, "kyc_officer");
    await page.click(`#kyc-queue [data-open='${applicationId}']`);
    await page.waitForSelector("#kyc-detail:not([hidden])");
    expect(await page.textContent("#detail-identity")).to.contain("Zhao Min"); // the KYC officer's audited read
    await page.fill("#decide-form input[name=reason]", "documents verified by video call");
    await page.click("#approve");
    await page.waitForSelector("#decide-status[data-done='approve']", { timeout: 30_000 });
    const a = await new ApiClient(service.url, service.demoKeys.kyc_officer).get<{ status: string; txHash: string }>(
      `/v1/kyc/applications/${applicationId}`,
    );
    expect(a.body.status).to.equal("approved");
    const audit = (await service.store.audit.list(1, 10_000)).filter((e) => e.action === "kyc.approve");
    expect(audit).to.have.length(1);
    await page.screenshot({ path: path.join(SHOTS, "console-ops-approved.png"), fullPage: true });
    await page.close();
  });

  it("a risk officer pauses automatic liquidation of the called account from the board, then resumes it", async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    await page.goto(`${service.url}/console/ops-margin.html?lang=en`);
    await signIn(page, "risk_officer");
    const form = page.locator("#board tbody form[data-pause]").first();
    await form.waitFor({ timeout: 20_000 });
    const account = await form.getAttribute("data-pause");
    await form.locator("input[name=reason]").fill("client wiring cash, confirmed by phone");
    await form.locator("button[type=submit]").click();
    await page.waitForSelector("#action-status[data-done='margin.pausedDone']");
    const api = new ApiClient(service.url, service.demoKeys.risk_officer);
    const overrides = async () =>
      (await api.get<{ overrides: { target: string }[] }>("/v1/keeper/overrides")).body.overrides.map((o) => o.target);
    expect(await overrides()).to.deep.equal([account]);
    await page.waitForSelector(`#overrides tbody [data-resume='${account}']`);
    expect(await page.textContent(`#board tbody tr[data-account='${account}']`)).to.contain(
      "automatic liquidation paused",
    );
    await page.screenshot({ path: path.join(SHOTS, "console-ops-margin-paused.png"), fullPage: true });
    await page.click(`#overrides tbody [data-resume='${account}']`);
    await page.waitForSelector("#action-status[data-done='margin.resumedDone']");
    expect(await overrides()).to.deep.equal([]);
    await page.close();
  });

  it("a risk officer re-arms the tripped mbTECH breaker from ops-oracle.html; the chain shows it armed", async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    await page.goto(`${service.url}/console/ops-oracle.html?lang=en`);
    await signIn(page, "risk_officer");
    await page.waitForSelector("#reset-line[data-available='true']");
    const form = page.locator("#feeds tbody tr[data-asset='mbTECH'] form[data-reset]");
    await form.locator("input[name=reason]").fill("jump confirmed against the exchange close");
    await form.locator("button[type=submit]").click();
    await page.waitForSelector("#reset-status[data-done='mbTECH']", { timeout: 30_000 });
    await page.waitForSelector("#feeds tbody tr[data-asset='mbTECH'][data-tripped='false']");
    expect((await router.assetState(dev.record.contracts.mbTECH)).tripped).to.equal(false);
    expect(await page.textContent("#resets tbody")).to.contain("mined");
    await page.screenshot({ path: path.join(SHOTS, "console-ops-oracle-rearmed.png"), fullPage: true });
    await page.close();
  });
});
