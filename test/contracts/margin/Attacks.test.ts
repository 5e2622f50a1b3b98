import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { CNY, State, pct, price, setTier, zeroRate, type MarginFixture } from "../../helpers/marginFixture";
import { deploySettlementFixture, type SettlementFixture } from "../../helpers/settlementFixture";
import { identityHash, inAYear, verify } from "../../helpers/fixtures";
import { feedPrice } from "../../helpers/oracle";
import { signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

/**
 * Issue 16, written as the attacks: each test plays the attacker's steps (a client with a second account and an
 * accomplice, a liquidator, the operator) and asserts that the chain refuses them or leaves them harmless. The
 * threat model and the rule each test proves are in docs/security.md.
 */

const addr = (c: { getAddress(): Promise<string> }): Promise<string> => c.getAddress();
const id = (s: string): string => hre.ethers.encodeBytes32String(s);
const DAY = 86_400;
const HOUR = 3_600;

/** `who` pledges `shares` mbBANK (10 CNY each), borrows `borrowed` CNY and takes the cash out of the engine. */
async function levered(fx: MarginFixture, who: HardhatEthersSigner, shares: bigint, borrowed: bigint): Promise<void> {
  await fx.fundAccount(who, fx.bank, shares);
  await fx.engine.connect(who).borrow(borrowed);
  await fx.engine.connect(who).withdraw(await addr(fx.cash), borrowed);
}

/** Tier-1 margins 15% / 20% with no volatility add-on and no interest: the figures below hold exactly. */
async function plainRisk(fx: MarginFixture): Promise<void> {
  await zeroRate(fx);
  for (const tier of [1, 2, 3]) await setTier(fx, tier, pct(15), pct(5));
}

async function signedTrade(
  fx: SettlementFixture,
  seller: HardhatEthersSigner,
  buyer: HardhatEthersSigner,
  quantity: bigint,
  unitPrice: bigint,
  nonce: bigint,
  instrument?: string,
) {
  const expiry = BigInt(await time.latest()) + BigInt(HOUR);
  const base = { instrument: instrument ?? (await addr(fx.security)), expiry, quantity, limitPrice: unitPrice, nonce };
  const sell: SignedOrderFields = { ...base, account: seller.address, side: 1 };
  const buy: SignedOrderFields = { ...base, account: buyer.address, side: 0 };
  return {
    buy,
    sell,
    buySig: await signOrder(buyer, fx.domain, buy),
    sellSig: await signOrder(seller, fx.domain, sell),
    quantity,
    price: unitPrice,
  };
}

describe("On-chain safety: the attacks of issue 16, refused", () => {
  describe("1. a trade never takes value out of an indebted account", () => {
    it("refuses an indebted seller's sale of all its shares at 1 base unit to an accomplice", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      const attacker = fx.clientC; // 5× tier
      const accomplice = fx.alice;
      // The attacker pledges 20,000 shares (200,000), borrows 150,000 and walks away with the cash.
      await levered(fx, attacker, 20_000n, 150_000n * CNY);
      const sale = await signedTrade(fx, attacker, accomplice, 20_000n, 1n, 1n);
      await expect(fx.hub.connect(fx.operator).settleBatch(id("dump"), [sale]))
        .to.be.revertedWithCustomError(fx.hub, "HubInitialMarginBreached")
        .withArgs(0, attacker.address);
      // Nothing moved: the shares still back the loan.
      expect(await fx.engine.balanceOf(attacker.address, await addr(fx.bank))).to.equal(20_000n);
      expect(await fx.engine.balanceOf(accomplice.address, await addr(fx.bank))).to.equal(0n);
    });

    it("refuses an indebted account's transfer to an accomplice through the engine's transfer leg", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      await levered(fx, fx.clientC, 20_000n, 150_000n * CNY);
      // The harness holds SETTLER, as the hub does: a one-sided transfer gives nothing back.
      await expect(fx.harness.trade(fx.alice.address, fx.clientC.address, await addr(fx.bank), 20_000n, 1n))
        .to.be.revertedWithCustomError(fx.engine, "MarginInitialMarginBreached")
        .withArgs(fx.clientC.address, (e: bigint) => e < 0n, 0n);
    });

    it("lets a client in a margin call sell at the oracle price to cure, though it is below initial margin after", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      const client = fx.clientC;
      await levered(fx, client, 20_000n, 150_000n * CNY);
      await fx.setPrice(fx.bank, price(8.5)); // equity 20,000 < maintenance 25,500
      await fx.engine.poke(client.address);
      expect(await fx.engine.accountState(client.address)).to.equal(State.MarginCall);
      const before = await fx.engine.accountView(client.address);
      const sale = await signedTrade(fx, client, fx.alice, 5_000n, 8_500_000n, 1n);
      await expect(fx.hub.connect(fx.operator).settleBatch(id("cure"), [sale])).to.emit(fx.hub, "BatchSettled");
      const view = await fx.engine.accountView(client.address);
      expect(view.equity).to.equal(before.equity); // 42,500 cash + 127,500 shares − 150,000: nothing lost
      expect(view.initialReq).to.equal(25_500n * CNY); // still below initial margin: a sale is not new risk
      await expect(fx.engine.poke(client.address)).to.emit(fx.engine, "MarginCallCured").withArgs(client.address);
    });

    it("refuses a sale by an indebted seller one base unit below what the shares counted for", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      await fx.fundAccount(fx.clientC, fx.tech, 8_000n);
      await fx.engine.connect(fx.clientC).borrow(140_000n * CNY);
      await fx.engine.connect(fx.clientC).withdraw(await addr(fx.cash), 140_000n * CNY);
      // mbTECH at 23 (5% haircut): equity 34,800 < initial 36,800; one share counts for 21.85 of equity.
      await fx.setPrice(fx.tech, price(23));
      expect(await fx.engine.checkInitialMargin(fx.clientC.address)).to.equal(false);
      const tech = await addr(fx.tech);
      const low = await signedTrade(fx, fx.clientC, fx.alice, 1n, 21_849_999n, 1n, tech);
      await expect(fx.hub.connect(fx.operator).settleBatch(id("low"), [low]))
        .to.be.revertedWithCustomError(fx.hub, "HubInitialMarginBreached")
        .withArgs(0, fx.clientC.address);
      const fair = await signedTrade(fx, fx.clientC, fx.alice, 1n, 21_850_000n, 2n, tech);
      await expect(fx.hub.connect(fx.operator).settleBatch(id("fair"), [fair])).to.emit(fx.hub, "BatchSettled");
    });
  });

  describe("2. an unsafe price never shields an account", () => {
    // Two assets whose sessions never overlap (UTC): mbBANK trades Monday 00:00 – Thursday 12:00, mbTECH
    // Thursday 12:00 – Sunday 24:00.
    const BANK_WINDOW = (0 << 16) | 5_040;
    const TECH_WINDOW = (5_040 << 16) | 10_080;

    async function twoSessions() {
      const fx = await deploySettlementFixture();
      await plainRisk(fx);
      await fx.router.connect(fx.actors.riskOfficer).setSession(await addr(fx.bank), 0, [BANK_WINDOW]);
      await fx.router.connect(fx.actors.riskOfficer).setSession(await addr(fx.tech), 0, [TECH_WINDOW]);
      // The next Monday, 09:00 UTC (1970-01-01 was a Thursday: Monday-based weekday = (day + 3) % 7).
      const now = await time.latest();
      const day = Math.floor(now / DAY) + 1;
      const monday = (day + ((7 - ((day + 3) % 7)) % 7)) * DAY;
      await time.increaseTo(monday + 9 * HOUR);
      await fx.refreshPrices();
      await fx.advance((await fx.engine.params()).oracleGrace);
      return fx;
    }

    it("liquidates an account below the hard line in the same block, whatever dust of a closed asset it holds", async () => {
      const fx = await loadFixture(twoSessions);
      const attacker = fx.clientC;
      await levered(fx, attacker, 20_000n, 150_000n * CNY);
      // The attacker adds one mbTECH share, whose session is closed whenever mbBANK's is open (and the reverse).
      await fx.fundAccount(attacker, fx.tech, 1n);
      expect((await fx.engine.accountView(attacker.address)).pricesSafe).to.equal(false);
      await fx.setPrice(fx.bank, price(8)); // equity 10,025 < hard line 0.5 · 24,000 + ...
      expect(await fx.engine.accountState(attacker.address)).to.equal(State.Liquidatable);
      await expect(fx.engine.connect(fx.liquidator).liquidate(attacker.address, 5))
        .to.emit(fx.engine, "Liquidated")
        .withArgs(
          attacker.address,
          fx.liquidator.address,
          await addr(fx.bank),
          (u: bigint) => u > 0n,
          price(8),
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
        );
      // The closed share was not sold at a price nobody can trade at; it waits for its own session.
      expect(await fx.engine.balanceOf(attacker.address, await addr(fx.tech))).to.equal(1n);
      expect(await fx.engine.accountState(attacker.address)).to.not.equal(State.Liquidatable);
    });

    it("counts a stale or circuit-broken position at zero and liquidates the safe ones at once", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      const attacker = fx.clientC;
      await levered(fx, attacker, 20_000n, 150_000n * CNY);
      await fx.fundAccount(attacker, fx.small, 1n);
      await fx.advance((await fx.engine.params()).oracleGrace);
      // mbSMALL's feed breaks: its answer can no longer be read (Stale), and the router holds the last price.
      await fx.feeds.get(await addr(fx.small))!.setBroken(true);
      await fx.setPrice(fx.bank, price(8));
      const view = await fx.engine.accountView(attacker.address);
      expect(view.pricesSafe).to.equal(false);
      expect(view.state).to.equal(State.Liquidatable);
      await expect(fx.engine.connect(fx.liquidator).liquidate(attacker.address, 5)).to.emit(fx.engine, "Liquidated");
      expect(await fx.engine.balanceOf(attacker.address, await addr(fx.small))).to.equal(1n);
    });

    it("applies the oracle grace to the seized asset only: a position that just became safe blocks nothing", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      const attacker = fx.clientC;
      await levered(fx, attacker, 20_000n, 150_000n * CNY);
      await fx.fundAccount(attacker, fx.small, 1n);
      await fx.advance((await fx.engine.params()).oracleGrace);
      // mbSMALL's feed breaks and comes back with a fresh round: its safe window starts again now.
      const small = await addr(fx.small);
      const feed = fx.feeds.get(small)!;
      await feed.setBroken(true);
      await fx.router.poke(small);
      await feed.setBroken(false);
      await feed.setAnswer(feedPrice("50"));
      await fx.router.poke(small);
      expect(await fx.router.safeSince(small)).to.equal(BigInt(await time.latest()));
      await fx.setPrice(fx.bank, price(8));
      await expect(fx.engine.connect(fx.liquidator).liquidate(attacker.address, 5))
        .to.emit(fx.engine, "Liquidated")
        .withArgs(
          attacker.address,
          fx.liquidator.address,
          await addr(fx.bank),
          (u: bigint) => u > 0n,
          price(8),
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
        );
      expect(await fx.engine.balanceOf(attacker.address, small)).to.equal(1n);
    });
  });

  describe("3. a freeze reaches the collateral inside the engine", () => {
    async function frozenC() {
      const fx = await deploySettlementFixture();
      await plainRisk(fx);
      await fx.fundAccount(fx.clientC, fx.bank, 20_000n);
      await fx.fundAccount(fx.clientC, fx.cash, 10_000n * CNY);
      await fx.engine.connect(fx.clientC).borrow(50_000n * CNY);
      await fx.bank.connect(fx.actors.operator).setFrozen(fx.clientC.address, true);
      return fx;
    }

    it("mirrors the token's freeze in the engine in the same transaction", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await fx.fundAccount(fx.clientC, fx.bank, 100n);
      await expect(fx.bank.connect(fx.actors.operator).setFrozen(fx.clientC.address, true))
        .to.emit(fx.engine, "FreezeSynced")
        .withArgs(fx.clientC.address, await addr(fx.bank), true);
      expect((await fx.engine.accountView(fx.clientC.address)).frozenMask).to.equal(1n << 0n);
    });

    it("refuses to sell, transfer or withdraw a frozen balance, or to borrow against it", async () => {
      const fx = await loadFixture(frozenC);
      const bank = await addr(fx.bank);
      const sale = await signedTrade(fx, fx.clientC, fx.alice, 100n, 10_000_000n, 1n);
      await expect(fx.hub.connect(fx.operator).settleBatch(id("frozen"), [sale]))
        .to.be.revertedWithCustomError(fx.engine, "MarginBalanceFrozen")
        .withArgs(fx.clientC.address, bank);
      await expect(fx.engine.connect(fx.clientC).withdraw(bank, 1n))
        .to.be.revertedWithCustomError(fx.engine, "MarginBalanceFrozen")
        .withArgs(fx.clientC.address, bank);
      // The frozen shares count for nothing: 60,000 cash − 50,000 debt is all the equity there is.
      const view = await fx.engine.accountView(fx.clientC.address);
      expect(view.positionValue).to.equal(0n);
      expect(view.equity).to.be.closeTo(10_000n * CNY, 1n); // the debt rounds up by a base unit
      await expect(fx.engine.connect(fx.clientC).borrow(1n * CNY)).to.be.revertedWithCustomError(
        fx.engine,
        "MarginLeverageExceeded",
      );
    });

    it("never lets a liquidation take frozen collateral; only the legal officer's seizure moves it, with its order reference", async () => {
      const fx = await loadFixture(frozenC);
      const bank = await addr(fx.bank);
      const court = fx.actors.users[8];
      await fx.kyc
        .connect(fx.actors.kycOfficer)
        .setIdentity(court.address, 1, 156, await inAYear(), identityHash("court"));
      // Cash frozen too: nothing the owner can move is left; the account is liquidatable on paper.
      await fx.cash.connect(fx.actors.operator).setFrozen(fx.clientC.address, true);
      expect(await fx.engine.accountState(fx.clientC.address)).to.equal(State.Liquidatable);
      await expect(fx.engine.connect(fx.liquidator).liquidate(fx.clientC.address, 3))
        .to.be.revertedWithCustomError(fx.engine, "MarginBalanceFrozen")
        .withArgs(fx.clientC.address, bank);
      await expect(
        fx.engine.connect(fx.clientC).legalSeize(fx.clientC.address, bank, 100n, court.address, id("order-1")),
      ).to.be.revertedWithCustomError(fx.engine, "AccessManagedUnauthorized");
      await expect(
        fx.engine.connect(fx.actors.operator).legalSeize(fx.clientC.address, bank, 100n, court.address, id("")),
      ).to.be.revertedWithCustomError(fx.engine, "MarginLegalReferenceMissing");
      const tx = fx.engine
        .connect(fx.actors.operator)
        .legalSeize(fx.clientC.address, bank, 20_000n, court.address, id("order-1"));
      await expect(tx)
        .to.emit(fx.engine, "LegalSeizure")
        .withArgs(fx.clientC.address, bank, court.address, 20_000n, id("order-1"));
      await expect(tx).to.changeTokenBalances(fx.bank, [fx.engine, court], [-20_000n, 20_000n]);
      // An unfrozen balance is not the legal path's to take.
      await fx.cash.connect(fx.actors.operator).setFrozen(fx.clientC.address, false);
      await expect(
        fx.engine
          .connect(fx.actors.operator)
          .legalSeize(fx.clientC.address, await addr(fx.cash), 1n, court.address, id("order-2")),
      )
        .to.be.revertedWithCustomError(fx.engine, "MarginBalanceNotFrozen")
        .withArgs(fx.clientC.address, await addr(fx.cash));
    });

    it("re-syncs a freeze the engine missed, for anyone", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await fx.fundAccount(fx.clientC, fx.bank, 100n);
      // The token loses its listener (e.g. set before the engine existed): the freeze does not reach the engine.
      await fx.bank.connect(fx.actors.admin).setFreezeListener(hre.ethers.ZeroAddress);
      await fx.bank.connect(fx.actors.operator).setFrozen(fx.clientC.address, true);
      expect((await fx.engine.accountView(fx.clientC.address)).frozenMask).to.equal(0n);
      await expect(fx.engine.connect(fx.alice).syncFrozen(fx.clientC.address, await addr(fx.bank)))
        .to.emit(fx.engine, "FreezeSynced")
        .withArgs(fx.clientC.address, await addr(fx.bank), true);
      expect((await fx.engine.accountView(fx.clientC.address)).frozenMask).to.equal(1n);
    });

    it("ignores a freeze notice from anything but a listed token", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await fx.engine.connect(fx.clientA).freezeChanged(fx.clientC.address, true);
      expect((await fx.engine.accountView(fx.clientC.address)).frozenMask).to.equal(0n);
    });
  });

  describe("4. a seizure cap on one asset never blocks the rest", () => {
    it("liquidates the liquid collateral when the least liquid asset's window cap is used up by another account", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      // mbSMALL may lose at most one share per window to liquidations.
      await fx.engine.connect(fx.actors.riskOfficer).configureAsset(await addr(fx.small), 3, 0n, pct(10), 1n);
      const [attacker, victim] = [fx.clientC, fx.actors.users[9]];
      await verify(fx, victim.address, 3);
      await levered(fx, attacker, 20_000n, 150_000n * CNY);
      await fx.fundAccount(attacker, fx.small, 10n); // ten shares of the least liquid asset (above the dust value)
      await fx.fundAccount(victim, fx.small, 100n);
      await fx.engine.connect(victim).borrow(3_000n * CNY);
      await fx.engine.connect(victim).withdraw(await addr(fx.cash), 3_000n * CNY);
      await fx.setPrice(fx.small, price(20));
      await fx.setPrice(fx.bank, price(8));
      await fx.advance((await fx.engine.params()).oracleGrace);
      // The accomplice liquidation uses up mbSMALL's cap for the window.
      await fx.engine.connect(fx.liquidator).liquidate(victim.address, 1);
      expect(await fx.engine.seizableInWindow(await addr(fx.small))).to.equal(0n);
      await expect(fx.engine.connect(fx.liquidator).liquidate(attacker.address, 5))
        .to.emit(fx.engine, "Liquidated")
        .withArgs(
          attacker.address,
          fx.liquidator.address,
          await addr(fx.bank),
          (u: bigint) => u > 0n,
          price(8),
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
        );
    });

    it("sells a position worth less than the dust value after the others, whatever its tier", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      await levered(fx, fx.clientC, 20_000n, 150_000n * CNY);
      await fx.fundAccount(fx.clientC, fx.small, 1n); // 50 CNY, below the 100 CNY dust value
      await fx.setPrice(fx.bank, price(8));
      await fx.advance((await fx.engine.params()).oracleGrace);
      const tx = await fx.engine.connect(fx.liquidator).liquidate(fx.clientC.address, 1);
      await expect(tx)
        .to.emit(fx.engine, "Liquidated")
        .withArgs(
          fx.clientC.address,
          fx.liquidator.address,
          await addr(fx.bank),
          (u: bigint) => u > 0n,
          price(8),
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
        );
    });
  });

  describe("5. every margin call gets its full grace period", () => {
    it("does not let an old deadline count after a recovery by price alone", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      const client = fx.clientC;
      await levered(fx, client, 20_000n, 150_000n * CNY);
      const grace = (await fx.engine.params()).gracePeriod;
      await fx.setPrice(fx.bank, price(8.5));
      await fx.engine.poke(client.address); // margin call, deadline now + grace
      await fx.setPrice(fx.bank, price(10)); // recovers; nobody pokes
      await fx.advance(grace * 2n);
      await fx.setPrice(fx.bank, price(8.5)); // a later dip, long after the old deadline
      expect(await fx.engine.accountState(client.address)).to.equal(State.MarginCall);
      await expect(fx.engine.connect(fx.liquidator).liquidate(client.address, 1))
        .to.be.revertedWithCustomError(fx.engine, "MarginNotLiquidatable")
        .withArgs(client.address, State.MarginCall);
      const tx = await fx.engine.poke(client.address);
      const now = BigInt((await tx.getBlock())!.timestamp);
      await expect(tx)
        .to.emit(fx.engine, "MarginCalled")
        .withArgs(
          client.address,
          now + grace,
          (e: bigint) => e > 0n,
          (m: bigint) => m > 0n,
        );
    });

    it("keeps a call observed below maintenance within every grace period, and liquidates at its deadline", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      const client = fx.clientC;
      await levered(fx, client, 20_000n, 150_000n * CNY);
      const grace = (await fx.engine.params()).gracePeriod;
      await fx.setPrice(fx.bank, price(8.5));
      await fx.engine.poke(client.address);
      const [, deadline] = await fx.engine.recordedState(client.address);
      await fx.advance(grace / 2n);
      await fx.engine.poke(client.address);
      expect((await fx.engine.recordedState(client.address))[1]).to.equal(deadline); // the same call
      await time.increaseTo(deadline);
      await fx.refreshPrices();
      await expect(fx.engine.connect(fx.liquidator).liquidate(client.address, 1)).to.emit(fx.engine, "Liquidated");
    });
  });

  describe("9. no self-liquidation bonus", () => {
    it("refuses a liquidator registered under the account owner's identity", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await plainRisk(fx);
      const owner = fx.clientC;
      const second = fx.actors.users[9];
      await levered(fx, owner, 20_000n, 150_000n * CNY);
      // The owner's second address, under the same KYC identity, funded to act as a liquidator.
      await fx.kyc
        .connect(fx.actors.kycOfficer)
        .setIdentity(second.address, 1, 156, await inAYear(), identityHash(owner.address));
      await fx.fundAccount(second, fx.cash, 200_000n * CNY);
      await fx.setPrice(fx.bank, price(8));
      await fx.advance((await fx.engine.params()).oracleGrace);
      await expect(fx.engine.connect(second).liquidate(owner.address, 1))
        .to.be.revertedWithCustomError(fx.engine, "MarginSelfLiquidation")
        .withArgs(owner.address);
      await expect(fx.engine.connect(fx.liquidator).liquidate(owner.address, 1)).to.emit(fx.engine, "Liquidated");
    });
  });
});
