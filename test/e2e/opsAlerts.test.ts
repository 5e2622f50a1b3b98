import { expect } from "chai";
import { existsSync } from "node:fs";
import path from "node:path";
import { Wallet } from "ethers";
import type { Browser, Page } from "playwright-core";
import { silentLogger } from "../../offchain/shared/logger";
import type { Store } from "../../offchain/store";
import { FlowSurveillance, amlConfig, flowRules, runAml } from "../../offchain/surveillance";
import { alertRoutes } from "../../offchain/surveillance/alertRoutes";
import { surveillanceRoutes } from "../../offchain/surveillance/routes";
import { webConsoleMounts } from "../../offchain/web";
import { PLATFORM_RISK_LIMITS } from "../../scripts/lib/riskLimits";
import { startTestApi, type TestApi } from "../helpers/api";
import { expectTranslated } from "../helpers/consoleText";
import { CHROMIUM, SHOTS, launchChromium } from "../helpers/e2eStack";
import { SeededFlow } from "../helpers/orderFlow";

const TIERS = Object.keys(PLATFORM_RISK_LIMITS.tiers);
const PORT = 18972;
const T0 = 1_800_000_000_000;

/**
 * The alerts page in headless Chromium over a real API on SQLite: a seeded order burst and an in-and-out of cash
 * raise alerts; the risk officer reads the evidence and accepts one from the page (the account is flagged), adds a
 * note to the AML case; both languages, no untranslated text.
 */
describe("ops-alerts console page in headless Chromium (e2e)", function () {
  this.timeout(120_000);
  let api: TestApi;
  let browser: Browser;
  const stuffer = Wallet.createRandom().address.toLowerCase();
  const mule = Wallet.createRandom().address.toLowerCase();

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`skipping the alerts page test: ${CHROMIUM} is absent`);
      this.skip();
    }
    api = await startTestApi({
      port: PORT,
      staticMounts: webConsoleMounts(),
      setup: async (store: Store) => ({ capabilities: [surveillanceRoutes(store, TIERS), alertRoutes(store, TIERS)] }),
    });
    const f = new SeededFlow("BOOK");
    for (let i = 0; i < 30; i++) f.limit(T0 + i * 10, stuffer, "buy", 900, 1);
    await f.write(api.store);
    await new FlowSurveillance(api.store, { rules: flowRules(), tiers: TIERS, log: silentLogger }).run(T0 + 3_600_000);
    for (const [event, block] of [
      ["CollateralDeposited", 5],
      ["CollateralWithdrawn", 9],
    ] as const)
      await api.store.chain.insertEvent("main", {
        blockNumber: block,
        logIndex: 0,
        blockHash: "0x" + "3".repeat(64),
        txHash: "0x" + String(block).padStart(64, "0"),
        contract: "MarginEngine",
        address: "0x00000000000000000000000000000000000000e1",
        event,
        topics: [],
        data: "0x",
        args: { account: mule, asset: "0x00000000000000000000000000000000000000c1", amount: "3000000000" },
      });
    await api.store.chain.setCursor("main", { blockNumber: 9, blockHash: "0x" });
    await runAml(api.store, TIERS, amlConfig());
    browser = await launchChromium();
  });
  after(async function () {
    await browser?.close();
    await api?.close();
  });

  async function signedIn(lang: "zh-CN" | "en"): Promise<Page> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${api.running.url}/console/ops-alerts.html?lang=${lang}`);
    const key = api.keys.risk_officer;
    await page.fill("input[name=keyId]", key.keyId);
    await page.fill("input[name=secret]", key.secret);
    await page.click("#key-form button[type=submit]");
    await page.waitForSelector("#alert-table tbody button[data-alert]");
    await page.waitForSelector("#case-table tbody button[data-case]");
    expect(errors).to.deep.equal([]);
    return page;
  }

  it("shows the queue, an alert's evidence and a case in both languages, with nothing left untranslated", async function () {
    for (const lang of ["zh-CN", "en"] as const) {
      const page = await signedIn(lang);
      expect(await page.locator("#alert-table tbody tr").count()).to.equal(3);
      await page.locator("#alert-table tbody button[data-alert]").first().click();
      await page.waitForSelector("#figures tbody tr");
      await page.locator("#case-table tbody button[data-case]").first().click();
      await page.waitForSelector("#case-notes li");
      await expectTranslated(page, lang, "ops-alerts.html");
      await page.screenshot({ path: path.join(SHOTS, `ops-alerts-${lang}.png`), fullPage: true });
      await page.close();
    }
  });

  it("accepting from the page flags the account; a note on the AML case moves it to investigating; the flagged account is listed and cleared from the page", async function () {
    const page = await signedIn("en");
    const burst = (await api.store.alerts.list({ account: stuffer })).find((a) => a.rule === "burst")!;
    await page.click(`#alert-table button[data-alert="${burst.id}"]`);
    await page.waitForFunction(() => document.getElementById("detail-title")?.textContent?.includes("Order burst"));
    expect(await page.textContent("#figures tbody")).to.contain("Orders in the burst");
    expect(await page.textContent("#order-ids")).to.match(/^1, 2, 3/);
    await page.fill("#d-note", "thirty orders in 300 ms, no trade");
    await page.click("#accept");
    await page.waitForFunction(() => document.getElementById("decide-status")?.textContent?.includes("accepted"));
    expect(await api.store.surveillance.tier(stuffer)).to.include({ tier: "flagged", reasonCode: "ORDER_STUFFING" });
    expect((await api.store.alerts.get(burst.id))!.decidedBy).to.equal("risk_officer:risk_officer-subject");
    await page.waitForSelector("#decide", { state: "hidden" }); // decided: no form for it any more

    await page.locator("#case-table tbody button[data-case]").first().click();
    await page.waitForSelector("#case-detail:not([hidden])");
    await page.selectOption("#c-status", "investigating");
    await page.fill("#c-note", "source of funds requested");
    await page.click("#add-note");
    await page.waitForFunction(() => document.getElementById("case-notes")?.textContent?.includes("source of funds"));
    const [c] = await api.store.alerts.cases();
    expect(c).to.include({ status: "investigating", version: 2 });
    expect(await api.store.alerts.notes(c.id)).to.have.length(1);

    // The flagged account is listed with its tier and reason, and a risk officer clears it from the page.
    const clear = `#flagged-table button[data-clear="${stuffer}"]`;
    await page.waitForSelector(clear);
    const listed = await page.textContent("#flagged-table tbody");
    expect(listed).to.contain("Flagged (1× leverage, one order a second)");
    await page.click(clear);
    // without a note: refused (400), nothing changes
    await page.waitForFunction(() => document.getElementById("flag-status")?.textContent?.includes("Not accepted"));
    expect(await api.store.surveillance.tier(stuffer)).to.include({ tier: "flagged" });
    await page.fill("#flag-note", "reviewed: a market maker's quote refresh, not stuffing");
    await page.click(clear);
    await page.waitForFunction(() => document.getElementById("flag-status")?.textContent?.includes("cleared"));
    expect((await api.store.surveillance.tier(stuffer))?.tier ?? "standard").to.equal("standard");
    await page.waitForSelector(clear, { state: "detached" });
    await page.close();
  });
});
