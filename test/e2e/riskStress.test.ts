import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JsonRpcSigner } from "ethers";
import type { Browser } from "playwright-core";
import { ApiClient } from "../../offchain/api";
import type { Service } from "../../offchain/main";
import {
  portfolioChain,
  readAccount,
  readBook,
  readMarginModes,
  reserveOf,
  stressRun,
  type ReserveAdequacySummary,
  type StressSummary,
  type MarginModesSummary,
} from "../../offchain/portfolio";
import { tierMargins } from "../../offchain/risk";
import { DEFAULT_TIER_RISK } from "../../scripts/deploy/margin";
import { MarginEngine__factory } from "../../typechain-types";
import { startDevChain, type DevChain } from "../helpers/devChain";
import { CHROMIUM, CNY, E2eStack, SHOTS, launchChromium } from "../helpers/e2eStack";

const CHAIN_PORT = 8781;
const API_PORT = 18781;
const WAD = 10n ** 18n;

/**
 * Stress tests on the real account set: a real hardhat node with the full deployment, a funded pool and two margin
 * accounts; the book read from the chain must equal the hand-computed one, GET /v1/risk/stress must answer by
 * role, and the capital-provider page must show the scenario table and the charts in headless Chromium.
 */
describe("risk stress on the real book (e2e)", function () {
  this.timeout(120_000);
  let dev: DevChain;
  let service: Service;
  let dir: string;
  let alice: JsonRpcSigner;
  let bob: JsonRpcSigner;
  let carol: JsonRpcSigner;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "mb-risk-"));
    dev = await startDevChain(CHAIN_PORT);
    const stack = new E2eStack(dev, dir);
    const p = dev.chain.provider;
    [alice, bob, carol] = [await p.getSigner(10), await p.getSigner(12), await p.getSigner(13)];
    const lender = await p.getSigner(11);

    await stack.verify(2, [alice, "risk-alice"], [bob, "risk-bob"], [carol, "risk-carol"], [lender, "risk-lender"]);
    await stack.relayPrices({ mbBANK: "10", mbTECH: "50", mbSMALL: "20" });
    await stack.mint("mbCNY", lender, 1_000_000n * CNY, "risk-lender-1");
    await stack.mint("mbBANK", alice, 10_000n, "risk-alice-1");
    await stack.mint("mbTECH", bob, 1_000n, "risk-bob-1");
    await stack.mint("mbSMALL", bob, 500n, "risk-bob-2");
    await stack.mint("mbSMALL", carol, 2_000n, "risk-carol-1");
    await stack.supplyPool(lender, 1_000_000n * CNY);
    // Alice: 10,000 mbBANK (100,000 CNY), borrows 50,000, takes 40,000 out → cash 10,000, debt 50,000.
    await stack.deposit(alice, "mbBANK", 10_000n);
    await stack.borrow(alice, 50_000n * CNY, 40_000n * CNY);
    // Bob: 1,000 mbTECH (50,000) and 500 mbSMALL (10,000), borrows 20,000 and keeps it as cash.
    await stack.deposit(bob, "mbTECH", 1_000n);
    await stack.deposit(bob, "mbSMALL", 500n);
    await stack.borrow(bob, 20_000n * CNY);
    // Carol, leveraged in small caps: 2,000 mbSMALL (40,000), borrows 15,900 and takes it all out (the KYC cap is 2× leverage) → cash 0.
    await stack.deposit(carol, "mbSMALL", 2_000n);
    await stack.borrow(carol, 15_900n * CNY, 15_900n * CNY);

    service = await stack.startService(API_PORT);
  });

  after(async () => {
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reads the book from the chain: the funded accounts, parameters, prices and funding, exactly", async () => {
    const { record } = dev;
    const chain = portfolioChain(service.chain!);
    const { book, block } = await readBook(chain);
    const at = { blockTag: block };
    const [a, b, c] = await Promise.all([alice, bob, carol].map(async (x) => (await x.getAddress()).toLowerCase()));
    const byId = new Map(book.accounts.map((x) => [x.id.toLowerCase(), x]));
    expect([...byId.keys()].sort()).to.deep.equal([a, b, c].sort());

    const engine = MarginEngine__factory.connect(record.contracts.MarginEngine, dev.chain.provider);
    const debtA = (await engine.accountView(a, at)).debt;
    const debtB = (await engine.accountView(b, at)).debt;
    const debtC = (await engine.accountView(c, at)).debt;
    // Interest accrues per second; at most a few seconds have passed since the borrow.
    expect(debtA)
      .to.be.gte(50_000n * CNY)
      .and.lt(50_001n * CNY);
    expect(debtB)
      .to.be.gte(20_000n * CNY)
      .and.lt(20_001n * CNY);
    expect(debtC)
      .to.be.gte(15_900n * CNY)
      .and.lt(15_901n * CNY);
    const rate = await chain.pool.borrowRate(at);
    expect(byId.get(a)).to.deep.equal({
      id: await alice.getAddress(),
      cash: 10_000n * CNY,
      debt: debtA,
      annualRate: rate,
      positions: [{ asset: record.contracts.mbBANK, quantity: 10_000n }],
    });
    expect(byId.get(b)).to.deep.equal({
      id: await bob.getAddress(),
      cash: 20_000n * CNY,
      debt: debtB,
      annualRate: rate,
      positions: [
        { asset: record.contracts.mbTECH, quantity: 1_000n },
        { asset: record.contracts.mbSMALL, quantity: 500n },
      ],
    });

    expect(byId.get(c)).to.deep.equal({
      id: await carol.getAddress(),
      cash: 0n,
      debt: debtC,
      annualRate: rate,
      positions: [{ asset: record.contracts.mbSMALL, quantity: 2_000n }],
    });

    expect(book.market.cashDecimals).to.equal(6);
    expect(Object.fromEntries(book.market.prices)).to.deep.equal({
      [record.contracts.mbBANK]: 10n * WAD,
      [record.contracts.mbTECH]: 50n * WAD,
      [record.contracts.mbSMALL]: 20n * WAD,
    });
    for (const [asset, risk] of book.market.assets) {
      const [config, margins] = await Promise.all([engine.assetConfig(asset, at), engine.assetMargins(asset, at)]);
      expect(risk).to.deep.include({
        haircut: config.haircut,
        liquidationPenalty: config.liquidationPenalty,
        maintenanceMargin: margins[0],
        initialMargin: margins[1],
        liquidityTier: Number(config.liquidityTier),
      });
    }
    expect([...book.market.assets.values()].map((x) => [x.symbol, x.decimals, x.liquidityTier]).sort()).to.deep.equal([
      ["mbBANK", 0, 1],
      ["mbSMALL", 0, 3],
      ["mbTECH", 0, 2],
    ]);

    // Pool: 1,000,000 deposited, 85,900 lent → 914,100 of cash, less the reserves accrued on the interest so far.
    const reservesOwed = await chain.pool.reservesOwed(at);
    expect(reservesOwed).to.be.lt(CNY);
    expect(book.funding.poolCash).to.equal(914_100n * CNY - reservesOwed);
    expect(book.funding.providerClaims).to.equal(await chain.pool.totalAssets(at));
    expect(book.funding.insuranceFund).to.equal(0n);
    const liquidatorShare = (await engine.params(at)).liquidatorShare;
    expect(book.funding.insuranceShareOfPenalty).to.equal(WAD - liquidatorShare);
  });

  it("GET /v1/risk/stress: scenarios, Monte Carlo, VaR and charts for the real book, by role", async () => {
    const provider = new ApiClient(service.url, service.demoKeys.capital_provider);
    const t0 = performance.now();
    const res = await provider.get<StressSummary>("/v1/risk/stress");
    const elapsed = performance.now() - t0;
    expect(res.status).to.equal(200);
    const s = res.body;
    expect(s.accounts).to.equal(3);
    // Collateral value: alice 10,000 + 100,000; bob 20,000 + 50,000 + 10,000; carol 40,000.
    expect(s.book.collateralValue).to.equal((230_000n * CNY).toString());
    expect(s.scenarios.map((x) => x.kind)).to.deep.equal(["historical", "historical", "monte-carlo"]);
    expect(s.scenarios.map((x) => x.id)).to.include.members(["a-share-2015", "covid-2020", "monte-carlo-p99"]);
    // Before: (pool cash + Σ engine debt) / totalAssets — 100% up to interest rounding; a loss can only lower it.
    for (const x of s.scenarios) {
      const [before, after] = [BigInt(x.reserveRatioBefore!), BigInt(x.reserveRatioAfter!)];
      expect(before - WAD)
        .to.be.gte(0n)
        .and.lt(WAD / 10n ** 9n);
      expect(after).to.be.lte(before);
    }
    expect(s.valueAtRisk.map((v) => `${v.method}:${v.horizonDays}`)).to.deep.equal([
      "historical:1",
      "monte-carlo:1",
      "historical:10",
      "monte-carlo:10",
    ]);
    // Carol's small caps (beta 1.3) cross her maintenance line in the 2015 crash: she is liquidated.
    const crash = s.scenarios.find((x) => x.id === "a-share-2015")!;
    expect(crash.accountsLiquidated).to.equal(1);
    expect(BigInt(crash.liquidationVolume)).to.be.gt(0n);
    for (const v of s.valueAtRisk) expect(BigInt(v.expectedShortfall)).to.be.gte(BigInt(v.valueAtRisk));
    expect(s.charts.length).to.be.greaterThan(3);
    for (const c of s.charts) expect(c.svg).to.match(/^(<\?xml[^>]*\?>\s*)?<svg[^>]*>[\s\S]*<\/svg>\s*$/);
    // How long it takes is a measured figure, printed (450 ms in the service, 1.5 s over HTTP in a CI run that shared
    // the machine with a benchmark), not a bound of this test: speed targets belong to benchmarks.
    console.log(`      stress run: ${s.elapsedMs} ms in the service, ${Math.round(elapsed)} ms over HTTP (cold)`);

    const asClient = new ApiClient(service.url, service.demoKeys.client);
    expect((await asClient.get("/v1/risk/stress")).status).to.equal(403);
    for (const role of ["risk_officer", "operator", "auditor"] as const) {
      const key = service.demoKeys[role];
      expect((await new ApiClient(service.url, key!).get("/v1/risk/stress")).status).to.equal(200);
    }
  });

  it("GET /v1/risk/reserve-adequacy: the fund's target at the 99th percentile, the gap and a contribution proposal", async () => {
    const officer = new ApiClient(service.url, service.demoKeys.risk_officer!);
    const res = await officer.get<ReserveAdequacySummary>("/v1/risk/reserve-adequacy");
    expect(res.status).to.equal(200);
    const r = res.body;
    const stress = (await officer.get<StressSummary>("/v1/risk/stress")).body;
    expect(r.block).to.equal(stress.block); // the same stress run
    expect(r.rule).to.deep.equal({ percentile: 0.99, paths: 100, days: 20, baseRate: (5n * 10n ** 14n).toString() });
    // the nearest-rank 99th percentile of 100 paths is the second largest: never above the stress page's worst 1%
    const p99Row = stress.scenarios.find((x) => x.id === "monte-carlo-p99")!;
    expect(BigInt(r.target)).to.be.gte(0n).and.lte(BigInt(p99Row.badDebt));
    expect(r.insuranceFund).to.equal(stress.book.insuranceFund);
    const gap = BigInt(r.target) - BigInt(r.insuranceFund);
    expect(r.gap).to.equal((gap > 0n ? gap : 0n).toString());
    expect(r.covered).to.equal(r.gap === "0");
    // loans booked: 50,000 + 20,000 + 15,900 CNY, all today
    expect(r.turnover).to.deep.equal({
      total: (85_900n * CNY).toString(),
      perDay: (85_900n * CNY).toString(),
      days: 1,
    });
    // rate = 5 bp × max(1, σ / σ_calm), rounded up; per day = turnover × rate, rounded down
    const multiplier = BigInt(r.volatility.multiplier);
    expect(multiplier).to.be.gte(WAD);
    const rate = BigInt(r.proposal.rate);
    expect(rate).to.be.gte(5n * 10n ** 14n);
    expect(BigInt(r.proposal.perDay)).to.equal((85_900n * CNY * rate) / WAD);
    const perDay = BigInt(r.proposal.perDay);
    expect(r.proposal.daysToTarget).to.equal(r.covered ? 0 : Number((BigInt(r.gap) + perDay - 1n) / perDay));
    expect(r.volatility.asset).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(r.proposal.text.en).to.match(r.covered ? /covers/ : /bp of every financed loan/);
    expect(r.proposal.text["zh-CN"]).to.match(/保险基金/);
    expect(
      (await new ApiClient(service.url, service.demoKeys.client).get("/v1/risk/reserve-adequacy")).status,
    ).to.equal(403);
    for (const role of ["capital_provider", "operator", "auditor"] as const) {
      const key = service.demoKeys[role];
      expect((await new ApiClient(service.url, key!).get("/v1/risk/reserve-adequacy")).status).to.equal(200);
    }
    console.log(`      reserve: target ${r.target}, fund ${r.insuranceFund}, gap ${r.gap}, ${r.proposal.text.en}`);
  });

  it("proposes a contribution when the fund falls short: the real book after a 70% fall of every price", async () => {
    const chain = portfolioChain(service.chain!);
    const real = await readBook(chain);
    // the same accounts, loans, turnover and volatilities, with every price 70% lower: two accounts already owe more than they hold
    const prices = new Map([...real.book.market.prices].map(([asset, p]) => [asset, (p * 30n) / 100n]));
    const fallen = { ...real, book: { ...real.book, market: { ...real.book.market, prices } } };
    const { report } = stressRun(fallen, chain);
    const r = await reserveOf(fallen, report, chain);
    // the nearest-rank 99th percentile of the paths' bad debt
    const losses = [...report.monteCarlo.badDebtByPath].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    expect(r.target).to.equal(losses[Math.ceil(0.99 * losses.length) - 1].toString());
    expect(BigInt(r.target)).to.be.gt(0n);
    const gap = BigInt(r.target) - BigInt(r.insuranceFund);
    expect(gap).to.be.gt(0n);
    expect(r.gap).to.equal(gap.toString());
    expect(r.covered).to.equal(false);
    const perDay = BigInt(r.proposal.perDay);
    expect(perDay).to.equal((BigInt(r.turnover.perDay) * BigInt(r.proposal.rate)) / WAD);
    expect(r.proposal.daysToTarget).to.equal(Number((gap + perDay - 1n) / perDay));
    expect(r.proposal.text.en).to.match(/^Charge \d+\.\d\d bp of every financed loan .* about \d+ days\.$/);
    expect(r.proposal.text["zh-CN"]).to.match(/基点计提保险基金/);
    console.log(`      after a 70% fall: target ${r.target}, gap ${r.gap}; ${r.proposal.text.en}`);
  });

  it("capital-provider page: Risk section shows the scenario table and the stress charts", async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    const browser: Browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${service.url}/console/provider.html?lang=en`);
      const key = service.demoKeys.capital_provider!;
      await page.fill("input[name=keyId]", key.keyId);
      await page.fill("input[name=secret]", key.secret);
      await page.click("#key-form button[type=submit]");
      await page.waitForSelector("#stress-charts svg", { timeout: 15_000 });
      expect(await page.locator("#stress tbody tr").count()).to.equal(3);
      const table = await page.textContent("#stress tbody");
      expect(table).to.contain("Monte Carlo 99th percentile");
      expect(await page.textContent("#risk-book")).to.contain("3 margin account(s)");
      await page.waitForFunction(() => (document.getElementById("reserve-proposal")?.textContent ?? "") !== "");
      expect(await page.textContent("#reserve-adequacy"))
        .to.contain("99th percentile of 100 paths")
        .and.contain("gap");
      expect(await page.textContent("#reserve-proposal")).to.contain("insurance fund");
      expect(await page.locator("#var tbody tr").count()).to.equal(4);
      expect(await page.locator("#stress-charts svg").count()).to.be.greaterThan(3);
      await page.screenshot({ path: path.join(SHOTS, "console-provider-risk.png"), fullPage: true });
      // The same section in Chinese (the key stays in this tab's session).
      await page.goto(`${service.url}/console/provider.html`);
      await page.waitForFunction(() => (document.getElementById("reserve-proposal")?.textContent ?? "") !== "");
      expect(await page.textContent("#reserve-adequacy")).to.contain("缺口");
      expect(await page.textContent("#reserve-proposal")).to.contain("保险基金");
    } finally {
      await browser.close();
    }
  });
  it("shows the fixed and the dynamic margins side by side, and a fixed account margined at the fixed ones", async () => {
    const pub = await new ApiClient(service.url).get<MarginModesSummary>("/v1/risk/margin-modes");
    expect(pub.status).to.equal(200);
    expect(pub.body.account).to.equal(null);
    expect(pub.body.maxTermDays).to.equal(366);
    const engine = MarginEngine__factory.connect(dev.record.contracts.MarginEngine, dev.chain.provider);
    for (const a of pub.body.assets) {
      const [mm, im, sigma] = await engine.assetMargins(a.address);
      expect([a.dynamic.maintenance, a.dynamic.initial, a.volatility]).to.deep.equal([mm, im, sigma].map(String));
      // the deployment's tiers (scripts/deploy/margin.ts): the fixed mode's σ is 6 % (tiers 1–2) or 8 % (tier 3)
      const rule = DEFAULT_TIER_RISK[a.liquidityTier];
      const fixed = tierMargins(
        {
          liquidityAddOn: BigInt(rule.liquidityAddOn),
          volatilityMultiplier: BigInt(rule.volatilityMultiplier),
          floor: BigInt(rule.floor),
          cap: BigInt(rule.cap),
          initialBuffer: BigInt(rule.initialBuffer),
        },
        BigInt(rule.fixedVolatility),
      );
      expect(a.fixed.volatility).to.equal(String(rule.fixedVolatility));
      expect([a.fixed.maintenance, a.fixed.initial, a.fixed.maxLeverage]).to.deep.equal(
        [fixed.maintenance, fixed.initial, fixed.maxLeverage].map(String),
      );
      expect(BigInt(a.fixed.maintenance)).to.be.greaterThan(BigInt(a.dynamic.maintenance)); // the premium, calm
    }
    expect(pub.body.assets.find((a) => a.liquidityTier === 1)?.fixed.maintenance).to.equal(
      String(197_700n * 10n ** 12n),
    );

    // Dave chooses a 90-day fixed term before borrowing, then holds mbBANK (tier 1) with debt.
    const p = dev.chain.provider;
    const dave = await p.getSigner(14);
    const stack = new E2eStack(dev, dir);
    await stack.verify(2, [dave, "risk-dave"]);
    await stack.mint("mbBANK", dave, 1_000n, "risk-dave-1");
    const until = Math.floor((await p.getBlock("latest"))!.timestamp / 86_400) + 90;
    await (await stack.engine(dave).setFixedTerm(until)).wait();
    await stack.deposit(dave, "mbBANK", 1_000n);
    await stack.borrow(dave, 2_000n * CNY, 2_000n * CNY);
    const chain = portfolioChain(service.chain!);
    const address = (await dave.getAddress()).toLowerCase();
    const modes = await readMarginModes(chain, address);
    expect(modes.account).to.deep.equal({
      address,
      mode: "fixed",
      fixedUntil: new Date(until * 86_400_000).toISOString().slice(0, 10),
    });
    const summary = await readAccount(chain, address);
    expect(summary.marginMode.mode).to.equal("fixed");
    const bank = modes.assets.find((a) => a.symbol === "mbBANK")!;
    expect(summary.positions[0].maintenanceMargin).to.equal(bank.fixed.maintenance);
    // the engine's own requirement is the value at the fixed margin, rounded up
    const view = await engine.accountView(address);
    expect(view.maintenanceReq).to.equal((view.positionValue * BigInt(bank.fixed.maintenance) + WAD - 1n) / WAD);
    expect(summary.maintenanceReq).to.equal(view.maintenanceReq.toString());
  });
});
