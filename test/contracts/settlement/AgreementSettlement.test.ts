import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  CNY,
  WAD,
  marginFixture,
  pct,
  price,
  setTier,
  zeroRate,
  type MarginFixture,
} from "../../helpers/marginFixture";
import { identityHash, inAYear } from "../../helpers/fixtures";
import {
  AgreementBinding__factory,
  AgreementRegistry__factory,
  AgreementSettlement__factory,
  type AgreementBinding,
  type AgreementRegistry,
  type AgreementSettlement,
  type CollateralToken,
} from "../../../typechain-types";
import {
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  buildAgreement,
} from "../../../offchain/settlement/legal";
import { seedTerms } from "../../offchain/settlement/legal/seed";
import { DEFAULT_CLOSE_OUT_PERIOD } from "../../../scripts/deploy/agreementSettlement";
import { ROLE } from "../../../scripts/deploy/roles";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

const TERM = 90 * 86_400;
const FINAL = hre.ethers.id("final settlement JSON");
const ref = (s: string): string => hre.ethers.id(`fee:${s}`);
const Status = { Safe: 0n, Stale: 1n };

interface Fx extends MarginFixture {
  binding: AgreementBinding;
  registry: AgreementRegistry;
  /** The AgreementSettlement, connected as the operator. */
  end: AgreementSettlement;
  /** Anchors an agreement for `client` (signed by it and the platform, the operator). */
  anchor(client: HardhatEthersSigner, tag: string): Promise<string>;
  /** Anchors, proposes and accepts: leverage and penalty as 18-decimal ratios. */
  bind(client: HardhatEthersSigner, tag: string, leverage: bigint, penalty: bigint): Promise<string>;
  /** Cash of `who`'s margin account. */
  cashOf(who: HardhatEthersSigner | string): Promise<bigint>;
  /** Moves time past the close-out period of a binding that ended now, keeping prices Safe past the oracle grace. */
  pastCloseOut(): Promise<void>;
}

async function fixture(): Promise<Fx> {
  const fx = await marginFixture();
  await zeroRate(fx); // debts and the pool's book hold exactly
  const c = fx.record.contracts;
  const operator = fx.actors.operator;
  const binding = AgreementBinding__factory.connect(c.AgreementBinding, operator);
  const registry = AgreementRegistry__factory.connect(c.AgreementRegistry, operator);
  const end = AgreementSettlement__factory.connect(c.AgreementSettlement, operator);
  await binding.connect(fx.actors.admin).requireAgreements();
  const domain = agreementDomain((await hre.ethers.provider.getNetwork()).chainId, c.AgreementRegistry);
  const anchor: Fx["anchor"] = async (client, tag) => {
    const now = await time.latest();
    const doc = buildAgreement(
      seedTerms(client.address, operator.address, {
        agreementId: hre.ethers.id(tag),
        effectiveAt: now - 1,
        expiresAt: now + TERM,
      }),
    );
    const td = agreementTypedData(domain, agreementMessage(doc));
    const sigs = await Promise.all([client, operator].map((s) => s.signTypedData(td.domain, td.types, td.message)));
    await registry.anchor(agreementMessage(doc), sigs[0], sigs[1]);
    return doc.terms.agreementId;
  };
  const bind: Fx["bind"] = async (client, tag, leverage, penalty) => {
    const id = await anchor(client, tag);
    await binding.propose(id, leverage, penalty);
    await binding.connect(client).accept(id, leverage, penalty);
    return id;
  };
  const cashAddress = await fx.cash.getAddress();
  const cashOf: Fx["cashOf"] = async (who) =>
    fx.engine.balanceOf(typeof who === "string" ? who : who.address, cashAddress);
  const pastCloseOut = async (): Promise<void> => {
    await fx.advance(DEFAULT_CLOSE_OUT_PERIOD);
    await fx.advance(Number((await fx.engine.params()).oracleGrace) + 1);
  };
  return { ...fx, binding, registry, end, anchor, bind, cashOf, pastCloseOut };
}

/**
 * clientA bound to "A" (2×, 5 % penalty) with 20,000 CNY of its own, 10,000 borrowed, 400 mbTECH and 100 mbSMALL
 * bought from the dealer: cash 15,000, debt 10,000.
 */
async function financed(): Promise<Fx & { id: string }> {
  const fx = await fixture();
  const id = await fx.bind(fx.clientA, "A", pct(200), pct(5));
  await fx.fundAccount(fx.clientA, fx.cash, 20_000n * CNY);
  await fx.engine.connect(fx.clientA).borrow(10_000n * CNY);
  await fx.buy(fx.clientA, fx.tech, 400n, price(25));
  await fx.buy(fx.clientA, fx.small, 100n, price(50));
  return { ...fx, id };
}

/** `financed`, then the client terminates, repays its debt and sells its mbTECH back to the dealer itself. */
async function endedAndRepaid(): Promise<Fx & { id: string }> {
  const fx = await financed();
  await fx.binding.connect(fx.clientA).terminate(fx.clientA.address);
  await fx.engine.connect(fx.clientA).repay(10_000n * CNY);
  await fx.harness.trade(fx.dealer.address, fx.clientA.address, await fx.tech.getAddress(), 400n, 10_000n * CNY);
  return fx;
}

/** The ceil(ceil(units · price / 1e12) · (1 − discount)) forceClose pays (securities have 0 decimals, cash 6). */
function forcedCash(units: bigint, px: bigint, discount: bigint): bigint {
  const value = (units * px + 10n ** 12n - 1n) / 10n ** 12n;
  return (value * (WAD - discount) + WAD - 1n) / WAD;
}

/**
 * Issue 22, the agreement's end on-chain, written as the attacks first: a client (with a second account and an
 * accomplice), a stranger, a buyer and the operator try to take more than the agreement's end allows; each is
 * refused by a rule of AgreementSettlement, the AgreementBinding, the CapitalPool or the MarginEngine.
 */
describe("AgreementSettlement: the agreement's end executed on-chain", () => {
  describe("access", () => {
    it("a stranger, a client or a risk officer cannot charge fees, settle, close in the registry or pay a profit share", async () => {
      const fx = await loadFixture(financed);
      const pool = fx.pool;
      for (const caller of [fx.clientA, fx.clientB, fx.liquidator, fx.actors.riskOfficer]) {
        const end = fx.end.connect(caller);
        await expect(end.chargeFee(fx.id, 1n, ref("x")))
          .to.be.revertedWithCustomError(end, "AccessManagedUnauthorized")
          .withArgs(caller.address);
        await expect(end.settleEnd(fx.id, 0n, 0n, FINAL))
          .to.be.revertedWithCustomError(end, "AccessManagedUnauthorized")
          .withArgs(caller.address);
        await expect(fx.registry.connect(caller).close(fx.id, FINAL))
          .to.be.revertedWithCustomError(fx.registry, "AccessManagedUnauthorized")
          .withArgs(caller.address);
        await expect(pool.connect(caller).receiveProfitShare(1n))
          .to.be.revertedWithCustomError(pool, "AccessManagedUnauthorized")
          .withArgs(caller.address);
      }
      // the operator runs the waterfall only through settleEnd: neither close nor the pool's entry is its own
      await expect(fx.registry.close(fx.id, FINAL))
        .to.be.revertedWithCustomError(fx.registry, "AccessManagedUnauthorized")
        .withArgs(fx.actors.operator.address);
      await expect(pool.connect(fx.actors.operator).receiveProfitShare(1n))
        .to.be.revertedWithCustomError(pool, "AccessManagedUnauthorized")
        .withArgs(fx.actors.operator.address);
      await expect(fx.end.setCloseOutPeriod(3_600))
        .to.be.revertedWithCustomError(fx.end, "AccessManagedUnauthorized")
        .withArgs(fx.actors.operator.address);
    });

    it("is wired as deployed: the roles it holds, the platform account and the close-out period", async () => {
      const fx = await loadFixture(fixture);
      const address = await fx.end.getAddress();
      for (const role of [ROLE.SETTLER, ROLE.AGREEMENT_SETTLER]) {
        expect((await fx.manager.hasRole(role, address))[0]).to.equal(true);
      }
      expect(await fx.end.platformAccount()).to.equal(fx.record.platformAccount);
      expect(fx.record.platformAccount).to.equal(fx.actors.operator.address);
      expect(await fx.end.closeOutPeriod()).to.equal(BigInt(DEFAULT_CLOSE_OUT_PERIOD));
      expect(await fx.kyc.isVerified(address)).to.equal(true);
      expect(await fx.kyc.isVerified(fx.record.platformAccount!)).to.equal(true);
      expect(await fx.end.engine()).to.equal(fx.record.contracts.MarginEngine);
      expect(await fx.end.registry()).to.equal(fx.record.contracts.AgreementRegistry);
      expect(await fx.end.binding()).to.equal(fx.record.contracts.AgreementBinding);
      expect(await fx.end.pool()).to.equal(fx.record.contracts.CapitalPool);
      // the close-out period is a risk parameter: the risk officer sets it, within bounds
      const officer = fx.end.connect(fx.actors.riskOfficer);
      await expect(officer.setCloseOutPeriod(3_599))
        .to.be.revertedWithCustomError(officer, "SettlementInvalidCloseOutPeriod")
        .withArgs(3_599n);
      await expect(officer.setCloseOutPeriod(91 * 86_400))
        .to.be.revertedWithCustomError(officer, "SettlementInvalidCloseOutPeriod")
        .withArgs(91n * 86_400n);
      await expect(officer.setCloseOutPeriod(86_400)).to.emit(officer, "CloseOutPeriodSet").withArgs(86_400n);
      expect(await fx.end.closeOutPeriod()).to.equal(86_400n);
    });
  });

  describe("chargeFee", () => {
    it("replays a fee reference, on the same or another agreement: FeeAlreadyCharged", async () => {
      const fx = await loadFixture(financed);
      await fx.end.chargeFee(fx.id, 100n * CNY, ref("2026-12 management"));
      await expect(fx.end.chargeFee(fx.id, 100n * CNY, ref("2026-12 management")))
        .to.be.revertedWithCustomError(fx.end, "FeeAlreadyCharged")
        .withArgs(ref("2026-12 management"));
      const idB = await fx.bind(fx.clientB, "B", pct(200), pct(5));
      await fx.fundAccount(fx.clientB, fx.cash, 1_000n * CNY);
      await expect(fx.end.chargeFee(idB, 100n * CNY, ref("2026-12 management")))
        .to.be.revertedWithCustomError(fx.end, "FeeAlreadyCharged")
        .withArgs(ref("2026-12 management"));
      expect(await fx.end.feesOf(fx.id)).to.equal(100n * CNY);
      expect(await fx.end.feesOf(idB)).to.equal(0n);
    });

    it("takes an indebted account below initial margin: refused by the engine, nothing recorded", async () => {
      const fx = await loadFixture(financed);
      // cash 15,000, mbTECH 10,000 (5 % haircut) and mbSMALL 5,000 (10 %), debt 10,000: equity 19,000. A fee of
      // 14,000 leaves equity 5,000 against exposure 16,000: above the 2× the account may carry with debt
      const cashBefore = await fx.cashOf(fx.clientA);
      await expect(fx.end.chargeFee(fx.id, 14_000n * CNY, ref("too much")))
        .to.be.revertedWithCustomError(fx.engine, "MarginLeverageExceeded")
        .withArgs(fx.clientA.address, 16_000n * CNY, 5_000n * CNY, pct(200));
      expect(await fx.end.feeCharged(ref("too much"))).to.equal(false);
      expect(await fx.end.feesOf(fx.id)).to.equal(0n);
      expect(await fx.cashOf(fx.clientA)).to.equal(cashBefore);
      // more than the account's cash: refused too
      await fx.engine.connect(fx.clientA).repay(10_000n * CNY);
      await expect(fx.end.chargeFee(fx.id, 5_000n * CNY + 1n, ref("more than cash")))
        .to.be.revertedWithCustomError(fx.engine, "MarginInsufficientBalance")
        .withArgs(fx.clientA.address, await fx.cash.getAddress(), 5_000n * CNY, 5_000n * CNY + 1n);
    });

    it("charges only the agreement's own client: not an unbound, closed, unknown agreement; no zero fee or empty ref", async () => {
      const fx = await loadFixture(financed);
      const idB = await fx.anchor(fx.clientB, "B-anchored-only");
      await fx.fundAccount(fx.clientB, fx.cash, 1_000n * CNY);
      await expect(fx.end.chargeFee(idB, 1n, ref("b")))
        .to.be.revertedWithCustomError(fx.end, "SettlementNotBound")
        .withArgs(idB, fx.clientB.address, hre.ethers.ZeroHash);
      await fx.end.settleEnd(idB, 0n, 0n, FINAL);
      const closedAt = (await fx.registry.agreementOf(idB)).closedAt;
      await expect(fx.end.chargeFee(idB, 1n, ref("b")))
        .to.be.revertedWithCustomError(fx.end, "SettlementAgreementClosed")
        .withArgs(idB, closedAt);
      await expect(fx.end.chargeFee(hre.ethers.id("never"), 1n, ref("n")))
        .to.be.revertedWithCustomError(fx.registry, "AgreementNotAnchored")
        .withArgs(hre.ethers.id("never"));
      await expect(fx.end.chargeFee(fx.id, 0n, ref("z"))).to.be.revertedWithCustomError(fx.end, "SettlementZeroAmount");
      await expect(fx.end.chargeFee(fx.id, 1n, hre.ethers.ZeroHash)).to.be.revertedWithCustomError(
        fx.end,
        "FeeEmptyReference",
      );
      expect(await fx.cashOf(fx.clientB)).to.equal(1_000n * CNY);
    });

    it("moves the fee from the client's cash to the platform account and keeps the ledger", async () => {
      const fx = await loadFixture(financed);
      const [client, platform, other] = await Promise.all([
        fx.cashOf(fx.clientA),
        fx.cashOf(fx.record.platformAccount!),
        fx.cashOf(fx.liquidator),
      ]);
      await expect(fx.end.chargeFee(fx.id, 250n * CNY, ref("m1")))
        .to.emit(fx.end, "FeeCharged")
        .withArgs(fx.id, fx.clientA.address, ref("m1"), 250n * CNY)
        .and.to.emit(fx.engine, "AccountTransfer")
        .withArgs(fx.clientA.address, fx.record.platformAccount, await fx.cash.getAddress(), 250n * CNY);
      await fx.end.chargeFee(fx.id, 50n * CNY, ref("m2"));
      expect(await fx.cashOf(fx.clientA)).to.equal(client - 300n * CNY);
      expect(await fx.cashOf(fx.record.platformAccount!)).to.equal(platform + 300n * CNY);
      expect(await fx.cashOf(fx.liquidator)).to.equal(other);
      expect(await fx.end.feesOf(fx.id)).to.equal(300n * CNY);
      expect(await fx.end.feeCharged(ref("m1"))).to.equal(true);
      expect(await fx.end.feeCharged(ref("m3"))).to.equal(false);
    });
  });

  describe("forceClose", () => {
    it("before the close-out period (the binding active, or ended less than closeOutPeriod ago): refused", async () => {
      const fx = await loadFixture(financed);
      const small = await fx.small.getAddress();
      const { expiresAt } = await fx.binding.bindingOf(fx.clientA.address);
      const period = BigInt(DEFAULT_CLOSE_OUT_PERIOD);
      await expect(fx.end.connect(fx.liquidator).forceClose(fx.id, small, 10n))
        .to.be.revertedWithCustomError(fx.end, "SettlementCloseOutPending")
        .withArgs(fx.id, expiresAt + period);
      await fx.binding.terminate(fx.clientA.address);
      const ended = (await fx.binding.bindingOf(fx.clientA.address)).expiresAt;
      await fx.advance(DEFAULT_CLOSE_OUT_PERIOD - 10);
      await expect(fx.end.connect(fx.liquidator).forceClose(fx.id, small, 10n))
        .to.be.revertedWithCustomError(fx.end, "SettlementCloseOutPending")
        .withArgs(fx.id, ended + period);
    });

    it("the client buys its own positions at the discount, or through a second address of its identity: refused", async () => {
      const fx = await loadFixture(financed);
      await fx.binding.terminate(fx.clientA.address);
      await fx.pastCloseOut();
      const small = await fx.small.getAddress();
      await expect(fx.end.connect(fx.clientA).forceClose(fx.id, small, 10n))
        .to.be.revertedWithCustomError(fx.end, "SettlementSelfPurchase")
        .withArgs(fx.id, fx.clientA.address);
      const second = fx.actors.users[6];
      await fx.kyc
        .connect(fx.actors.kycOfficer)
        .setIdentity(second.address, 2, 156, await inAYear(), identityHash(fx.clientA.address));
      await fx.fundAccount(second, fx.cash, 10_000n * CNY);
      await expect(fx.end.connect(second).forceClose(fx.id, small, 10n))
        .to.be.revertedWithCustomError(fx.end, "SettlementSelfPurchase")
        .withArgs(fx.id, second.address);
      expect(await fx.engine.balanceOf(fx.clientA.address, small)).to.equal(100n);
    });

    it("an unverified buyer, a price not Safe or Safe too recently, an unlisted asset, zero units: refused", async () => {
      const fx = await loadFixture(financed);
      await fx.binding.terminate(fx.clientA.address);
      await fx.pastCloseOut();
      const small = await fx.small.getAddress();
      const stranger = fx.actors.users[7];
      await expect(fx.end.connect(stranger).forceClose(fx.id, small, 10n))
        .to.be.revertedWithCustomError(fx.end, "SettlementBuyerNotVerified")
        .withArgs(stranger.address);
      await expect(fx.end.connect(fx.liquidator).forceClose(fx.id, await fx.cash.getAddress(), 10n))
        .to.be.revertedWithCustomError(fx.end, "SettlementAssetNotListed")
        .withArgs(await fx.cash.getAddress());
      await expect(fx.end.connect(fx.liquidator).forceClose(fx.id, small, 0n)).to.be.revertedWithCustomError(
        fx.end,
        "SettlementZeroAmount",
      );
      // a day without a report: the price is stale
      await time.increase(86_401);
      await expect(fx.end.connect(fx.liquidator).forceClose(fx.id, small, 10n))
        .to.be.revertedWithCustomError(fx.end, "SettlementPriceUnsafe")
        .withArgs(small, Status.Stale);
      // Safe again, but only just: the engine's oracle grace applies, as to a liquidation
      await fx.refreshPrices();
      const readyAt = (await fx.router.safeSince(small)) + (await fx.engine.params()).oracleGrace;
      await expect(fx.end.connect(fx.liquidator).forceClose(fx.id, small, 10n))
        .to.be.revertedWithCustomError(fx.end, "SettlementOracleGrace")
        .withArgs(small, readyAt);
    });

    it("pays min(agreed penalty, haircut) below the price, rounded up for the client; the seller's equity never falls", async () => {
      const fx = await loadFixture(fixture);
      // clientB agreed a 20 % penalty: capped by mbSMALL's 10 % and mbTECH's 5 % haircuts; clientC 2 %: its own
      for (const [client, tag, penalty] of [
        [fx.clientB, "B", pct(20)],
        [fx.clientC, "C", pct(2)],
      ] as const) {
        await fx.bind(client, tag, pct(200), penalty);
        await fx.fundAccount(client, fx.cash, 20_000n * CNY);
        await fx.engine.connect(client).borrow(5_000n * CNY);
        await fx.buy(client, fx.tech, 101n, price(25));
        await fx.buy(client, fx.small, 33n, price(50));
        await fx.binding.terminate(client.address);
      }
      await fx.pastCloseOut();
      await fx.setPrice(fx.small, price(47.123457));
      await fx.advance(Number((await fx.engine.params()).oracleGrace) + 1);
      const cases: [HardhatEthersSigner, string, CollateralToken, bigint, bigint, bigint][] = [
        [fx.clientB, hre.ethers.id("B"), fx.small, 33n, price(47.123457), pct(10)],
        [fx.clientB, hre.ethers.id("B"), fx.tech, 101n, price(25), pct(5)],
        [fx.clientC, hre.ethers.id("C"), fx.small, 33n, price(47.123457), pct(2)],
        [fx.clientC, hre.ethers.id("C"), fx.tech, 7n, price(25), pct(2)],
      ];
      for (const [client, id, token, units, px, discount] of cases) {
        const asset = await token.getAddress();
        const expected = forcedCash(units, px, discount);
        expect(await fx.end.quoteForceClose(id, asset, units)).to.deep.equal([expected, discount]);
        const before = await fx.engine.accountView(client.address);
        const buyerCash = await fx.cashOf(fx.liquidator);
        await expect(fx.end.connect(fx.liquidator).forceClose(id, asset, units))
          .to.emit(fx.end, "PositionForceClosed")
          .withArgs(id, client.address, fx.liquidator.address, asset, units, expected)
          .and.to.emit(fx.engine, "TradeLegsSettled")
          .withArgs(fx.liquidator.address, client.address, asset, units, expected);
        const after = await fx.engine.accountView(client.address);
        expect(
          after.equity >= before.equity,
          `${await token.symbol()} equity ${before.equity} → ${after.equity}`,
        ).to.equal(true);
        expect(after.cash).to.equal(before.cash + expected);
        expect(await fx.cashOf(fx.liquidator)).to.equal(buyerCash - expected);
      }
    });

    it("an indebted buyer left below initial margin: SettlementInitialMarginBreached, nothing moves", async () => {
      const fx = await loadFixture(financed);
      await fx.binding.terminate(fx.clientA.address);
      await fx.pastCloseOut();
      // clientB (3× tier) borrows 2,000 on 1,000 of its own and buys 60 mbSMALL (3,000) for 2,700 under a 45 % margin
      await setTier(fx, 3, pct(40), pct(5));
      await fx.bind(fx.clientB, "B", pct(300), pct(5));
      await fx.fundAccount(fx.clientB, fx.cash, 1_000n * CNY);
      await fx.engine.connect(fx.clientB).borrow(2_000n * CNY);
      const small = await fx.small.getAddress();
      await expect(fx.end.connect(fx.clientB).forceClose(fx.id, small, 60n))
        .to.be.revertedWithCustomError(fx.end, "SettlementInitialMarginBreached")
        .withArgs(fx.clientB.address);
      expect(await fx.engine.balanceOf(fx.clientA.address, small)).to.equal(100n);
      expect(await fx.cashOf(fx.clientB)).to.equal(3_000n * CNY);
    });
  });

  describe("settleEnd", () => {
    it("while the binding is active, with debt outstanding, with a position left: refused", async () => {
      const fx = await loadFixture(financed);
      const { expiresAt } = await fx.binding.bindingOf(fx.clientA.address);
      await expect(fx.end.settleEnd(fx.id, 0n, 0n, FINAL))
        .to.be.revertedWithCustomError(fx.end, "SettlementAgreementActive")
        .withArgs(fx.id, expiresAt);
      await fx.binding.connect(fx.clientA).terminate(fx.clientA.address);
      await expect(fx.end.settleEnd(fx.id, 0n, 0n, FINAL))
        .to.be.revertedWithCustomError(fx.end, "SettlementDebtOutstanding")
        .withArgs(fx.id, fx.clientA.address, 10_000n * CNY);
      await fx.engine.connect(fx.clientA).repay(10_000n * CNY);
      await expect(fx.end.settleEnd(fx.id, 0n, 0n, FINAL))
        .to.be.revertedWithCustomError(fx.end, "SettlementPositionOpen")
        .withArgs(fx.id, fx.clientA.address, await fx.tech.getAddress(), 400n);
      await fx.harness.trade(fx.dealer.address, fx.clientA.address, await fx.tech.getAddress(), 400n, 10_000n * CNY);
      await expect(fx.end.settleEnd(fx.id, 0n, 0n, FINAL))
        .to.be.revertedWithCustomError(fx.end, "SettlementPositionOpen")
        .withArgs(fx.id, fx.clientA.address, await fx.small.getAddress(), 100n);
      expect((await fx.registry.agreementOf(fx.id)).closedAt).to.equal(0n);
    });

    it("takes the shares from the client only, never more than its cash, and all-or-nothing", async () => {
      const fx = await loadFixture(endedAndRepaid);
      await fx.harness.trade(fx.dealer.address, fx.clientA.address, await fx.small.getAddress(), 100n, 5_000n * CNY);
      const cash = await fx.cashOf(fx.clientA); // 5,000 left + 10,000 + 5,000 from the sales = 20,000
      expect(cash).to.equal(20_000n * CNY);
      await fx.fundAccount(fx.clientB, fx.cash, 50_000n * CNY); // an account the operator might wish to take from
      const totalBefore = await fx.pool.totalAssets();
      await expect(fx.end.settleEnd(fx.id, 15_000n * CNY, 5_000n * CNY + 1n, FINAL))
        .to.be.revertedWithCustomError(fx.engine, "MarginInsufficientBalance")
        // the platform's share moved first, then the providers' found one base unit short: all of it undone
        .withArgs(fx.clientA.address, await fx.cash.getAddress(), 15_000n * CNY - 1n, 15_000n * CNY);
      await expect(fx.end.settleEnd(fx.id, 20_000n * CNY + 1n, 0n, FINAL)).to.be.revertedWithCustomError(
        fx.engine,
        "MarginInsufficientBalance",
      );
      // an empty hash is the registry's refusal, and it undoes the waterfall before it
      await expect(fx.end.settleEnd(fx.id, 1_000n * CNY, 1_000n * CNY, hre.ethers.ZeroHash))
        .to.be.revertedWithCustomError(fx.registry, "AgreementEmptySettlementHash")
        .withArgs(fx.id);
      expect(await fx.cashOf(fx.clientA)).to.equal(cash);
      expect(await fx.cashOf(fx.clientB)).to.equal(50_000n * CNY);
      expect(await fx.pool.totalAssets()).to.equal(totalBefore);
      expect((await fx.registry.agreementOf(fx.id)).closedAt).to.equal(0n);
    });

    it("an agreement never bound to an account closes with no shares only", async () => {
      const fx = await loadFixture(fixture);
      const id = await fx.anchor(fx.clientB, "anchored, never bound");
      await fx.fundAccount(fx.clientB, fx.cash, 10_000n * CNY);
      await expect(fx.end.settleEnd(id, 1n, 0n, FINAL))
        .to.be.revertedWithCustomError(fx.end, "SettlementSharesWithoutAccount")
        .withArgs(id, 1n, 0n);
      await expect(fx.end.settleEnd(id, 0n, 1n, FINAL))
        .to.be.revertedWithCustomError(fx.end, "SettlementSharesWithoutAccount")
        .withArgs(id, 0n, 1n);
      await expect(fx.end.settleEnd(id, 0n, 0n, FINAL))
        .to.emit(fx.end, "AgreementSettled")
        .withArgs(id, hre.ethers.ZeroAddress, 0n, 0n, 0n, FINAL)
        .and.to.emit(fx.registry, "AgreementClosed")
        .withArgs(id, fx.clientB.address, FINAL);
      expect(await fx.cashOf(fx.clientB)).to.equal(10_000n * CNY);
    });

    it("an agreement the client's account has moved on from (a new one bound): no shares, no fee, no forced sale under it", async () => {
      const fx = await loadFixture(financed);
      // the agreement runs out; the client renews under a new agreement the operator proposes, its positions carried
      const { expiresAt } = await fx.binding.bindingOf(fx.clientA.address);
      await time.increaseTo(expiresAt);
      await fx.refreshPrices();
      const renewal = await fx.bind(fx.clientA, "A-renewal", pct(200), pct(5));
      await fx.pastCloseOut();
      await expect(fx.end.settleEnd(fx.id, 1n, 0n, FINAL))
        .to.be.revertedWithCustomError(fx.end, "SettlementSharesWithoutAccount")
        .withArgs(fx.id, 1n, 0n);
      await expect(fx.end.chargeFee(fx.id, 1n, ref("old")))
        .to.be.revertedWithCustomError(fx.end, "SettlementNotBound")
        .withArgs(fx.id, fx.clientA.address, renewal);
      await expect(fx.end.connect(fx.liquidator).forceClose(fx.id, await fx.small.getAddress(), 1n))
        .to.be.revertedWithCustomError(fx.end, "SettlementNotBound")
        .withArgs(fx.id, fx.clientA.address, renewal);
      // it closes with no shares; the account and its renewal are untouched
      const cash = await fx.cashOf(fx.clientA);
      await expect(fx.end.settleEnd(fx.id, 0n, 0n, FINAL))
        .to.emit(fx.end, "AgreementSettled")
        .withArgs(fx.id, hre.ethers.ZeroAddress, 0n, 0n, 0n, FINAL);
      expect(await fx.cashOf(fx.clientA)).to.equal(cash);
      await expect(fx.engine.connect(fx.clientA).borrow(1n)).to.emit(fx.engine, "Borrowed");
    });

    it("a second settlement of the same agreement: SettlementAgreementClosed (idempotent), nothing moves twice", async () => {
      const fx = await loadFixture(endedAndRepaid);
      await fx.pastCloseOut();
      await fx.end.connect(fx.liquidator).forceClose(fx.id, await fx.small.getAddress(), 100n);
      await fx.end.settleEnd(fx.id, 1_000n * CNY, 500n * CNY, FINAL);
      const closedAt = (await fx.registry.agreementOf(fx.id)).closedAt;
      const cash = await fx.cashOf(fx.clientA);
      await expect(fx.end.settleEnd(fx.id, 1_000n * CNY, 500n * CNY, FINAL))
        .to.be.revertedWithCustomError(fx.end, "SettlementAgreementClosed")
        .withArgs(fx.id, closedAt);
      await expect(fx.end.settleEnd(fx.id, 0n, 0n, hre.ethers.id("another")))
        .to.be.revertedWithCustomError(fx.end, "SettlementAgreementClosed")
        .withArgs(fx.id, closedAt);
      await expect(fx.end.connect(fx.liquidator).forceClose(fx.id, await fx.small.getAddress(), 1n))
        .to.be.revertedWithCustomError(fx.end, "SettlementAgreementClosed")
        .withArgs(fx.id, closedAt);
      expect(await fx.cashOf(fx.clientA)).to.equal(cash);
    });

    it("an accomplice's account gains nothing and loses nothing; the providers' share price rises by exactly their share", async () => {
      const fx = await loadFixture(endedAndRepaid);
      const accomplice = fx.clientB;
      await fx.fundAccount(accomplice, fx.cash, 7_000n * CNY);
      await fx.pastCloseOut();
      await fx.end.connect(fx.liquidator).forceClose(fx.id, await fx.small.getAddress(), 100n);
      // the accomplice cannot run the waterfall, nor point it at itself
      await expect(fx.end.connect(accomplice).settleEnd(fx.id, 0n, 0n, FINAL)).to.be.revertedWithCustomError(
        fx.end,
        "AccessManagedUnauthorized",
      );
      const juniorShares = await fx.junior.balanceOf(fx.platform.address);
      const head = { blockTag: await hre.ethers.provider.getBlockNumber() };
      const before = {
        total: await fx.pool.totalAssets(head),
        juniorValue: await fx.junior.convertToAssets(juniorShares, head),
        seniorPlusJunior: (await fx.senior.totalAssets(head)) + (await fx.junior.totalAssets(head)),
      };
      const tx = await fx.end.settleEnd(fx.id, 3_000n * CNY, 1_000n * CNY, FINAL);
      await expect(tx)
        .to.emit(fx.pool, "ProfitShareReceived")
        .withArgs(await fx.end.getAddress(), 3_000n * CNY, 0n, 3_000n * CNY);
      const after = { blockTag: tx.blockNumber! };
      expect(await fx.pool.totalAssets(after)).to.equal(before.total + 3_000n * CNY);
      expect((await fx.senior.totalAssets(after)) + (await fx.junior.totalAssets(after))).to.equal(
        before.seniorPlusJunior + 3_000n * CNY,
      );
      // the junior class (the platform's first-loss capital, its sole holder here) takes the share above the senior
      // target; the senior class's claim grew by its 4 % over the block's second (≈ 1.27 CNY), paid by the junior
      const juniorValue = await fx.junior.convertToAssets(juniorShares, after);
      expect(juniorValue).to.be.closeTo(before.juniorValue + 3_000n * CNY, 2n * CNY);
      expect(await fx.cashOf(accomplice)).to.equal(7_000n * CNY);
      expect(await fx.cashOf(await fx.end.getAddress())).to.equal(0n);
      expect(await fx.cash.balanceOf(await fx.end.getAddress())).to.equal(0n);
    });
  });

  describe("the end, from binding to a closed agreement", () => {
    it("bind, borrow, buy, terminate, sell, force-close, repay, charge fees, settle: registry closed with the hash", async () => {
      const fx = await loadFixture(financed);
      const { clientA, liquidator, end, engine } = fx;
      const platformAccount = fx.record.platformAccount!;
      const small = await fx.small.getAddress();
      const tech = await fx.tech.getAddress();
      await end.chargeFee(fx.id, 120n * CNY, ref("month 1"));
      // the operator ends it on a default; borrowing is frozen, the client sells part itself and repays
      await fx.binding.terminate(clientA.address);
      await expect(engine.connect(clientA).borrow(1n)).to.be.revertedWithCustomError(fx.binding, "AgreementInactive");
      await engine.connect(clientA).repay(10_000n * CNY);
      await fx.harness.trade(fx.dealer.address, clientA.address, tech, 400n, 10_000n * CNY);
      // the rest is force-closed after the close-out period, at 50 less min(5 % penalty, 10 % haircut)
      await fx.pastCloseOut();
      const paid = forcedCash(100n, price(50), pct(5));
      await expect(end.connect(liquidator).forceClose(fx.id, small, 100n))
        .to.emit(end, "PositionForceClosed")
        .withArgs(fx.id, clientA.address, liquidator.address, small, 100n, paid);
      expect(paid).to.equal(4_750n * CNY);
      await end.chargeFee(fx.id, 80n * CNY, ref("month 2"));
      const cash = await fx.cashOf(clientA); // 15,000 − 120 − 10,000 + 10,000 + 4,750 − 80
      expect(cash).to.equal(19_550n * CNY);
      const platformBefore = await fx.cashOf(platformAccount);
      const totalBefore = await fx.pool.totalAssets();
      const tx = end.settleEnd(fx.id, 2_000n * CNY, 500n * CNY, FINAL);
      await expect(tx)
        .to.emit(end, "AgreementSettled")
        .withArgs(fx.id, clientA.address, 2_000n * CNY, 500n * CNY, 200n * CNY, FINAL)
        .and.to.emit(fx.registry, "AgreementClosed")
        .withArgs(fx.id, clientA.address, FINAL);
      const at = BigInt((await (await tx).getBlock())!.timestamp);
      const a = await fx.registry.agreementOf(fx.id);
      expect([a.closedAt, a.finalSettlementHash]).to.deep.equal([at, FINAL]);
      const s = await end.settlementOf(fx.id);
      expect([s.providersShare, s.platformShare, s.feesCharged, s.settledAt, s.finalHash]).to.deep.equal([
        2_000n * CNY,
        500n * CNY,
        200n * CNY,
        at,
        FINAL,
      ]);
      expect(await fx.cashOf(clientA)).to.equal(cash - 2_500n * CNY);
      expect(await fx.cashOf(platformAccount)).to.equal(platformBefore + 500n * CNY);
      expect(await fx.pool.totalAssets()).to.equal(totalBefore + 2_000n * CNY);
      // the client keeps what is left and may withdraw it; it cannot borrow under the closed agreement
      await expect(engine.connect(clientA).withdraw(await fx.cash.getAddress(), cash - 2_500n * CNY)).to.emit(
        engine,
        "CollateralWithdrawn",
      );
      await expect(engine.connect(clientA).borrow(1n)).to.be.revertedWithCustomError(fx.binding, "AgreementInactive");
    });
  });
});
