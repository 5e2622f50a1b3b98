import { expect } from "chai";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { CNY, State, pct, price, setTier } from "../../helpers/marginFixture";
import { DEV_PORTFOLIO_GRID } from "../../../scripts/deploy/options";
import { ROLE } from "../../../scripts/deploy/roles";
import { portfolioRequirement, type PortfolioRiskParameters } from "../../../offchain/risk";
import { SIZE, VOLATILITY, WAD, optionsFixture, type OptionsFixture } from "../../../fixtures/options";
import { PortfolioRisk__factory, type PortfolioRisk } from "../../../typechain-types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

/**
 * Issue 26, portfolio margin in the engine: an account that opts in is margined by the PortfolioRisk satellite's
 * scenario grid for each underlying it holds options on; every other account and position keeps the rule. Each attack
 * (the client, its accomplice, a liquidator, the operator) is written as a test first, then the rule that refuses it
 * (docs/security.md rule 22; docs/margin.md "Portfolio margin in the engine").
 */

const addr = (c: { getAddress(): Promise<string> }): Promise<string> => c.getAddress();

const GRID = (priceRange: bigint): PortfolioRiskParameters => ({
  priceRange,
  volatilityShift: BigInt(DEV_PORTFOLIO_GRID.volatilityShift),
  extremeMultiple: BigInt(DEV_PORTFOLIO_GRID.extremeMultiple),
  extremeFraction: BigInt(DEV_PORTFOLIO_GRID.extremeFraction),
  shortOptionMinimum: BigInt(DEV_PORTFOLIO_GRID.shortOptionMinimum),
  lookAhead: BigInt(DEV_PORTFOLIO_GRID.lookAhead),
});

function satellite(fx: OptionsFixture, who: HardhatEthersSigner = fx.actors.admin): PortfolioRisk {
  return PortfolioRisk__factory.connect(fx.record.contracts.PortfolioRisk, who);
}

/** The dealer writes `contracts` puts (struck at 9) and sells them to `buyer` at the model price. */
async function buyPuts(fx: OptionsFixture, buyer: HardhatEthersSigner, contracts: bigint): Promise<bigint> {
  const s = await addr(fx.put);
  await fx.market.connect(fx.dealer).write(s, contracts);
  const [answer] = await fx.router.getPrice(s);
  const cost = (contracts * answer) / 10n ** 12n;
  const has = await fx.engine.balanceOf(buyer.address, await addr(fx.cash));
  if (has < cost) await fx.fundAccount(buyer, fx.cash, cost - has);
  await fx.harness.trade(buyer.address, fx.dealer.address, s, contracts, cost);
  return cost;
}

/** One liquidation segment of `who` by the fixture's liquidator seizes `asset`. */
async function expectFirstSeizure(fx: OptionsFixture, who: HardhatEthersSigner, asset: string): Promise<void> {
  const any = Array.from({ length: 6 }, () => anyValue);
  await expect(fx.engine.connect(fx.liquidator).liquidate(who.address, 1))
    .to.emit(fx.engine, "Liquidated")
    .withArgs(who.address, fx.liquidator.address, asset, ...any);
}

/** The grid's requirement of `shares` mbBANK and `puts` 9-puts at the current spot, in cash base units (mirror). */
async function mirrorRequirement(fx: OptionsFixture, shares: bigint, puts: bigint, at: bigint): Promise<bigint> {
  const [spot] = await fx.router.getPrice(await addr(fx.bank));
  const [maintenance] = await fx.engine.assetMargins(await addr(fx.bank));
  const r = portfolioRequirement(
    shares,
    [{ isCall: false, strike: 9n * WAD, expiry: fx.expiry, contracts: puts, contractSize: SIZE }],
    { spot, volatility: VOLATILITY, rate: 0n, timestamp: at },
    GRID(maintenance),
  );
  return (r.requirement + 10n ** 12n - 1n) / 10n ** 12n;
}

describe("PortfolioRisk (issue 26: portfolio margin in the engine)", () => {
  it("a protective put lowers an enrolled account's maintenance below the shares' alone, never above the put-capped loss", async () => {
    const fx = await loadFixture(optionsFixture);
    const who = fx.clientC;
    await fx.fundAccount(who, fx.bank, 10_000n); // 10,000 shares at 10
    const premium = await buyPuts(fx, who, 100n); // 100 contracts × 100 shares struck at 9
    const rule = await fx.engine.accountView(who.address);
    // the rule: 15% of each position (shares 100,000, puts ≈ 1,991)
    expect(rule.maintenanceReq).to.equal((rule.positionValue * 15n + 99n) / 100n);
    await expect(satellite(fx, who).setPortfolioMargin(true))
      .to.emit(satellite(fx), "PortfolioMarginSet")
      .withArgs(who.address, true);
    const pm = await fx.engine.accountView(who.address);
    const sharesAlone = 15_000n * CNY;
    const putCapped = 10_000n * CNY + premium; // (10 − 9) × 10,000 shares + what the puts cost
    expect(pm.maintenanceReq).to.be.lessThan(sharesAlone);
    expect(pm.maintenanceReq).to.be.lessThanOrEqual(putCapped);
    // the engine's figure is the grid's (the mirror, to the rounding of one rate over two positions)
    const t = BigInt(await time.latest());
    const candidates = [
      await mirrorRequirement(fx, 10_000n, 100n, t),
      await mirrorRequirement(fx, 10_000n, 100n, t + 1n),
    ];
    expect(candidates.some((r) => pm.maintenanceReq >= r && pm.maintenanceReq <= r + 2n)).to.equal(true);
    // initial margin: the grid plus the rule's own initial buffer (5% of the positions)
    const buffer = rule.initialReq - rule.maintenanceReq;
    expect(pm.initialReq - pm.maintenanceReq).to.be.closeTo(buffer, 3n);
    // equity is unchanged (haircuts stay): only the requirement moved
    expect(pm.equity).to.equal(rule.equity);
    console.log(
      `      [portfolio] 10,000 shares + 100 puts K=9: rule ${Number(rule.maintenanceReq) / 1e6}, grid ${
        Number(pm.maintenanceReq) / 1e6
      }, put-capped loss ${Number(putCapped) / 1e6} CNY`,
    );
  });

  it("the shares alone or accounts not enrolled keep the rule: nothing changes until an option series is held", async () => {
    const fx = await loadFixture(optionsFixture);
    await fx.fundAccount(fx.clientC, fx.bank, 10_000n);
    const before = await fx.engine.accountView(fx.clientC.address);
    await satellite(fx, fx.clientC).setPortfolioMargin(true);
    expect((await fx.engine.accountView(fx.clientC.address)).maintenanceReq).to.equal(before.maintenanceReq);
    // another account with the same hedge, not enrolled: the rule
    await fx.fundAccount(fx.clientB, fx.bank, 10_000n);
    await buyPuts(fx, fx.clientB, 100n);
    const b = await fx.engine.accountView(fx.clientB.address);
    expect(b.maintenanceReq).to.equal((b.positionValue * 15n + 99n) / 100n);
    expect(await satellite(fx).margins(fx.clientB.address, [])).to.deep.equal([false, []]);
  });

  it("refuses switching for an unverified identity, into the mode it has, or out of it below initial margin", async () => {
    const fx = await loadFixture(optionsFixture);
    const stranger = (await ethers.getSigners())[19];
    await expect(satellite(fx, stranger).setPortfolioMargin(true))
      .to.be.revertedWithCustomError(satellite(fx), "PortfolioNotVerified")
      .withArgs(stranger.address);
    const who = fx.clientC; // tier 5: 5× leverage
    await fx.fundAccount(who, fx.bank, 10_000n);
    await buyPuts(fx, who, 100n);
    await satellite(fx, who).setPortfolioMargin(true);
    await expect(satellite(fx, who).setPortfolioMargin(true))
      .to.be.revertedWithCustomError(satellite(fx), "PortfolioUnchanged")
      .withArgs(who.address, true);
    // attack: borrow on the grid's requirement, and when the rule asks more than the account has (the risk officer
    // raised the shares' margins to 30% / 35%), leave the grid for the rule — refused
    const pm = await fx.engine.accountView(who.address);
    const borrow = BigInt(pm.equity) - 25_000n * CNY; // equity 25,000: above the 5× leverage line (20,400)
    await fx.engine.connect(who).borrow(borrow);
    await fx.engine.connect(who).withdraw(await addr(fx.cash), borrow);
    await setTier(fx, 1, pct(30), pct(5));
    expect(await fx.engine.checkInitialMargin(who.address)).to.equal(true);
    const raised = await fx.engine.accountView(who.address);
    expect(raised.initialReq).to.be.lessThan(20_000n * CNY); // the grid: the put caps the loss
    await expect(satellite(fx, who).setPortfolioMargin(false))
      .to.be.revertedWithCustomError(satellite(fx), "PortfolioInitialMarginBreached")
      .withArgs(who.address);
    expect(await satellite(fx).portfolioMargined(who.address)).to.equal(true);
  });

  it("an indebted portfolio-margined seller is checked on every sale: selling the hedge at a fair price raises its requirement", async () => {
    const fx = await loadFixture(optionsFixture);
    const settler = fx.actors.admin;
    await fx.manager.grantRole(ROLE.SETTLER, settler.address, 0);
    const put = await addr(fx.put);
    const CHECK_SELLER = 2n;
    await fx.fundAccount(fx.dealer, fx.cash, 100_000n * CNY); // to lock a second account's puts
    const setup = async (who: HardhatEthersSigner): Promise<bigint> => {
      await fx.fundAccount(who, fx.bank, 10_000n);
      await buyPuts(fx, who, 100n);
      await fx.engine.connect(who).borrow(20_000n * CNY);
      const [answer] = await fx.router.getPrice(put);
      return (100n * answer) / 10n ** 12n + 1n; // at least what the contracts count for
    };
    // the rule: a sale paid at least what the units count for is not checked (docs/security.md rule 1)
    const fair = await setup(fx.clientB);
    await fx.fundAccount(fx.dealer, fx.cash, fair);
    const ruleChecks = await fx.engine
      .connect(settler)
      .settleTrade.staticCall(fx.dealer.address, fx.clientB.address, put, 100n, fair);
    expect(ruleChecks & CHECK_SELLER).to.equal(0n);
    // attack: enrolled, borrow on the hedged requirement, then sell the hedge to an accomplice at a fair price
    const fair2 = await setup(fx.clientC);
    await satellite(fx, fx.clientC).setPortfolioMargin(true);
    await fx.fundAccount(fx.dealer, fx.cash, fair2);
    const pmChecks = await fx.engine
      .connect(settler)
      .settleTrade.staticCall(fx.dealer.address, fx.clientC.address, put, 100n, fair2);
    expect(pmChecks & CHECK_SELLER).to.equal(CHECK_SELLER);
  });

  it("a liquidation of an enrolled account sells the shares before the put that protects them (the rule sells the put first)", async () => {
    const fx = await loadFixture(optionsFixture);
    const [bank, put] = [await addr(fx.bank), await addr(fx.put)];
    const open = async (who: HardhatEthersSigner, enrol: boolean): Promise<void> => {
      await fx.fundAccount(who, fx.bank, 10_000n);
      await buyPuts(fx, who, 50n); // half the shares protected
      if (enrol) await satellite(fx, who).setPortfolioMargin(true);
      await fx.engine.connect(who).borrow(66_000n * CNY);
      await fx.engine.connect(who).withdraw(await addr(fx.cash), 66_000n * CNY);
    };
    await open(fx.clientC, true);
    await open(fx.clientB, false);
    await fx.setPrice(fx.bank, price(5.2));
    await fx.refreshOptions();
    for (const who of [fx.clientB, fx.clientC]) {
      await fx.engine.poke(who.address);
      expect(await fx.engine.accountState(who.address)).to.equal(State.Liquidatable);
    }
    await time.increase(301);
    await fx.refreshPrices();
    await fx.refreshOptions();
    // enrolled: the first segment sells shares (they lose most per unit of value in the worst scenario), the puts stay
    await expectFirstSeizure(fx, fx.clientC, bank);
    expect(await fx.engine.balanceOf(fx.clientC.address, put)).to.equal(50n);
    // the rule: the least liquid position first — the puts (tier 3) before the shares (tier 1)
    await expectFirstSeizure(fx, fx.clientB, put);
  });

  it("lets only the risk officer set the grid and the engine's satellite, and refuses a grid out of range", async () => {
    const fx = await loadFixture(optionsFixture);
    const grid = { ...DEV_PORTFOLIO_GRID, extremeFraction: pct(50) };
    for (const who of [fx.clientA, fx.actors.operator]) {
      await expect(satellite(fx, who).setGrid(grid)).to.be.revertedWithCustomError(
        satellite(fx),
        "AccessManagedUnauthorized",
      );
      await expect(fx.engine.connect(who).setPortfolioRisk(who.address)).to.be.revertedWithCustomError(
        fx.engine,
        "AccessManagedUnauthorized",
      );
    }
    const officer = satellite(fx, fx.actors.riskOfficer);
    for (const bad of [
      { volatilityShift: WAD },
      { extremeMultiple: 0n },
      { extremeFraction: WAD + 1n },
      { shortOptionMinimum: WAD + 1n },
      { lookAhead: 7 * 86_400 + 1 },
    ])
      await expect(officer.setGrid({ ...DEV_PORTFOLIO_GRID, ...bad })).to.be.revertedWithCustomError(
        officer,
        "PortfolioInvalidGrid",
      );
    await expect(officer.setGrid(grid)).to.emit(officer, "GridSet");
    expect((await officer.grid()).extremeFraction).to.equal(pct(50));
    // the engine knows which listed assets are series: the two of the fixture, not the securities
    expect(await officer.isOptionSeries(await addr(fx.put))).to.equal(true);
    expect(await officer.isOptionSeries(await addr(fx.bank))).to.equal(false);
    expect(await fx.engine.portfolioRisk()).to.equal(await officer.getAddress());
  });

  it("a group the grid cannot value keeps the rule (a stale volatility): never a revert that would block a liquidation", async () => {
    const fx = await loadFixture(optionsFixture);
    const who = fx.clientC;
    await fx.fundAccount(who, fx.bank, 10_000n);
    await buyPuts(fx, who, 100n);
    await satellite(fx, who).setPortfolioMargin(true);
    await time.increase(86_400 + 60);
    await fx.refreshPrices(); // the volatility is a day old: the series is Stale, counted at zero
    const v = await fx.engine.accountView(who.address);
    // the shares alone, at the rule's 15%
    expect(v.maintenanceReq).to.equal((v.positionValue * 15n + 99n) / 100n);
    await fx.engine.poke(who.address);
  });
});
