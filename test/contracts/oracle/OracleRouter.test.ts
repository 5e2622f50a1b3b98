import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { deployCoreFixture } from "../../helpers/fixtures";
import { feedPrice, oracleParams, routerPrice, useSettableFeeds } from "../../helpers/oracle";
import { SettableAggregatorV3__factory, type SettableAggregatorV3 } from "../../../typechain-types";

/** ⌊√x⌋ by Newton's method on bigints (the reference for the router's recorded σ). */
function sqrtFloor(x: bigint): bigint {
  if (x < 2n) return x;
  let y = x;
  let z = (x >> 1n) + 1n;
  while (z < y) {
    y = z;
    z = (x / z + z) >> 1n;
  }
  return y;
}

enum Status {
  Safe,
  Stale,
  Deviating,
  CircuitBroken,
  Closed,
  Unset,
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const SHANGHAI = 8 * HOUR;
/** Monday 2030-01-07 00:00 in Shanghai, as unix seconds. */
const MONDAY_SHANGHAI = Date.UTC(2030, 0, 7) / 1000 - SHANGHAI;
/** Minute-of-week window `start << 16 | end`. */
const win = (day: number, from: string, to: string): number => {
  const m = (s: string): number => day * 1440 + Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
  return (m(from) << 16) | m(to);
};
/** Shanghai A-share sessions: 09:30–11:30 and 13:00–15:00, Monday to Friday. */
const SHANGHAI_WINDOWS = [0, 1, 2, 3, 4].flatMap((d) => [win(d, "09:30", "11:30"), win(d, "13:00", "15:00")]);

async function routerFixture() {
  const fx = await deployCoreFixture();
  const { router, feeds } = await useSettableFeeds(fx, { mbBANK: "10", mbTECH: "50", mbSMALL: "4" });
  const [bank, tech, small] = fx.securities;
  const newFeed = async (decimals = 8): Promise<SettableAggregatorV3> =>
    new SettableAggregatorV3__factory(fx.actors.admin).deploy(decimals, "test feed");
  return { fx, router, feeds, bank, tech, small, newFeed, bankAddr: await bank.getAddress() };
}

describe("OracleRouter", () => {
  describe("getPrice", () => {
    it("returns Unset with no price for an asset without a feed", async () => {
      const { router, fx } = await loadFixture(routerFixture);
      expect(await router.getPrice(await fx.cash.getAddress())).to.deep.equal([0n, Status.Unset, 0n]);
    });

    it("scales an 8-decimal answer to 18 decimals and reports Safe with the feed's updatedAt", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      const [, , , updatedAt] = await feeds.mbBANK.latestRoundData();
      expect(await router.getPrice(bankAddr)).to.deep.equal([routerPrice("10"), Status.Safe, updatedAt]);
    });

    it("floors an answer with more than 18 decimals", async () => {
      const { router, fx, newFeed, bankAddr } = await loadFixture(routerFixture);
      const feed = await newFeed(20);
      await feed.setAnswer(1234567890123456789012n);
      await router.connect(fx.actors.riskOfficer).configureAsset(bankAddr, oracleParams(await feed.getAddress()));
      expect((await router.getPrice(bankAddr))[0]).to.equal(12345678901234567890n);
    });

    it("reports Stale once the answer is older than maxStaleness in an open session", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      await feeds.mbBANK.setAnswer(feedPrice("10"));
      await time.increase(HOUR - 5);
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Safe);
      await time.increase(10);
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Stale);
    });

    it("reports Stale with the last recorded price when the feed answers zero, a negative value or reverts", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      const [, , , recordedAt] = await feeds.mbBANK.latestRoundData();
      await feeds.mbBANK.setAnswer(0);
      expect(await router.getPrice(bankAddr)).to.deep.equal([routerPrice("10"), Status.Stale, recordedAt]);
      await feeds.mbBANK.setAnswer(-5);
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Stale);
      await feeds.mbBANK.setAnswer(feedPrice("10"));
      await feeds.mbBANK.setBroken(true);
      expect(await router.getPrice(bankAddr)).to.deep.equal([routerPrice("10"), Status.Stale, recordedAt]);
    });
  });

  describe("configureAsset", () => {
    it("is restricted to the risk officer", async () => {
      const { router, fx, feeds, bankAddr } = await loadFixture(routerFixture);
      const outsider = fx.actors.users[0];
      await expect(router.connect(outsider).configureAsset(bankAddr, oracleParams(await feeds.mbBANK.getAddress())))
        .to.be.revertedWithCustomError(router, "AccessManagedUnauthorized")
        .withArgs(outsider.address);
    });

    it("rejects a missing primary, a secondary equal to the primary, zero staleness and a zero volatility half-life", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      const primary = await feeds.mbBANK.getAddress();
      for (const bad of [
        oracleParams(hre.ethers.ZeroAddress),
        oracleParams(primary, { secondary: primary }),
        oracleParams(primary, { maxStaleness: 0 }),
        oracleParams(primary, { volatilityHalfLife: 0 }),
      ]) {
        await expect(router.configureAsset(bankAddr, bad))
          .to.be.revertedWithCustomError(router, "OracleInvalidParams")
          .withArgs(bankAddr);
      }
    });

    it("rejects a feed with more than 36 decimals", async () => {
      const { router, newFeed, bankAddr } = await loadFixture(routerFixture);
      const feed = await newFeed(37);
      await expect(router.configureAsset(bankAddr, oracleParams(await feed.getAddress())))
        .to.be.revertedWithCustomError(router, "OracleUnsupportedDecimals")
        .withArgs(await feed.getAddress(), 37);
    });

    it("emits AssetConfigured, stores the parameters and takes the latest round as reference", async () => {
      const { router, newFeed, bankAddr } = await loadFixture(routerFixture);
      const feed = await newFeed();
      await feed.setAnswer(feedPrice("12"));
      const params = oracleParams(await feed.getAddress(), { maxMove: 0n });
      await expect(router.configureAsset(bankAddr, params))
        .to.emit(router, "AssetConfigured")
        .withArgs(bankAddr, params.primary, params.secondary, 3600, params.maxDeviation, 0n, params.volatilityHalfLife)
        .and.to.emit(router, "RoundProcessed")
        .withArgs(bankAddr, 1n, routerPrice("12"), 0n, 0n);
      expect((await router.assetParams(bankAddr)).primary).to.equal(params.primary);
      const state = await router.assetState(bankAddr);
      expect([state.lastRoundId, state.lastPrice]).to.deep.equal([1n, routerPrice("12")]);
    });
  });

  describe("secondary feed", () => {
    async function withSecondary() {
      const f = await routerFixture();
      const secondary = await f.newFeed(18);
      await secondary.setAnswer(routerPrice("10.1"));
      const params = oracleParams(await f.feeds.mbBANK.getAddress(), { secondary: await secondary.getAddress() });
      await f.router.configureAsset(f.bankAddr, params);
      return { ...f, secondary };
    }

    it("is Safe while the two feeds agree within maxDeviation (1% < 2%), across decimals", async () => {
      const { router, bankAddr } = await loadFixture(withSecondary);
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Safe);
    });

    it("is Deviating when they disagree beyond maxDeviation", async () => {
      const { router, secondary, bankAddr } = await loadFixture(withSecondary);
      await secondary.setAnswer(routerPrice("10.25"));
      expect(await router.getPrice(bankAddr)).to.deep.include.members([routerPrice("10"), BigInt(Status.Deviating)]);
    });

    it("is Deviating when the secondary cannot confirm: stale or reverting", async () => {
      const { router, secondary, feeds, bankAddr } = await loadFixture(withSecondary);
      await time.increase(HOUR - 60);
      await feeds.mbBANK.setAnswer(feedPrice("10"));
      await time.increase(120);
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Deviating);
      await secondary.setAnswer(routerPrice("10"));
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Safe);
      await secondary.setBroken(true);
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Deviating);
    });
  });

  describe("circuit breaker", () => {
    it("reports a not-yet-absorbed move beyond maxMove as CircuitBroken before anyone pokes", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      await feeds.mbBANK.setAnswer(feedPrice("7.9")); // −21% > 20%
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.CircuitBroken);
    });

    it("lets anyone trip it with poke; it stays tripped even when the price comes back", async () => {
      const { router, feeds, fx, bankAddr } = await loadFixture(routerFixture);
      await feeds.mbBANK.setAnswer(feedPrice("12.5")); // +25%
      await expect(router.connect(fx.actors.users[3]).poke(bankAddr))
        .to.emit(router, "CircuitBreakerTripped")
        .withArgs(bankAddr, 2n, routerPrice("10"), routerPrice("12.5"))
        .and.to.emit(router, "PriceBecameUnsafe")
        .withArgs(bankAddr, Status.CircuitBroken);
      await feeds.mbBANK.setAnswer(feedPrice("10"));
      await router.poke(bankAddr);
      const state = await router.assetState(bankAddr);
      expect([state.tripped, state.trippedRoundId, state.lastRoundId]).to.deep.equal([true, 2n, 1n]);
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.CircuitBroken);
      expect(await router.safeSince(bankAddr)).to.equal(0n);
    });

    it("does not trip on a move within maxMove", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      await feeds.mbBANK.setAnswer(feedPrice("8.01")); // −19.9%
      await expect(router.poke(bankAddr)).not.to.emit(router, "CircuitBreakerTripped");
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Safe);
    });

    it("is reset only by the risk officer, who absorbs the pending rounds; the grace clock restarts then", async () => {
      const { router, feeds, fx, bankAddr } = await loadFixture(routerFixture);
      await feeds.mbBANK.setAnswer(feedPrice("5"));
      await router.poke(bankAddr);
      const outsider = fx.actors.users[0];
      await expect(router.connect(outsider).resetCircuitBreaker(bankAddr))
        .to.be.revertedWithCustomError(router, "AccessManagedUnauthorized")
        .withArgs(outsider.address);
      await expect(router.resetCircuitBreaker(bankAddr))
        .to.emit(router, "CircuitBreakerReset")
        .withArgs(bankAddr, 2n, routerPrice("5"))
        .and.to.emit(router, "PriceBecameSafe");
      const resetAt = await time.latest();
      expect(await router.getPrice(bankAddr)).to.deep.include.members([routerPrice("5"), BigInt(Status.Safe)]);
      expect(await router.safeSince(bankAddr)).to.equal(resetAt);
      // The crash is part of the volatility: the only return, ln(0.5) over Δt seconds, is a daily variance of
      // ln(0.5)² · 86,400 / Δt (as if the asset moved like that every Δt).
      const dt = Number((await feeds.mbBANK.getRoundData(2n))[3] - (await feeds.mbBANK.getRoundData(1n))[3]);
      const expected = Math.log(0.5) ** 2 * (86_400 / Math.max(1, dt));
      expect(Number(await router.volatility(bankAddr)) / 1e18).to.be.closeTo(Math.sqrt(expected), 1e-9);
      // σ is recorded beside the variance when the round is absorbed: exactly ⌊√(variance · 1e18)⌋, what quotes and
      // volatility() return without computing a root at every read.
      const state = await router.assetState(bankAddr);
      const root = sqrtFloor(state.variance * 10n ** 18n);
      expect(state.volatility).to.equal(root);
      expect(await router.volatility(bankAddr)).to.equal(root);
      expect((await router.quotes([bankAddr]))[0].volatility).to.equal(root);
    });

    it("refuses a reset when it is not tripped", async () => {
      const { router, bankAddr } = await loadFixture(routerFixture);
      await expect(router.resetCircuitBreaker(bankAddr))
        .to.be.revertedWithCustomError(router, "OracleBreakerNotTripped")
        .withArgs(bankAddr);
    });

    it("rejects poke for an unconfigured asset", async () => {
      const { router, fx } = await loadFixture(routerFixture);
      const cash = await fx.cash.getAddress();
      await expect(router.poke(cash)).to.be.revertedWithCustomError(router, "OracleAssetNotConfigured").withArgs(cash);
    });
  });

  describe("safeSince (grace period)", () => {
    it("is 0 while Stale, starts at the poke that sees Safe again, and stays while Safe", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      const configuredSafeAt = (await router.assetState(bankAddr)).safeSince; // configureAsset records it
      await expect(router.poke(bankAddr)).not.to.emit(router, "PriceBecameSafe");
      expect(await router.safeSince(bankAddr))
        .to.equal(configuredSafeAt)
        .and.to.be.greaterThan(0n);
      await time.increase(2 * HOUR);
      expect(await router.safeSince(bankAddr)).to.equal(0n);
      await expect(router.poke(bankAddr)).to.emit(router, "PriceBecameUnsafe").withArgs(bankAddr, Status.Stale);
      await feeds.mbBANK.setAnswer(feedPrice("10.1"));
      await expect(router.poke(bankAddr)).to.emit(router, "PriceBecameSafe");
      const again = await time.latest();
      await time.increase(600);
      await feeds.mbBANK.setAnswer(feedPrice("10.2"));
      await router.poke(bankAddr);
      expect(await router.safeSince(bankAddr)).to.equal(again);
    });

    it("reads as the current time when Safe but not yet recorded by a poke", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      await time.increase(2 * HOUR);
      await router.poke(bankAddr); // records Stale
      expect(await router.safeSince(bankAddr)).to.equal(0n);
      await feeds.mbBANK.setAnswer(feedPrice("10"));
      expect((await router.assetState(bankAddr)).safeSince).to.equal(0n);
      expect(await router.safeSince(bankAddr)).to.be.at.least(await time.latest());
    });

    it("restarts at the round that ended a stale window no poke saw", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      await router.poke(bankAddr);
      await time.increase(2 * HOUR); // stale, but nobody pokes
      await feeds.mbBANK.setAnswer(feedPrice("10.1"));
      const freshAt = await time.latest();
      await time.increase(60);
      await feeds.mbBANK.setAnswer(feedPrice("10.2"));
      await expect(router.poke(bankAddr)).to.emit(router, "PriceBecameSafe").withArgs(bankAddr, freshAt);
      expect(await router.safeSince(bankAddr)).to.equal(freshAt);
    });
  });

  describe("trading sessions", () => {
    async function shanghaiFixture() {
      const f = await routerFixture();
      await f.router.setSession(f.bankAddr, SHANGHAI, SHANGHAI_WINDOWS);
      return f;
    }

    it("rejects malformed windows and offsets beyond ±14 h", async () => {
      const { router, bankAddr } = await loadFixture(routerFixture);
      await expect(router.setSession(bankAddr, 0, [win(0, "10:00", "09:00")]))
        .to.be.revertedWithCustomError(router, "OracleInvalidSession")
        .withArgs(bankAddr, 0);
      await expect(router.setSession(bankAddr, 0, [win(0, "10:00", "12:00"), win(0, "11:00", "13:00")]))
        .to.be.revertedWithCustomError(router, "OracleInvalidSession")
        .withArgs(bankAddr, 1);
      await expect(router.setSession(bankAddr, 0, [(10079 << 16) | 10081]))
        .to.be.revertedWithCustomError(router, "OracleInvalidSession")
        .withArgs(bankAddr, 0);
      await expect(router.setSession(bankAddr, 15 * HOUR, []))
        .to.be.revertedWithCustomError(router, "OracleInvalidUtcOffset")
        .withArgs(15 * HOUR);
    });

    it("is restricted to the risk officer and emits SessionSet and HolidaySet", async () => {
      const { router, fx, bankAddr } = await loadFixture(routerFixture);
      await expect(router.connect(fx.actors.users[0]).setSession(bankAddr, 0, [])).to.be.revertedWithCustomError(
        router,
        "AccessManagedUnauthorized",
      );
      await expect(router.setSession(bankAddr, SHANGHAI, SHANGHAI_WINDOWS))
        .to.emit(router, "SessionSet")
        .withArgs(bankAddr, SHANGHAI, SHANGHAI_WINDOWS);
      await expect(router.setHoliday(bankAddr, 21000, true))
        .to.emit(router, "HolidaySet")
        .withArgs(bankAddr, 21000, true);
      expect(await router.isHoliday(bankAddr, 21000)).to.equal(true);
      expect(await router.session(bankAddr)).to.deep.equal([BigInt(SHANGHAI), SHANGHAI_WINDOWS.map(BigInt)]);
    });

    it("knows when a Shanghai session is open and when it opened", async () => {
      const { router, bankAddr } = await loadFixture(shanghaiFixture);
      const at = (d: number, h: number, m: number): number => MONDAY_SHANGHAI + d * DAY + h * HOUR + m * 60;
      expect(await router.sessionAt(bankAddr, at(0, 9, 29))).to.deep.equal([false, 0n]);
      expect(await router.sessionAt(bankAddr, at(0, 9, 30))).to.deep.equal([true, BigInt(at(0, 9, 30))]);
      expect(await router.sessionAt(bankAddr, at(2, 11, 0) + 17)).to.deep.equal([true, BigInt(at(2, 9, 30))]);
      expect(await router.sessionAt(bankAddr, at(2, 12, 0))).to.deep.equal([false, 0n]);
      expect(await router.sessionAt(bankAddr, at(4, 14, 59))).to.deep.equal([true, BigInt(at(4, 13, 0))]);
      expect(await router.sessionAt(bankAddr, at(5, 10, 0))).to.deep.equal([false, 0n]); // Saturday
    });

    it("marks the weekend Closed, and does not call Friday's close stale when Monday opens", async () => {
      const { router, feeds, bankAddr } = await loadFixture(shanghaiFixture);
      const at = (d: number, h: number, m: number): number => MONDAY_SHANGHAI + d * DAY + h * HOUR + m * 60;
      await time.increaseTo(at(4, 14, 59));
      await feeds.mbBANK.setAnswer(feedPrice("10")); // Friday close
      await router.poke(bankAddr);
      await time.increaseTo(at(5, 10, 0));
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Closed);
      await expect(router.poke(bankAddr)).to.emit(router, "PriceBecameUnsafe").withArgs(bankAddr, Status.Closed);
      await time.increaseTo(at(7, 9, 40)); // Monday, 10 minutes into the session: 66 h after the last round
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Safe);
      await time.increaseTo(at(7, 10, 31)); // an hour into the session without a round
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Stale);
    });

    it("keeps a holiday Closed and opens the next day", async () => {
      const { router, bankAddr } = await loadFixture(shanghaiFixture);
      const localDay = (MONDAY_SHANGHAI + SHANGHAI) / DAY + 2; // Wednesday
      await router.setHoliday(bankAddr, localDay, true);
      const wednesday10 = MONDAY_SHANGHAI + 2 * DAY + 10 * HOUR;
      expect(await router.sessionAt(bankAddr, wednesday10)).to.deep.equal([false, 0n]);
      expect((await router.sessionAt(bankAddr, wednesday10 + DAY))[0]).to.equal(true);
      await time.increaseTo(wednesday10);
      expect((await router.getPrice(bankAddr))[1]).to.equal(Status.Closed);
    });

    it("starts the safe period at the session's opening after a night no poke saw", async () => {
      const { router, feeds, bankAddr } = await loadFixture(shanghaiFixture);
      const at = (d: number, h: number, m: number): number => MONDAY_SHANGHAI + d * DAY + h * HOUR + m * 60;
      await time.increaseTo(at(0, 14, 50));
      await feeds.mbBANK.setAnswer(feedPrice("10"));
      await router.poke(bankAddr);
      await time.increaseTo(at(1, 9, 31));
      await feeds.mbBANK.setAnswer(feedPrice("10.1"));
      // Safe again since Tuesday's opening, not since Monday: the night was Closed even though nobody poked.
      await expect(router.poke(bankAddr))
        .to.emit(router, "PriceBecameSafe")
        .withArgs(bankAddr, at(1, 9, 30));
      expect(await router.safeSince(bankAddr)).to.equal(at(1, 9, 30));
    });
  });

  describe("quotes (the margin engine's batched read)", () => {
    /** quotes() must equal the three single-asset functions, field by field, in the same block. */
    async function expectQuotesMatch(router: Awaited<ReturnType<typeof routerFixture>>["router"], assets: string[]) {
      const quotes = await router.quotes(assets);
      expect(quotes.length).to.equal(assets.length);
      for (const [i, asset] of assets.entries()) {
        const [price, status, updatedAt] = await router.getPrice(asset);
        expect([quotes[i].price, quotes[i].status, quotes[i].updatedAt]).to.deep.equal([price, status, updatedAt]);
        expect(quotes[i].safeSince).to.equal(await router.safeSince(asset));
        expect(quotes[i].volatility).to.equal(await router.volatility(asset));
      }
      return quotes;
    }

    it("returns each asset's getPrice, safeSince and volatility from one call: Safe, Deviating, CircuitBroken, Unset", async () => {
      const { router, feeds, fx, bank, tech, small, newFeed, bankAddr } = await loadFixture(routerFixture);
      const [techAddr, smallAddr] = [await tech.getAddress(), await small.getAddress()];
      for (const answer of ["10.2", "9.9", "10.1"]) {
        await feeds.mbBANK.setAnswer(feedPrice(answer));
        await router.poke(bankAddr);
      }
      await time.increase(600);
      const secondary = await newFeed(8);
      await secondary.setAnswer(feedPrice("60"));
      await router.configureAsset(
        techAddr,
        oracleParams(await feeds.mbTECH.getAddress(), { secondary: await secondary.getAddress() }),
      );
      await feeds.mbSMALL.setAnswer(feedPrice("8")); // +100% not yet absorbed: CircuitBroken before any poke
      const unset = await fx.cash.getAddress();
      const quotes = await expectQuotesMatch(router, [bankAddr, techAddr, smallAddr, unset]);
      expect(quotes.map((q) => Number(q.status))).to.deep.equal([
        Status.Safe,
        Status.Deviating,
        Status.CircuitBroken,
        Status.Unset,
      ]);
      expect(quotes[0].volatility).to.be.greaterThan(0n);
      expect(quotes[0].safeSince).to.be.greaterThan(0n);
      expect(await router.quotes([])).to.deep.equal([]);
      void bank;
    });

    it("matches the single reads inside and outside a session, on a holiday and after the holiday is lifted", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      await router.setSession(bankAddr, SHANGHAI, SHANGHAI_WINDOWS);
      const at = (d: number, h: number, m: number): number => MONDAY_SHANGHAI + d * DAY + h * HOUR + m * 60;
      await time.increaseTo(at(0, 10, 0));
      await feeds.mbBANK.setAnswer(feedPrice("10"));
      await router.poke(bankAddr);
      expect((await expectQuotesMatch(router, [bankAddr]))[0].status).to.equal(Status.Safe);
      await time.increaseTo(at(0, 12, 0));
      expect((await expectQuotesMatch(router, [bankAddr]))[0].status).to.equal(Status.Closed);

      // Back to 24/7, then one closed day: the router must read the calendar again, and skip it once reopened.
      await router.setSession(bankAddr, SHANGHAI, []);
      await feeds.mbBANK.setAnswer(feedPrice("10"));
      await router.poke(bankAddr);
      expect((await expectQuotesMatch(router, [bankAddr]))[0].status).to.equal(Status.Safe);
      const now = await time.latest();
      const today = Math.floor((now + 1 + SHANGHAI) / DAY);
      await router.setHoliday(bankAddr, today, true);
      await router.setHoliday(bankAddr, today, true); // marking it twice counts it once
      expect((await expectQuotesMatch(router, [bankAddr]))[0].status).to.equal(Status.Closed);
      await router.setHoliday(bankAddr, today, false);
      const [, status] = await router.getPrice(bankAddr);
      expect(status).to.equal(Status.Safe);
      expect(await router.sessionAt(bankAddr, now + 2)).to.deep.equal([true, 0n]);
      await expectQuotesMatch(router, [bankAddr]);
    });
  });

  describe("volatility (time-weighted EWMA of log returns, per day)", () => {
    it("matches a float64 reference within 1e-12 relative over 40 rounds at uneven times, absorbed one or several per poke", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      const halfLife = 86_400;
      let seed = 7;
      const rand = (): number => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      const prices = [10];
      for (let i = 0; i < 40; i++) prices.push(prices[i] * Math.exp((rand() - 0.5) * 0.1));
      let lastAt = Number((await feeds.mbBANK.latestRoundData())[3]);
      let sum = 0;
      let weight = 0;
      for (let i = 1; i < prices.length; i++) {
        await time.increase(Math.floor(rand() * 1_800)); // 0 to 30 minutes between rounds
        const answer = BigInt(Math.round(prices[i] * 1e8));
        await feeds.mbBANK.setAnswer(answer);
        const at = Number((await feeds.mbBANK.latestRoundData())[3]);
        const exact = Number(answer) / 1e8;
        const r = Math.log(exact / prices[i - 1]);
        prices[i] = exact;
        const dt = Math.max(1, at - lastAt);
        const w = Math.pow(2, -dt / halfLife);
        sum = w * sum + (1 - w) * ((r * r * 86_400) / dt);
        weight = w * weight + (1 - w);
        lastAt = at;
        if (i % 3 === 0 || i === prices.length - 1) await router.poke(bankAddr);
      }
      const onChain = Number(await router.volatility(bankAddr)) / 1e18;
      const reference = Math.sqrt(sum / weight);
      expect(Math.abs(onChain - reference) / reference).to.be.lessThan(1e-12);
      expect((await router.assetState(bankAddr)).returnCount).to.equal(40n);
    });

    it("emits each round's log return within 1e-16 of Math.log", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      await feeds.mbBANK.setAnswer(feedPrice("11.5"));
      const receipt = await (await router.poke(bankAddr)).wait();
      const ev = receipt!.logs.map((l) => router.interface.parseLog(l)).find((e) => e?.name === "RoundProcessed");
      const r = Number(ev!.args.logReturn) / 1e18;
      expect(Math.abs(r - Math.log(1.15))).to.be.lessThan(1e-15);
      await expect(router.poke(bankAddr)).not.to.emit(router, "RoundProcessed");
    });

    it("absorbs at most MAX_ROUNDS_PER_POKE rounds per poke and skips to the latest across a round-id gap", async () => {
      const { router, feeds, bankAddr } = await loadFixture(routerFixture);
      for (let i = 0; i < 20; i++) await feeds.mbBANK.setAnswer(feedPrice(i % 2 ? "10" : "10.1"));
      await router.poke(bankAddr);
      expect((await router.assetState(bankAddr)).lastRoundId).to.equal(17n);
      await router.poke(bankAddr);
      expect((await router.assetState(bankAddr)).lastRoundId).to.equal(21n);
      const now = await time.latest();
      await feeds.mbBANK.setRound((1n << 64n) + 1n, feedPrice("10.2"), now); // a new Chainlink phase
      await expect(router.poke(bankAddr))
        .to.emit(router, "RoundProcessed")
        .withArgs(bankAddr, (1n << 64n) + 1n, routerPrice("10.2"), anyValue, anyValue);
    });
  });
});
