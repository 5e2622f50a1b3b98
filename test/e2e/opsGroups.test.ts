import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import type { Browser, Page } from "playwright-core";
import { ApiClient } from "../../offchain/api";
import { startService, type Service } from "../../offchain/main";
import { DEV_KEYS, parseConfig } from "../../offchain/shared/config";
import { silentLogger } from "../../offchain/shared/logger";
import { PLATFORM_RISK_LIMITS } from "../../scripts/lib/riskLimits";
import { expectTranslated } from "../helpers/consoleText";
import { CHROMIUM, SHOTS, launchChromium } from "../helpers/e2eStack";

const API_PORT = 18955;
const WAD = 10n ** 18n;

/**
 * The risk officer's linked-accounts page in headless Chromium: the service on SQLite (no chain needed: groups come
 * from the store, the queue from the review job's findings), two accounts linked by a declared owner, two open
 * reviews; the page in both languages, and decisions made from it.
 */
describe("ops-groups.html: linked accounts and the review queue in Chromium (e2e)", function () {
  this.timeout(90_000);
  let service: Service;
  let browser: Browser;
  let dir: string;
  const [a, b, c] = [0, 1, 2].map(() => Wallet.createRandom().address.toLowerCase());

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`skipping the ops-groups console test: ${CHROMIUM} is absent`);
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), "mb-ops-groups-"));
    const config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      chain: { deploymentsDir: dir },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
    });
    // the order books' limits name the behaviour tiers (the books themselves need a chain and stay off here)
    service = await startService(config, {
      log: silentLogger,
      demoKeys: true,
      orderbook: { limits: PLATFORM_RISK_LIMITS },
    });
    const officer = new ApiClient(service.url, service.demoKeys.risk_officer!);
    for (const account of [a, b])
      expect(
        (
          await officer.request("PUT", `/v1/surveillance/accounts/${account}/beneficial-owner`, {
            body: { owner: "77-0012", note: "one client, two accounts" },
          })
        ).status,
      ).to.equal(200);
    const now = Date.now();
    await service.store.groups.openReview({
      account: a,
      reason: "leverage",
      figure: 45n * (WAD / 10n),
      threshold: 4n * WAD,
      evidence: "{}",
      openedAt: now,
    });
    await service.store.groups.openReview({
      account: c,
      reason: "losses",
      figure: 35n * (WAD / 100n),
      threshold: 30n * (WAD / 100n),
      evidence: "{}",
      openedAt: now,
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(lang: "zh-CN" | "en"): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    await page.goto(`${service.url}/console/ops-groups.html${lang === "en" ? "?lang=en" : ""}`);
    const key = service.demoKeys.risk_officer!;
    await page.fill("input[name=keyId]", key.keyId);
    await page.fill("input[name=secret]", key.secret);
    await page.click("#key-form button[type=submit]");
    await page.waitForSelector("#reviews tbody [data-review]");
    return page;
  }

  it("shows the groups and the queue in both languages, with no untranslated text", async () => {
    for (const lang of ["zh-CN", "en"] as const) {
      const page = await open(lang);
      const groups = await page.textContent("#groups tbody");
      expect(groups).to.contain(lang === "en" ? "same beneficial owner 77-0012" : "同一实际受益人 77-0012");
      expect(await page.locator("#reviews tbody tr").count()).to.equal(2);
      const reviews = await page.textContent("#reviews tbody");
      expect(reviews).to.contain(lang === "en" ? "4.50× (threshold 4.00×)" : "4.50 倍（阈值 4.00 倍）");
      expect(reviews).to.contain(lang === "en" ? "lost 35.00% (threshold 30.00%)" : "亏损 35.00%（阈值 30.00%）");
      await expectTranslated(page, lang, "ops-groups");
      await page.screenshot({ path: path.join(SHOTS, `ops-groups-${lang}.png`), fullPage: true });
      await page.close();
    }
  });

  it("a decision made from the page: lower-tier sets the behaviour tier, dismiss closes the review; both audited", async () => {
    const page = await open("en");
    const leverage = page.locator("#reviews tbody tr", { hasText: "High leverage used" });
    await leverage.locator("select[name=tier]").selectOption("restricted");
    await leverage.locator("input[name=note]").fill("4.5x with two margin calls last week");
    await leverage.locator("button[data-action=lower-tier]").click();
    await page.waitForFunction(() => document.getElementById("decision-status")?.textContent?.includes("lowered"));
    expect(await page.textContent("#decision-status")).to.contain("Restricted (sell only)");
    expect(await service.store.surveillance.tier(a)).to.include({ tier: "restricted", reasonCode: "LEVERAGE_SPIKE" });

    await page.waitForFunction(() => document.querySelectorAll("#reviews tbody [data-review]").length === 1);
    const losses = page.locator("#reviews tbody tr", { hasText: "Large losses" });
    // no reason: refused by the API, shown on the page, nothing decided
    await losses.locator("button[data-action=dismiss]").click();
    await page.waitForFunction(() => document.getElementById("decision-status")?.className.includes("bad"));
    expect(await page.textContent("#decision-status")).to.contain("three characters");
    await page.locator("#reviews tbody tr", { hasText: "Large losses" }).locator("input[name=note]").fill("a hedge");
    await page.locator("#reviews tbody tr", { hasText: "Large losses" }).locator("button[data-action=dismiss]").click();
    await page.waitForFunction(() => document.getElementById("decision-status")?.textContent?.includes("dismissed"));
    await page.waitForSelector("#reviews tbody td.muted");
    expect(await page.textContent("#reviews tbody")).to.contain("No account waiting for review");
    const decided = await service.store.groups.reviews({ account: c });
    expect(decided[0]).to.include({
      status: "dismissed",
      note: "a hedge",
      decidedBy: "risk_officer:demo-risk_officer",
    });
    const audit = (await service.store.audit.list(1, 1_000)).filter((e) => e.action === "surveillance.review.decide");
    expect(audit.map((e) => e.details.status)).to.include.members([200, 200]);
    await page.close();
  });
});
