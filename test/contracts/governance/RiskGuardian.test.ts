import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ROLE } from "../../../scripts/deploy/roles";
import { CNY, marginFixture, pct, price, type MarginFixture } from "../../helpers/marginFixture";
import { feedPrice } from "../../helpers/oracle";
import { RiskGuardian__factory, type RiskGuardian } from "../../../typechain-types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

const reason = (s: string): string => hre.ethers.encodeBytes32String(s);
const addr = (c: { getAddress(): Promise<string> }): Promise<string> => c.getAddress();

interface GuardianFixture extends MarginFixture {
  guardian: RiskGuardian;
  deputy: HardhatEthersSigner;
  /** A risk officer whose changes wait the production delay (a day). */
  officer: HardhatEthersSigner;
}

/** The margin fixture with a guardian (the deputy) and a risk officer on the production delay. */
async function guardianFixture(): Promise<GuardianFixture> {
  const fx = await marginFixture();
  const deputy = fx.actors.users[8];
  const officer = fx.actors.users[9];
  await fx.manager.grantRole(ROLE.GUARDIAN, deputy.address, 0);
  await fx.manager.grantRole(ROLE.RISK_OFFICER, officer.address, 86_400);
  const guardian = RiskGuardian__factory.connect(fx.record.contracts.RiskGuardian, deputy);
  return { ...fx, guardian, deputy, officer };
}

function tierOf(t: Awaited<ReturnType<MarginFixture["engine"]["tierRisk"]>>) {
  return {
    liquidityAddOn: t.liquidityAddOn,
    volatilityMultiplier: t.volatilityMultiplier,
    floor: t.floor,
    cap: t.cap,
    initialBuffer: t.initialBuffer,
    fixedVolatility: t.fixedVolatility,
  };
}

describe("RiskGuardian: tighten at once, loosen after the delay", () => {
  it("raises a tier's margins at once, while the risk officer's own change waits the delay", async () => {
    const fx = await loadFixture(guardianFixture);
    const before = tierOf(await fx.engine.tierRisk(1));
    const tighter = { ...before, floor: before.floor + pct(5), initialBuffer: before.initialBuffer + pct(5) };
    await expect(fx.guardian.tightenTierRisk(1, tighter, reason("gap-down")))
      .to.emit(fx.guardian, "RiskTightened")
      .withArgs(await addr(fx.engine), reason("tierRisk"), reason("gap-down"), (b: string) => b.length > 2);
    expect(tierOf(await fx.engine.tierRisk(1))).to.deep.equal(tighter);
    // Undoing it is a loosening: the risk officer schedules it and waits the delay.
    await expect(fx.engine.connect(fx.officer).setTierRisk(1, before)).to.be.revertedWithCustomError(
      fx.manager,
      "AccessManagerNotScheduled",
    );
    const data = fx.engine.interface.encodeFunctionData("setTierRisk", [1, before]);
    await fx.manager.connect(fx.officer).schedule(await addr(fx.engine), data, 0);
    await time.increase(86_400);
    await fx.manager.connect(fx.officer).execute(await addr(fx.engine), data);
    expect(tierOf(await fx.engine.tierRisk(1))).to.deep.equal(before);
  });

  it("refuses a loosening, one disguised as a tightening, no change, a missing reason and anyone but the guardian", async () => {
    const fx = await loadFixture(guardianFixture);
    const cur = tierOf(await fx.engine.tierRisk(1));
    await expect(fx.guardian.tightenTierRisk(1, { ...cur, floor: cur.floor - pct(1) }, reason("r")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("tierRisk"), 2);
    // a lower fixed-mode volatility lowers every fixed account's margins: a loosening, whatever else rises
    await expect(
      fx.guardian.tightenTierRisk(
        1,
        { ...cur, floor: cur.floor + pct(1), fixedVolatility: cur.fixedVolatility - pct(1) },
        reason("r"),
      ),
    )
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("tierRisk"), 5);
    // a higher floor paired with a lower cap: the cap lets maintenance fall in a volatile market
    await expect(
      fx.guardian.tightenTierRisk(1, { ...cur, floor: cur.floor + pct(1), cap: cur.cap - pct(5) }, reason("r")),
    )
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("tierRisk"), 3);
    await expect(fx.guardian.tightenTierRisk(1, cur, reason("r")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("tierRisk"), hre.ethers.MaxUint256);
    await expect(
      fx.guardian.tightenTierRisk(1, { ...cur, floor: cur.floor + pct(1) }, hre.ethers.ZeroHash),
    ).to.be.revertedWithCustomError(fx.guardian, "GuardianReasonMissing");
    await expect(fx.guardian.connect(fx.clientA).tightenTierRisk(1, { ...cur, floor: cur.floor + pct(1) }, reason("r")))
      .to.be.revertedWithCustomError(fx.guardian, "AccessManagedUnauthorized")
      .withArgs(fx.clientA.address);
    // The guardian cannot call the engine's setters itself: only the RiskGuardian holds the immediate path.
    await expect(fx.engine.connect(fx.deputy).setTierRisk(1, cur)).to.be.revertedWithCustomError(
      fx.engine,
      "AccessManagedUnauthorized",
    );
  });

  it("raises a haircut at once without handing liquidations a fresh seizure window", async () => {
    const fx = await loadFixture(guardianFixture);
    const small = await addr(fx.small);
    const cfg = await fx.engine.assetConfig(small);
    await expect(fx.guardian.tightenHaircut(small, cfg.haircut, reason("r")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("haircut"), 0);
    await fx.guardian.tightenHaircut(small, cfg.haircut + pct(10), reason("illiquid"));
    const after = await fx.engine.assetConfig(small);
    expect(after.haircut).to.equal(cfg.haircut + pct(10));
    expect([after.windowStart, after.seizedInWindow, after.windowCap]).to.deep.equal([
      cfg.windowStart,
      cfg.seizedInWindow,
      cfg.windowCap,
    ]);
  });

  it("pauses new risk on an asset at once: holders may not borrow, but may repay, sell and be liquidated", async () => {
    const fx = await loadFixture(guardianFixture);
    await fx.fundAccount(fx.clientC, fx.bank, 1_000n);
    await fx.fundAccount(fx.clientA, fx.cash, 10_000n * CNY);
    await fx.engine.connect(fx.clientC).borrow(1_000n * CNY);
    const bank = await addr(fx.bank);
    await expect(fx.guardian.pauseBorrowing(bank, reason("suspension")))
      .to.emit(fx.engine, "BorrowingPaused")
      .withArgs(bank, true);
    await expect(fx.engine.connect(fx.clientC).borrow(1n * CNY))
      .to.be.revertedWithCustomError(fx.engine, "MarginBorrowingPaused")
      .withArgs(bank);
    await expect(fx.engine.connect(fx.clientC).withdraw(await addr(fx.cash), 1n * CNY))
      .to.be.revertedWithCustomError(fx.engine, "MarginBorrowingPaused")
      .withArgs(bank);
    expect(await fx.engine.checkInitialMargin(fx.clientC.address)).to.equal(false);
    await fx.engine.connect(fx.clientC).repay(500n * CNY);
    // An account without the asset borrows as before.
    await fx.engine.connect(fx.clientA).borrow(1_000n * CNY);
    await expect(fx.guardian.pauseBorrowing(bank, reason("again")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("pauseBorrowing"), 0);
    // Resuming is the risk officer's, after the delay.
    await expect(fx.engine.connect(fx.officer).setBorrowingPaused(bank, false)).to.be.revertedWithCustomError(
      fx.manager,
      "AccessManagerNotScheduled",
    );
  });

  it("lowers a KYC tier's leverage at once, never raises it", async () => {
    const fx = await loadFixture(guardianFixture);
    await expect(fx.guardian.tightenLeverage(5, 4n * 10n ** 18n, reason("vol")))
      .to.emit(fx.kyc, "TierLeverageSet")
      .withArgs(5, 4n * 10n ** 18n);
    await expect(fx.guardian.tightenLeverage(5, 5n * 10n ** 18n, reason("undo")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("leverage"), 0);
    await expect(fx.guardian.tightenLeverage(1, 5n * 10n ** 17n, reason("below 1x")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("leverage"), 0);
  });

  it("tightens the oracle's guards without re-arming a tripped breaker, and refuses looser ones", async () => {
    const fx = await loadFixture(guardianFixture);
    const bank = await addr(fx.bank);
    const p = await fx.router.assetParams(bank);
    // The margin fixture runs with the breaker off (maxMove 0): switching it on is a tightening.
    await fx.guardian.tightenOracleGuards(bank, p.maxStaleness, p.maxDeviation, pct(10), reason("breaker on"));
    await expect(fx.guardian.tightenOracleGuards(bank, p.maxStaleness, p.maxDeviation, 0n, reason("off")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("oracleGuards"), 2);
    await expect(fx.guardian.tightenOracleGuards(bank, p.maxStaleness + 1n, p.maxDeviation, pct(10), reason("r")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("oracleGuards"), 0);
    await fx.setPrice(fx.bank, price(8)); // −20%: beyond the new 10% limit, the breaker trips
    expect((await fx.router.assetState(bank)).tripped).to.equal(true);
    await fx.guardian.tightenOracleGuards(bank, 600, p.maxDeviation, pct(5), reason("tighter"));
    expect((await fx.router.assetState(bank)).tripped).to.equal(true);
    expect((await fx.router.assetParams(bank)).maxStaleness).to.equal(600n);
  });

  it("re-arms a tripped breaker once the price is Safe, not before", async () => {
    const fx = await loadFixture(guardianFixture);
    const bank = await addr(fx.bank);
    const p = await fx.router.assetParams(bank);
    await fx.guardian.tightenOracleGuards(bank, p.maxStaleness, p.maxDeviation, pct(10), reason("breaker on"));
    await fx.setPrice(fx.bank, price(8));
    // The feed goes quiet beyond its staleness: re-arming now would leave a stale price, so it is refused.
    await time.increase(Number(p.maxStaleness) + 1);
    await expect(fx.guardian.rearmBreaker(bank, reason("gap")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianPriceNotSafe")
      .withArgs(bank, 1);
    expect((await fx.router.assetState(bank)).tripped).to.equal(true);
    await fx.feeds.get(bank)!.setAnswer(feedPrice("8"));
    await expect(fx.guardian.rearmBreaker(bank, reason("gap")))
      .to.emit(fx.router, "CircuitBreakerReset")
      .and.to.emit(fx.guardian, "RiskTightened");
    expect((await fx.router.assetState(bank)).tripped).to.equal(false);
  });

  it("shortens the grace period and raises the hard line at once; a longer grace period is refused", async () => {
    const fx = await loadFixture(guardianFixture);
    const p = await fx.engine.params();
    await fx.guardian.tightenParams(p.warningBuffer, p.hardFloorFactor + pct(10), p.targetBuffer, 1_800, reason("r"));
    const q = await fx.engine.params();
    expect([q.hardFloorFactor, q.gracePeriod, q.oracleGrace, q.dustValue]).to.deep.equal([
      p.hardFloorFactor + pct(10),
      1_800n,
      p.oracleGrace,
      p.dustValue,
    ]);
    await expect(fx.guardian.tightenParams(q.warningBuffer, q.hardFloorFactor, q.targetBuffer, 3_600, reason("r")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("params"), 3);
    await expect(fx.guardian.tightenParams(q.warningBuffer, q.hardFloorFactor - 1n, q.targetBuffer, 1_800, reason("r")))
      .to.be.revertedWithCustomError(fx.guardian, "GuardianNotTighter")
      .withArgs(reason("params"), 1);
  });
});
