import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { CNY, State, pct, price, setTier } from "../../helpers/marginFixture";
import { listOptionSeries } from "../../../scripts/deploy/options";
import { DAY, FIXING_WINDOW, SIZE, WAD, optionsFixture, type OptionsFixture } from "../../../fixtures/options";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

/**
 * Issue 26, listed options: series listed by the risk officer, written against collateral locked in the engine, held
 * and margined in margin accounts, fixed from the underlying feed's rounds and settled inside the engine. Each attack
 * (a client, its accomplice, a writer, anyone calling the permissionless paths) is written as a test first, then the
 * rule that refuses it; docs/margin.md "Listed options" has the rules.
 */

const addr = (c: { getAddress(): Promise<string> }): Promise<string> => c.getAddress();
const FEED = 10n ** 10n; // 8-decimal feed answer → wad

/** `who` pledges `shares` mbBANK, borrows `borrowed` CNY and takes all but `keep` CNY of it out of the engine. */
async function levered(fx: OptionsFixture, who: HardhatEthersSigner, shares: bigint, borrowed: bigint, keep: bigint) {
  await fx.fundAccount(who, fx.bank, shares);
  await fx.engine.connect(who).borrow(borrowed);
  await fx.engine.connect(who).withdraw(await addr(fx.cash), borrowed - keep);
}

/** The dealer writes `contracts` of `series` and sells them to `buyer` at the model price (cash base units). */
async function writeAndSell(fx: OptionsFixture, series: "put" | "call", buyer: HardhatEthersSigner, contracts: bigint) {
  const token = fx[series];
  const s = await addr(token);
  await fx.market.connect(fx.dealer).write(s, contracts);
  const [answer] = await fx.router.getPrice(s);
  const cost = (contracts * answer) / 10n ** 12n;
  const cash = await addr(fx.cash);
  const has = await fx.engine.balanceOf(buyer.address, cash);
  if (has < cost) await fx.fundAccount(buyer, fx.cash, cost - has);
  await fx.harness.trade(buyer.address, fx.dealer.address, s, contracts, cost);
  return cost;
}

/** Appends rounds of the mbBANK feed at chosen times (8-decimal answers). */
async function roundsAt(fx: OptionsFixture, rounds: [number, bigint][]): Promise<void> {
  const feed = fx.feeds.get(await addr(fx.bank))!;
  for (const [at, answer] of rounds) await feed.setAnswerAt(answer, at);
}

async function latestRound(fx: OptionsFixture): Promise<bigint> {
  return fx.feeds.get(await addr(fx.bank))!.latestRound();
}

describe("OptionMarket (issue 26: listed options)", () => {
  describe("listing", () => {
    it("lists a series only by the risk officer, only on a listed underlying, only with sane terms", async () => {
      const fx = await loadFixture(optionsFixture);
      const terms = {
        underlying: await addr(fx.bank),
        isCall: false,
        strike: 9n * WAD,
        expiry: fx.expiry,
        contractSize: SIZE,
        fixingWindow: FIXING_WINDOW,
        volatilityFeed: await addr(fx.volatility),
        rate: 0n,
      };
      // the accomplice and the operator may not list (a series is a risk decision)
      for (const who of [fx.clientA, fx.actors.operator])
        await expect(fx.market.connect(who).listSeries(terms, "x", "x")).to.be.revertedWithCustomError(
          fx.market,
          "AccessManagedUnauthorized",
        );
      const officer = fx.market.connect(fx.actors.riskOfficer);
      for (const bad of [
        { strike: 0n },
        { contractSize: 0n },
        { fixingWindow: 59 },
        { fixingWindow: DAY + 1 },
        { expiry: BigInt(await time.latest()) + 60n },
        { rate: WAD + 1n },
        { volatilityFeed: "0x0000000000000000000000000000000000000000" },
      ])
        await expect(officer.listSeries({ ...terms, ...bad }, "x", "x")).to.be.revertedWithCustomError(
          fx.market,
          "OptionInvalidSeries",
        );
      await expect(officer.listSeries({ ...terms, underlying: await addr(fx.cash) }, "x", "x"))
        .to.be.revertedWithCustomError(fx.market, "OptionUnderlyingNotListed")
        .withArgs(await addr(fx.cash));
      expect(await fx.market.allSeries()).to.deep.equal([await addr(fx.put), await addr(fx.call)]);
      const put = await fx.market.series(await addr(fx.put));
      expect(put.lockPerContract).to.equal(900n * CNY); // 9 × 100, its largest payoff
      const call = await fx.market.series(await addr(fx.call));
      expect(call.lockPerContract).to.equal(100n); // 100 shares (0 decimals)
      expect(await fx.put.decimals()).to.equal(0n);
    });

    it("prices a contract from the underlying's round with the off-chain mirror's Black-Scholes, to the wei", async () => {
      const fx = await loadFixture(optionsFixture);
      for (const px of [10, 8.25, 12.5]) {
        await fx.setPrice(fx.bank, price(px));
        const [, spotAnswer, , at] = await fx.feeds.get(await addr(fx.bank))!.latestRoundData();
        for (const [feed, isCall, strike] of [
          [fx.putFeed, false, 9n * WAD],
          [fx.callFeed, true, 11n * WAD],
        ] as const) {
          const [, answer, , updatedAt] = await feed.latestRoundData();
          expect(answer).to.equal(fx.mirror(isCall, spotAnswer * FEED, strike, fx.expiry - at));
          expect(updatedAt).to.equal(at < (await fx.volatility.latestRoundData())[3] ? at : updatedAt);
        }
      }
      // 90 days, spot 10, σ 30%: the 9-put is worth 0.199138 a share (docs/margin.md), 19.91 CNY a contract
      await fx.setPrice(fx.bank, price(10));
      const [, p] = await fx.putFeed.latestRoundData();
      expect(Number(p) / 1e18).to.be.closeTo(19.91, 0.05);
    });

    it("makes a stale volatility a stale option (valued at zero in the engine, never above)", async () => {
      const fx = await loadFixture(optionsFixture);
      await time.increase(DAY + 60);
      await fx.refreshPrices(); // the underlying is fresh, the volatility a day old
      const [, status] = await fx.router.getPrice(await addr(fx.put));
      expect(status).to.not.equal(0n); // not Safe
      await fx.refreshOptions();
      const [, fresh] = await fx.router.getPrice(await addr(fx.put));
      expect(fresh).to.equal(0n);
    });
  });

  describe("writing", () => {
    it("locks a put's strike in cash and a call's shares in the engine, and credits the contracts", async () => {
      const fx = await loadFixture(optionsFixture);
      const [put, call] = [await addr(fx.put), await addr(fx.call)];
      const cash = await addr(fx.cash);
      const bank = await addr(fx.bank);
      const market = await addr(fx.market);
      const cashBefore = await fx.engine.balanceOf(fx.dealer.address, cash);
      const sharesBefore = await fx.engine.balanceOf(fx.dealer.address, bank);
      await expect(fx.market.connect(fx.dealer).write(put, 20n))
        .to.emit(fx.market, "Written")
        .withArgs(put, fx.dealer.address, 20n, 18_000n * CNY);
      await fx.market.connect(fx.dealer).write(call, 5n);
      expect(await fx.engine.balanceOf(fx.dealer.address, cash)).to.equal(cashBefore - 18_000n * CNY);
      expect(await fx.engine.balanceOf(fx.dealer.address, bank)).to.equal(sharesBefore - 500n);
      expect(await fx.engine.balanceOf(market, cash)).to.equal(18_000n * CNY);
      expect(await fx.engine.balanceOf(market, bank)).to.equal(500n);
      expect(await fx.engine.balanceOf(fx.dealer.address, put)).to.equal(20n);
      expect(await fx.engine.balanceOf(fx.dealer.address, call)).to.equal(5n);
      expect(await fx.put.totalSupply()).to.equal(20n);
      expect(await fx.put.balanceOf(await addr(fx.engine))).to.equal(20n); // every contract in the engine
      expect(await fx.market.written(put, fx.dealer.address)).to.equal(20n);
    });

    it("refuses writing without the collateral, after expiry, for zero, or on an unknown series", async () => {
      const fx = await loadFixture(optionsFixture);
      const put = await addr(fx.put);
      // clientA has no cash in the engine: nothing to lock
      await expect(fx.market.connect(fx.clientA).write(put, 1n)).to.be.reverted;
      await expect(fx.market.connect(fx.dealer).write(put, 0n)).to.be.revertedWithCustomError(
        fx.market,
        "OptionZeroAmount",
      );
      await expect(fx.market.connect(fx.dealer).write(await addr(fx.bank), 1n))
        .to.be.revertedWithCustomError(fx.market, "OptionUnknownSeries")
        .withArgs(await addr(fx.bank));
      await time.increaseTo(fx.expiry);
      await expect(fx.market.connect(fx.dealer).write(put, 1n))
        .to.be.revertedWithCustomError(fx.market, "OptionExpired")
        .withArgs(put, fx.expiry);
    });

    it("refuses an indebted writer locking the margin its loan needs (attack: borrow, then lock the cash away)", async () => {
      const fx = await loadFixture(optionsFixture);
      // clientC: 2,000 shares (20,000), borrows 14,000 and keeps 1,000 in the engine: equity 7,000, initial 4,000
      await levered(fx, fx.clientC, 2_000n, 14_000n * CNY, 1_000n * CNY);
      // writing one put locks 900 of its 1,000 cash: still above initial margin, allowed
      await fx.market.connect(fx.clientC).write(await addr(fx.put), 1n);
      // a price fall takes it below initial margin: no further locking
      await fx.setPrice(fx.bank, price(8.5)); // equity 17,000 + 100 + 80% of the put − 14,000 < 20% of 17,000 + put
      await fx.refreshOptions();
      expect(await fx.engine.checkInitialMargin(fx.clientC.address)).to.equal(false);
      await expect(fx.market.connect(fx.clientC).write(await addr(fx.call), 1n)).to.be.revertedWithCustomError(
        fx.engine,
        "MarginInitialMarginBreached",
      );
    });

    it("refuses a write whose own contracts leave an indebted writer below initial margin (found by the adversarial walk)", async () => {
      const fx = await loadFixture(optionsFixture);
      // a deep put (struck at 50, spot 10: ≈ 4,000 a contract, 5,000 locked) margined heavily as a position: tier 4
      // (maintenance 80%, initial 99%) with a 90% haircut, so each contract credited asks ≈ 3,960 more initial margin
      // and adds only ≈ 400 of equity
      await setTier(fx, 4, pct(80), pct(19));
      const deep = await listOptionSeries({
        contracts: fx.record.contracts,
        riskOfficer: fx.actors.riskOfficer,
        operator: fx.actors.operator,
        terms: {
          underlying: await addr(fx.bank),
          isCall: false,
          strike: 50n * WAD,
          expiry: fx.expiry,
          contractSize: SIZE,
          fixingWindow: FIXING_WINDOW,
          volatilityFeed: await addr(fx.volatility),
          rate: 0n,
        },
        name: "mbBANK-P50",
        symbol: "mbBANK-P50",
        maxStaleness: DAY,
        margin: { tier: 4, haircut: (90n * WAD) / 100n },
      });
      // clientC: 2,000 shares (20,000), borrows 14,000, keeps 5,000: equity 11,000, initial 4,000
      await levered(fx, fx.clientC, 2_000n, 14_000n * CNY, 5_000n * CNY);
      // the lock alone (5,000) would leave 6,000 ≥ 4,000; with the contract's ≈ 3,960 more initial margin it does not
      await expect(fx.market.connect(fx.clientC).write(deep, 1n))
        .to.be.revertedWithCustomError(fx.market, "OptionMarginRefused")
        .withArgs(fx.clientC.address);
      // without debt the same write is only a conversion of cash: allowed
      await fx.fundAccount(fx.clientA, fx.cash, 5_000n * CNY);
      await fx.market.connect(fx.clientA).write(deep, 1n);
      expect(await fx.engine.balanceOf(fx.clientA.address, deep)).to.equal(1n);
    });

    it("keeps contracts inside the engine: no withdrawal to a wallet, no mint or burn but the market's", async () => {
      const fx = await loadFixture(optionsFixture);
      const put = await addr(fx.put);
      await writeAndSell(fx, "put", fx.clientA, 2n);
      await expect(fx.engine.connect(fx.clientA).withdraw(put, 1n))
        .to.be.revertedWithCustomError(fx.put, "OptionTokenHolderNotAllowed")
        .withArgs(fx.clientA.address);
      await expect(fx.put.connect(fx.clientA).mint(fx.clientA.address, 1n))
        .to.be.revertedWithCustomError(fx.put, "OptionTokenOnlyMarket")
        .withArgs(fx.clientA.address);
      await expect(fx.put.connect(fx.clientA).burn(1n)).to.be.revertedWithCustomError(fx.put, "OptionTokenOnlyMarket");
      // the market's internal calls are its own
      await expect(
        fx.market.connect(fx.clientA).settleHolder(put, fx.clientA.address, 1n),
      ).to.be.revertedWithCustomError(fx.market, "OptionOnlySelf");
      await expect(
        fx.market.connect(fx.clientA).pay(await addr(fx.cash), fx.clientA.address, 1n),
      ).to.be.revertedWithCustomError(fx.market, "OptionOnlySelf");
    });

    it("unwrites only contracts the writer wrote and still holds, before expiry, returning the collateral", async () => {
      const fx = await loadFixture(optionsFixture);
      const put = await addr(fx.put);
      const cash = await addr(fx.cash);
      await writeAndSell(fx, "put", fx.clientA, 3n); // written 3, the dealer holds none of them now
      await fx.market.connect(fx.dealer).write(put, 2n); // written 5, holds 2
      // attack: the accomplice holding 3 contracts it did not write tries to take the dealer's collateral
      await expect(fx.market.connect(fx.clientA).unwrite(put, 1n))
        .to.be.revertedWithCustomError(fx.market, "OptionNotWritten")
        .withArgs(put, fx.clientA.address, 0n, 1n);
      // the writer may not unwrite contracts it sold
      await expect(fx.market.connect(fx.dealer).unwrite(put, 3n)).to.be.reverted;
      const before = await fx.engine.balanceOf(fx.dealer.address, cash);
      await expect(fx.market.connect(fx.dealer).unwrite(put, 2n))
        .to.emit(fx.market, "Unwritten")
        .withArgs(put, fx.dealer.address, 2n, 1_800n * CNY);
      expect(await fx.engine.balanceOf(fx.dealer.address, cash)).to.equal(before + 1_800n * CNY);
      expect(await fx.put.totalSupply()).to.equal(3n);
      expect((await fx.market.series(put)).openInterest).to.equal(3n);
      await time.increaseTo(fx.expiry);
      await expect(fx.market.connect(fx.dealer).unwrite(put, 1n)).to.be.revertedWithCustomError(
        fx.market,
        "OptionExpired",
      );
    });
  });

  describe("the hedge in the gap (the demo's scenario)", () => {
    it("a protective put keeps a levered account above its line where the same account without it is liquidated", async () => {
      const fx = await loadFixture(optionsFixture);
      // both: 2,000 mbBANK at 10 (20,000), 12,000 borrowed, 500 kept as cash; the hedged one buys 20 puts at 9
      await levered(fx, fx.clientC, 2_000n, 12_000n * CNY, 500n * CNY);
      await levered(fx, fx.clientB, 2_000n, 12_000n * CNY, 500n * CNY);
      const premium = await writeAndSell(fx, "put", fx.clientC, 20n);
      expect(Number(premium) / 1e6).to.be.closeTo(398.3, 1); // 20 × 19.91
      // the gap: 10 → 6 in one round
      await fx.setPrice(fx.bank, price(6));
      await fx.refreshOptions();
      for (const who of [fx.clientB, fx.clientC]) await fx.engine.poke(who.address);
      expect(await fx.engine.accountState(fx.clientB.address)).to.equal(State.Liquidatable); // equity 500 < 900
      const hedged = await fx.engine.accountView(fx.clientC.address);
      // the puts are worth ≥ (9 − 6) × 100 each: 20 × 300 = 6,000, counted at 80% (the series' haircut)
      expect(hedged.positionValue).to.be.greaterThan(12_000n * CNY + 6_000n * CNY);
      expect(hedged.equity).to.be.greaterThan(BigInt(hedged.maintenanceReq));
      expect(await fx.engine.accountState(fx.clientC.address)).to.be.lessThan(State.MarginCall);
      // the unhedged one is liquidated (once its price has been Safe for the oracle grace); the hedged one may not be
      await time.increase(301);
      await fx.refreshPrices();
      await fx.refreshOptions();
      await fx.engine.connect(fx.liquidator).liquidate(fx.clientB.address, 5);
      await expect(fx.engine.connect(fx.liquidator).liquidate(fx.clientC.address, 5)).to.be.revertedWithCustomError(
        fx.engine,
        "MarginNotLiquidatable",
      );
    });

    it("a liquidation may seize option contracts like any position (the liquidator holds them in its account)", async () => {
      const fx = await loadFixture(optionsFixture);
      await levered(fx, fx.clientC, 2_000n, 14_000n * CNY, 600n * CNY);
      await writeAndSell(fx, "call", fx.clientC, 10n); // calls: worthless in a fall
      await fx.setPrice(fx.bank, price(7));
      await fx.refreshOptions();
      await fx.engine.poke(fx.clientC.address);
      expect(await fx.engine.accountState(fx.clientC.address)).to.equal(State.Liquidatable);
      await time.increase(301);
      await fx.refreshPrices();
      await fx.refreshOptions();
      await fx.engine.connect(fx.liquidator).liquidate(fx.clientC.address, 5);
      // the least liquid position goes first: the calls (tier 3) before the shares
      expect(await fx.engine.balanceOf(fx.liquidator.address, await addr(fx.call))).to.equal(10n);
    });
  });

  describe("the fix (time-weighted average of the underlying over the fixing window)", () => {
    it("fixes at the time-weighted average of the rounds in [expiry, expiry + window], in one call or round by round", async () => {
      const fx = await loadFixture(optionsFixture);
      const put = await addr(fx.put);
      await writeAndSell(fx, "put", fx.clientA, 4n);
      const e = Number(fx.expiry);
      // standing at expiry: 8.00 (from e − 100); then 7.00 at e + 600, 8.50 at e + 1,200; window 1,800 s
      await time.increaseTo(e - 100);
      await roundsAt(fx, [[e - 100, 800_000_000n]]);
      const standing = await latestRound(fx);
      await roundsAt(fx, [
        [e + 600, 700_000_000n],
        [e + 1_200, 850_000_000n],
      ]);
      await expect(fx.market.fix(put, standing, 10))
        .to.be.revertedWithCustomError(fx.market, "OptionNotExpired")
        .withArgs(put, fx.expiry + BigInt(FIXING_WINDOW));
      await time.increaseTo(e + FIXING_WINDOW);
      // attack: the caller picks a round that suits it — one after expiry, or one superseded before it
      await expect(fx.market.fix(put, standing + 1n, 10))
        .to.be.revertedWithCustomError(fx.market, "OptionWrongFixingRound")
        .withArgs(standing + 1n);
      await expect(fx.market.fix(put, standing - 1n, 10))
        .to.be.revertedWithCustomError(fx.market, "OptionWrongFixingRound")
        .withArgs(standing - 1n);
      // (8 × 600 + 7 × 600 + 8.5 × 600) / 1,800 = 7.8333…; the put pays (9 − 7.8333…) × 100 = 116.666666 CNY
      const twap = (8n * WAD * 600n + 7n * WAD * 600n + (85n * WAD * 600n) / 10n) / 1_800n;
      await fx.market.fix(put, standing, 1); // round by round
      await fx.market.fix(put, 0, 1);
      await expect(fx.market.fix(put, 0, 1))
        .to.emit(fx.market, "Fixed")
        .withArgs(put, twap, 116_666_666n);
      await expect(fx.market.fix(put, 0, 1)).to.be.revertedWithCustomError(fx.market, "OptionAlreadyFixed");
      // the same in one call on the call series
      await expect(fx.market.fix(await addr(fx.call), standing, 10))
        .to.emit(fx.market, "Fixed")
        .withArgs(await addr(fx.call), twap, 0n);
      // from the fix on the feed answers the fixed value of a contract
      const [, answer] = await fx.putFeed.latestRoundData();
      expect(answer).to.equal(116_666_666n * 10n ** 12n);
    });
  });

  describe("settlement inside the engine", () => {
    async function fixedAt(fx: OptionsFixture, answer: bigint): Promise<void> {
      const e = Number(fx.expiry);
      await time.increaseTo(e - 10);
      await roundsAt(fx, [[e - 10, answer]]);
      const standing = await latestRound(fx);
      await time.increaseTo(e + FIXING_WINDOW);
      await fx.market.fix(await addr(fx.put), standing, 5);
      await fx.market.fix(await addr(fx.call), standing, 5);
      await fx.refreshOptions();
    }

    it("pays put holders (K − S) × size in cash, returns the rest to writers, and leaves the market holding nothing", async () => {
      const fx = await loadFixture(optionsFixture);
      const put = await addr(fx.put);
      const cash = await addr(fx.cash);
      const market = await addr(fx.market);
      await writeAndSell(fx, "put", fx.clientA, 3n);
      await writeAndSell(fx, "put", fx.clientB, 2n);
      await fixedAt(fx, 750_000_000n); // S = 7.5: each contract pays 150 CNY
      await expect(fx.market.exercise(put, [fx.clientA.address, fx.clientA.address, fx.clientB.address]))
        .to.emit(fx.market, "Exercised")
        .withArgs(put, fx.clientA.address, 3n, 450n * CNY);
      expect(await fx.engine.balanceOf(fx.clientB.address, put)).to.equal(0n);
      // paid once, though named twice; nothing left to exercise
      const a = await fx.engine.balanceOf(fx.clientA.address, cash);
      await fx.market.exercise(put, [fx.clientA.address]);
      expect(await fx.engine.balanceOf(fx.clientA.address, cash)).to.equal(a);
      // the writer: 5 × (900 − 150) = 3,750 back, once
      const d = await fx.engine.balanceOf(fx.dealer.address, cash);
      await expect(fx.market.release(put, [fx.dealer.address, fx.dealer.address]))
        .to.emit(fx.market, "Released")
        .withArgs(put, fx.dealer.address, 5n, 3_750n * CNY);
      expect(await fx.engine.balanceOf(fx.dealer.address, cash)).to.equal(d + 3_750n * CNY);
      expect(await fx.engine.balanceOf(market, cash)).to.equal(0n);
      expect(await fx.put.totalSupply()).to.equal(0n);
    });

    it("pays call holders the underlying's units worth (S − K) × size, floored; the writer keeps the rest", async () => {
      const fx = await loadFixture(optionsFixture);
      const call = await addr(fx.call);
      const bank = await addr(fx.bank);
      await writeAndSell(fx, "call", fx.clientA, 2n);
      await fixedAt(fx, 1_200_000_000n); // S = 12: 100 × 1 / 12 = 8.33 → 8 shares a contract
      const before = await fx.engine.balanceOf(fx.clientA.address, bank);
      await expect(fx.market.exercise(call, [fx.clientA.address]))
        .to.emit(fx.market, "Exercised")
        .withArgs(call, fx.clientA.address, 2n, 16n);
      expect(await fx.engine.balanceOf(fx.clientA.address, bank)).to.equal(before + 16n);
      await expect(fx.market.release(call, [fx.dealer.address]))
        .to.emit(fx.market, "Released")
        .withArgs(call, fx.dealer.address, 2n, 184n);
      expect(await fx.engine.balanceOf(await addr(fx.market), bank)).to.equal(0n);
    });

    it("settles an indebted holder below initial margin at a fair price, and skips (not blocks) one the engine refuses", async () => {
      const fx = await loadFixture(optionsFixture);
      const [put, call] = [await addr(fx.put), await addr(fx.call)];
      await levered(fx, fx.clientC, 2_000n, 14_000n * CNY, 1_000n * CNY);
      await writeAndSell(fx, "put", fx.clientC, 1n);
      await writeAndSell(fx, "call", fx.clientC, 1n);
      await writeAndSell(fx, "put", fx.clientA, 1n);
      await fixedAt(fx, 760_000_000n); // S = 7.6: clientC far below initial margin; the call is worthless
      expect(await fx.engine.checkInitialMargin(fx.clientC.address)).to.equal(false);
      // the put: a sale at its fixed value settles whatever the seller's margin
      await expect(fx.market.exercise(put, [fx.clientC.address, fx.clientA.address]))
        .to.emit(fx.market, "Exercised")
        .withArgs(put, fx.clientC.address, 1n, 140n * CNY)
        .and.to.emit(fx.market, "Exercised")
        .withArgs(put, fx.clientA.address, 1n, 140n * CNY);
      // the worthless call leaves an account below initial margin only with the engine's consent: skipped, kept
      await expect(fx.market.exercise(call, [fx.clientC.address])).to.emit(fx.market, "ExerciseSkipped");
      expect(await fx.engine.balanceOf(fx.clientC.address, call)).to.equal(1n);
    });

    it("refuses exercise and release before the fix", async () => {
      const fx = await loadFixture(optionsFixture);
      const put = await addr(fx.put);
      await writeAndSell(fx, "put", fx.clientA, 1n);
      await expect(fx.market.exercise(put, [fx.clientA.address]))
        .to.be.revertedWithCustomError(fx.market, "OptionNotFixed")
        .withArgs(put);
      await expect(fx.market.release(put, [fx.dealer.address])).to.be.revertedWithCustomError(
        fx.market,
        "OptionNotFixed",
      );
    });
  });
});
