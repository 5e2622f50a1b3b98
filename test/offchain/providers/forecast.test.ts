import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  forecastCash,
  openOnDay,
  providersChainAt,
  readForecast,
  type AssetCalendar,
} from "../../../offchain/providers";
import { CNY, marginFixture } from "../../helpers/marginFixture";

const SHANGHAI = 8 * 3600;
/** 09:30–11:30 and 13:00–15:00, Monday to Friday, in local minutes of the week. */
const WINDOWS = [0, 1, 2, 3, 4].flatMap((d) => [
  ((d * 1440 + 570) << 16) | (d * 1440 + 690),
  ((d * 1440 + 780) << 16) | (d * 1440 + 900),
]);
/** Unix seconds of a Shanghai local time. */
const local = (y: number, m: number, d: number, h = 10): number => Date.UTC(y, m - 1, d, h) / 1000 - SHANGHAI;
const dayOf = (t: number): number => Math.floor((t + SHANGHAI) / 86_400);

describe("capital providers: the 30-day cash-flow forecast (hand-computed)", function () {
  // A Tuesday holiday (8 December 2026) on the exchange's calendar.
  const calendar: AssetCalendar = {
    utcOffsetSeconds: SHANGHAI,
    windows: WINDOWS,
    holidays: new Set([dayOf(local(2026, 12, 8))]),
  };

  it("knows the exchange's days: weekdays open, weekend and holidays closed", function () {
    expect(openOnDay(calendar, dayOf(local(2026, 12, 4)))).to.equal(true); // Friday
    expect(openOnDay(calendar, dayOf(local(2026, 12, 5)))).to.equal(false); // Saturday
    expect(openOnDay(calendar, dayOf(local(2026, 12, 6)))).to.equal(false); // Sunday
    expect(openOnDay(calendar, dayOf(local(2026, 12, 7)))).to.equal(true); // Monday
    expect(openOnDay(calendar, dayOf(local(2026, 12, 8)))).to.equal(false); // the holiday
    expect(openOnDay({ ...calendar, windows: [] }, dayOf(local(2026, 12, 5)))).to.equal(true); // 24/7
  });

  it("moves repayments past closed days, takes redemptions when due, and cuts the stressed repayments", function () {
    const f = forecastCash({
      startTime: local(2026, 12, 4),
      days: 7,
      utcOffsetSeconds: SHANGHAI,
      cash: 1_000n,
      redemptions: [
        { dueAt: local(2026, 12, 1), assets: 300n }, // already due: day 0
        { dueAt: local(2026, 12, 6, 9), assets: 200n }, // Sunday: redemptions need no market
        { dueAt: local(2026, 12, 30), assets: 5_000n }, // beyond the horizon
      ],
      repayments: [
        { account: "0xa", at: local(2026, 12, 5), amount: 500n }, // Saturday → Monday
        { account: "0xb", at: local(2026, 12, 8), amount: 1_000n }, // the holiday → Wednesday
        { account: "0xc", at: local(2026, 12, 20), amount: 9_000n }, // beyond the horizon
      ],
      stressLossWad: 10n ** 17n, // 10%
      calendars: [calendar],
    });
    expect(f.days.map((d) => d.date)).to.deep.equal([
      "2026-12-04",
      "2026-12-05",
      "2026-12-06",
      "2026-12-07",
      "2026-12-08",
      "2026-12-09",
      "2026-12-10",
    ]);
    expect(f.days.map((d) => d.cash)).to.deep.equal([700n, 700n, 500n, 1_000n, 1_000n, 2_000n, 2_000n]);
    expect(f.days.map((d) => d.stressedCash)).to.deep.equal([700n, 700n, 500n, 950n, 950n, 1_850n, 1_850n]);
    expect(f.days.map((d) => d.closed)).to.deep.equal([false, true, true, false, true, false, false]);
    expect(f.closedDays).to.deep.equal(["2026-12-05", "2026-12-06", "2026-12-08"]);
    expect([f.minCash, f.minStressedCash, f.firstStressedShortfall]).to.deep.equal([500n, 500n, null]);
  });

  it("names the first day the stressed cash runs short, and rounds the stressed repayments down", function () {
    const f = forecastCash({
      startTime: local(2026, 12, 7),
      days: 3,
      utcOffsetSeconds: SHANGHAI,
      cash: 100n,
      redemptions: [{ dueAt: local(2026, 12, 8, 9), assets: 150n }],
      repayments: [{ account: "0xa", at: local(2026, 12, 7), amount: 55n }],
      stressLossWad: 10n ** 17n,
      calendars: [calendar],
    });
    // Monday: +55 (stressed: 49.5 → 49); the holiday: −150.
    expect(f.days.map((d) => d.cash)).to.deep.equal([155n, 5n, 5n]);
    expect(f.days.map((d) => d.stressedCash)).to.deep.equal([149n, -1n, -1n]);
    expect(f.firstStressedShortfall).to.equal("2026-12-08");
  });
});

describe("capital providers: the forecast read from the real engine, pool and calendars", function () {
  it("expects each borrower's debt with interest to its agreement's end, and the waiting redemptions", async function () {
    const fx = await loadFixture(marginFixture);
    await fx.fundAccount(fx.clientA, fx.cash, 100_000n * CNY);
    await fx.engine.connect(fx.clientA).borrow(50_000n * CNY);
    const chain = providersChainAt(hre.ethers.provider, fx.record);
    const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    const f = await readForecast(chain, {
      agreements: async () => [
        { client: fx.clientA.address, expiresAt: now + 3 * 86_400 },
        { client: fx.clientA.address, expiresAt: now + 20 * 86_400 }, // a later one: the loan ends with the first
      ],
      stressLossWad: async () => 2n * 10n ** 17n,
    });
    const at = { blockTag: f.block };
    const debt = (await fx.engine.accountView(fx.clientA.address, at)).debt;
    const expected = debt + (debt * (await fx.pool.ratePerDay(at)) * 3n) / 10n ** 18n;
    const cash = await fx.pool.availableCash(at);
    const repaid = f.days.filter((d) => d.inflow > 0n);
    expect(repaid).to.have.length(1);
    expect(repaid[0].inflow).to.equal(expected);
    expect(repaid[0].stressedInflow).to.equal((expected * 8n) / 10n);
    expect(f.days[f.days.length - 1].cash).to.equal(cash + expected);
    expect(f.days).to.have.length(30);
    expect(f.chartSvg).to.contain("<svg");
  });
});
