import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { CNY, WAD, marginFixture, pct, price, zeroRate, type MarginFixture } from "../../helpers/marginFixture";

/**
 * Fixed or dynamic margins, the client's choice (issue 23): an account in its fixed term is margined at each tier's
 * `fixedVolatility` whatever the market's volatility; a dynamic account follows the router's. The attacks first:
 * a client with a loan switching to whichever mode asks less at the moment.
 */
const addr = (c: { getAddress(): Promise<string> }): Promise<string> => c.getAddress();
const DAY = 86_400;

/** Tier 1: maintenance = clamp(2 · σ_daily, 15 %, 60 %), initial + 5 %; the fixed mode at σ = 10 %: 20 % / 25 %. */
async function tierWithFixedMode(fx: MarginFixture): Promise<void> {
  await zeroRate(fx);
  await fx.engine.connect(fx.actors.riskOfficer).setTierRisk(1, {
    liquidityAddOn: 0n,
    volatilityMultiplier: 2n * WAD,
    floor: pct(15),
    cap: pct(60),
    initialBuffer: pct(5),
    fixedVolatility: pct(10),
  });
}

async function today(): Promise<number> {
  return Math.floor((await time.latest()) / DAY);
}

/** Client C fixed for 30 days, client B dynamic; each holds 10,000 mbBANK (100,000 CNY) and borrows 50,000. */
async function twoClients(): Promise<MarginFixture> {
  const fx = await marginFixture();
  await tierWithFixedMode(fx);
  await fx.engine.connect(fx.clientC).setFixedTerm((await today()) + 30);
  for (const c of [fx.clientB, fx.clientC]) {
    await fx.fundAccount(c, fx.bank, 10_000n);
    await fx.engine.connect(c).borrow(50_000n * CNY);
  }
  return fx;
}

/** Prices that swing by ±12 % a block: the router's time-weighted daily σ reaches the tier's cap. */
async function storm(fx: MarginFixture): Promise<void> {
  for (const p of [11.2, 9.9, 11.1, 9.8, 11.0, 10.0]) await fx.setPrice(fx.bank, price(p));
}

describe("MarginEngine: fixed or dynamic margins (the client's choice)", () => {
  it("attack: a client with a loan cannot switch to whichever mode asks less at the moment", async () => {
    const fx = await loadFixture(twoClients);
    await storm(fx);
    // The dynamic client in a storm would like the fixed mode's lower margin…
    await expect(fx.engine.connect(fx.clientB).setFixedTerm((await today()) + 30))
      .to.be.revertedWithCustomError(fx.engine, "MarginModeChangeWithDebt")
      .withArgs(fx.clientB.address);
    // …and the fixed client, in calm markets, the dynamic mode's lower floor; neither may, nor may it extend.
    await expect(fx.engine.connect(fx.clientC).setFixedTerm(0))
      .to.be.revertedWithCustomError(fx.engine, "MarginModeChangeWithDebt")
      .withArgs(fx.clientC.address);
    await expect(fx.engine.connect(fx.clientC).setFixedTerm((await today()) + 60)).to.be.revertedWithCustomError(
      fx.engine,
      "MarginModeChangeWithDebt",
    );
    expect((await fx.engine.recordedState(fx.clientB.address))[3]).to.equal(0n);
    // Repaid in full, the choice is free again.
    await fx.engine.connect(fx.clientB).repay(50_000n * CNY);
    await expect(fx.engine.connect(fx.clientB).setFixedTerm((await today()) + 30))
      .to.emit(fx.engine, "MarginModeSet")
      .withArgs(fx.clientB.address, (await today()) + 30);
  });

  it("keeps a fixed account's margins through a storm while a dynamic account's rise to the cap", async () => {
    const fx = await loadFixture(twoClients);
    const before = await fx.engine.accountView(fx.clientC.address);
    expect(before.maintenanceReq).to.equal(20_000n * CNY); // 100,000 at 20 % (σ fixed at 10 %)
    expect(before.initialReq).to.equal(25_000n * CNY);
    expect((await fx.engine.accountView(fx.clientB.address)).maintenanceReq).to.equal(15_000n * CNY); // the floor
    await storm(fx);
    const [dynamicMaintenance] = await fx.engine.assetMargins(await addr(fx.bank));
    expect(dynamicMaintenance).to.equal(pct(60));
    const fixedView = await fx.engine.accountView(fx.clientC.address);
    const dynamicView = await fx.engine.accountView(fx.clientB.address);
    // same holding, same price: the fixed account at 20 %, the dynamic one at the cap
    expect(fixedView.positionValue).to.equal(dynamicView.positionValue);
    expect(fixedView.maintenanceReq).to.equal((fixedView.positionValue * pct(20) + WAD - 1n) / WAD);
    expect(dynamicView.maintenanceReq).to.equal((dynamicView.positionValue * pct(60) + WAD - 1n) / WAD);
  });

  it("returns the account to the dynamic margins at the start of the day its term ends", async () => {
    const fx = await loadFixture(twoClients);
    await storm(fx);
    const end = Number((await fx.engine.recordedState(fx.clientC.address))[3]);
    await time.increaseTo(end * DAY - 60);
    await fx.refreshPrices();
    const last = await fx.engine.accountView(fx.clientC.address);
    expect(last.maintenanceReq).to.equal((last.positionValue * pct(20) + WAD - 1n) / WAD);
    await time.increaseTo(end * DAY);
    await fx.refreshPrices();
    const after = await fx.engine.accountView(fx.clientC.address);
    const [mm] = await fx.engine.assetMargins(await addr(fx.bank));
    expect(after.maintenanceReq).to.equal((after.positionValue * mm + WAD - 1n) / WAD);
    expect(mm).to.not.equal(pct(20)); // the market's margin, not the fixed one
  });

  it("caps new risk in the fixed term by the fixed initial margin, not the lower dynamic one", async () => {
    const fx = await loadFixture(marginFixture);
    await tierWithFixedMode(fx);
    await fx.engine.connect(fx.clientB).setFixedTerm((await today()) + 30); // client B fixed, client C dynamic
    // Each: 100,000 of mbBANK, 78,000 borrowed and withdrawn, equity 22,000 — above the dynamic initial
    // requirement (20 % of 100,000) and within client C's 5× (4.5×), below the fixed one (25 %).
    for (const c of [fx.clientB, fx.clientC]) {
      await fx.fundAccount(c, fx.bank, 10_000n);
      await fx.engine.connect(c).borrow(78_000n * CNY);
    }
    await fx.engine.connect(fx.clientC).withdraw(await addr(fx.cash), 78_000n * CNY);
    await expect(fx.engine.connect(fx.clientB).withdraw(await addr(fx.cash), 78_000n * CNY))
      .to.be.revertedWithCustomError(fx.engine, "MarginInitialMarginBreached")
      .withArgs(fx.clientB.address, 22_000n * CNY, 25_000n * CNY);
    expect(await fx.engine.checkInitialMargin(fx.clientC.address)).to.equal(true);
  });

  it("refuses a term that ends today or in the past, or more than 366 days ahead; 0 chooses the dynamic mode", async () => {
    const fx = await loadFixture(marginFixture);
    const d = await today();
    for (const bad of [d, d - 1, d + 367]) {
      await expect(fx.engine.connect(fx.clientA).setFixedTerm(bad))
        .to.be.revertedWithCustomError(fx.engine, "MarginInvalidFixedTerm")
        .withArgs(bad);
    }
    await expect(fx.engine.connect(fx.clientA).setFixedTerm(d + 366))
      .to.emit(fx.engine, "MarginModeSet")
      .withArgs(fx.clientA.address, d + 366);
    expect((await fx.engine.recordedState(fx.clientA.address))[3]).to.equal(BigInt(d + 366));
    await expect(fx.engine.connect(fx.clientA).setFixedTerm(0))
      .to.emit(fx.engine, "MarginModeSet")
      .withArgs(fx.clientA.address, 0);
    expect((await fx.engine.recordedState(fx.clientA.address))[3]).to.equal(0n);
  });

  it("stores the fixed volatility in steps of 0.01 % a day, at most 6.5535, and refuses others", async () => {
    const fx = await loadFixture(marginFixture);
    const officer = fx.engine.connect(fx.actors.riskOfficer);
    const t = await fx.engine.tierRisk(2);
    const risk = {
      liquidityAddOn: t.liquidityAddOn,
      volatilityMultiplier: t.volatilityMultiplier,
      floor: t.floor,
      cap: t.cap,
      initialBuffer: t.initialBuffer,
      fixedVolatility: 65_535n * 10n ** 14n,
    };
    await officer.setTierRisk(2, risk);
    expect((await fx.engine.tierRisk(2)).fixedVolatility).to.equal(65_535n * 10n ** 14n);
    for (const bad of [65_536n * 10n ** 14n, 10n ** 14n + 1n]) {
      await expect(officer.setTierRisk(2, { ...risk, fixedVolatility: bad }))
        .to.be.revertedWithCustomError(fx.engine, "MarginInvalidTierRisk")
        .withArgs(2);
    }
    expect(hre.ethers.toBigInt((await fx.engine.tierRisk(2)).fixedVolatility)).to.equal(65_535n * 10n ** 14n);
  });
});
