import { expect } from "chai";
import fc from "fast-check";
import { WAD, liquidateAccount, runScenario, valueAccount, type Account, type Scenario } from "../../../offchain/risk";
import { BANK, SMALL, cny, market, pct, smallBook } from "./book";

/** Everything falls 20% on day 1; nothing moves on day 2. */
const CRASH: Scenario = {
  id: "crash-20",
  name: "−20% then flat",
  source: "hand-made",
  days: ["d1", "d2"],
  returns: [
    new Map([
      ["mbBANK", -pct(20)],
      ["mbSMALL", -pct(20)],
    ]),
    new Map(),
  ],
};

const AFTER_CRASH = market({ mbBANK: 8, mbSMALL: 16 });
/** 0.1 of the quote currency, i.e. 100,000 base units. */
const tenth = (n: number) => BigInt(n) * 100_000n;

describe("risk: stress simulator on a small hand-computed portfolio", () => {
  describe("liquidateAccount", () => {
    it("sells the least liquid asset first, only enough to restore the initial margin (account B)", () => {
      // After −20%: SMALL 160,000 + BANK 80,000 = 240,000, debt 200,000, E = 40,000 < M = 48,000 + 12,000.
      // Target I = 64,000 + 16,000 = 80,000; SMALL: ΔV = (80,000 − 40,000) / (0.40 − 0.10) = 133,333.33…
      // → 8,334 shares (8,333.33 rounded up) worth 133,344; proceeds 90% = 120,009.6; penalty 13,334.4 split 50/50.
      const result = liquidateAccount(smallBook().accounts[1], AFTER_CRASH, AFTER_CRASH.prices, pct(50))!;
      expect(result.seizures).to.deep.equal([{ asset: "mbSMALL", quantity: 8_334n, value: cny(133_344) }]);
      expect(result.seizedValue).to.equal(cny(133_344));
      expect(result.debtRepaid).to.equal(cny(120_009) + tenth(6));
      expect(result.insuranceIncome).to.equal(cny(6_667) + tenth(2));
      expect(result.liquidatorReward).to.equal(cny(6_667) + tenth(2));
      expect(result.badDebt).to.equal(0n);
      const after = valueAccount(result.account, AFTER_CRASH);
      expect(result.account.debt).to.equal(cny(79_990) + tenth(4));
      expect(after.collateralValue).to.equal(cny(106_656)); // 1,666 SMALL · 16 + 80,000
      expect(after.equity).to.equal(cny(26_665) + tenth(6));
      expect(after.initialRequirement).to.equal(cny(26_662) + tenth(4)); // restored: E ≥ I
      expect(after.state).to.equal("Healthy");
    });

    it("sells everything of a defaulted account and leaves the rest of the debt as bad debt (account C)", () => {
      // 5,000 SMALL · 16 = 80,000 < debt 90,000: proceeds 72,000, penalty 8,000, 18,000 unpaid.
      const result = liquidateAccount(smallBook().accounts[2], AFTER_CRASH, AFTER_CRASH.prices, pct(50))!;
      expect(result.seizedValue).to.equal(cny(80_000));
      expect(result.debtRepaid).to.equal(cny(72_000));
      expect(result.insuranceIncome).to.equal(cny(4_000));
      expect(result.badDebt).to.equal(cny(18_000));
      expect(result.account.debt).to.equal(0n);
      expect(result.account.positions).to.deep.equal([{ asset: "mbSMALL", quantity: 0n }]);
    });

    it("leaves an account above maintenance alone (account A)", () => {
      expect(liquidateAccount(smallBook().accounts[0], AFTER_CRASH, AFTER_CRASH.prices, pct(50))).to.equal(undefined);
    });

    it("uses the account's cash for the debt once every position is sold", () => {
      const c: Account = { ...smallBook().accounts[2], cash: cny(5_000) };
      const result = liquidateAccount(c, AFTER_CRASH, AFTER_CRASH.prices, pct(50))!;
      expect(result.debtRepaid).to.equal(cny(77_000));
      expect(result.badDebt).to.equal(cny(13_000));
      expect(result.account.cash).to.equal(0n);
    });
  });

  describe("runScenario", () => {
    it("reports liquidations, volume, bad debt, insurance use, capital pool loss and reserve ratio (empty fund)", () => {
      const result = runScenario(smallBook(0n), CRASH);
      expect(result.accountsLiquidated).to.equal(2);
      expect(result.accounts.map((a) => [a.accountId, a.firstLiquidated, a.badDebt])).to.deep.equal([
        ["B", "d1", 0n],
        ["C", "d1", cny(18_000)],
      ]);
      expect(result.liquidationVolume).to.equal(cny(213_344)); // 133,344 + 80,000
      expect(result.badDebt).to.equal(cny(18_000));
      // The fund received 6,667.2 (B) + 4,000 (C) of penalties before C's bad debt reached it.
      expect(result.insuranceFundIncome).to.equal(cny(10_667) + tenth(2));
      expect(result.insuranceFundUsed).to.equal(cny(10_667) + tenth(2));
      expect(result.insuranceFundAfter).to.equal(0n);
      expect(result.capitalPoolLoss).to.equal(cny(7_332) + tenth(8));
      expect(result.liquidatorRewards).to.equal(cny(10_667) + tenth(2));
      // Claims = pool cash 100,000 + debt 390,000; after = (490,000 − 7,332.8) / 490,000.
      expect(result.reserveRatioBefore).to.equal(WAD);
      expect(result.reserveRatioAfter).to.equal(985_035_102_040_816_326n);
      expect(result.worstDay).to.equal(-pct(20));
      expect(result.daily[0]).to.deep.include({
        day: "d1",
        collateralValue: cny(480_000),
        debt: cny(390_000),
        equity: cny(90_000),
        marginRatio: pct(18.75),
        accountsLiquidated: 2,
        liquidationVolume: cny(213_344),
      });
      expect(result.daily[1]).to.deep.include({ accountsLiquidated: 0, liquidationVolume: 0n });
      expect(result.daily[1].collateralValue).to.equal(cny(160_000 + 106_656));
    });

    it("lets a funded insurance fund absorb the bad debt before the capital pool", () => {
      const result = runScenario(smallBook(cny(10_000)), CRASH);
      expect(result.insuranceFundUsed).to.equal(cny(18_000));
      expect(result.insuranceFundAfter).to.equal(cny(2_667) + tenth(2)); // 10,000 + 10,667.2 − 18,000
      expect(result.capitalPoolLoss).to.equal(0n);
      expect(result.reserveRatioAfter).to.equal(WAD);
    });

    it("with a 25% daily limit on tier 3, sells in slices and reports the shortfall not yet recognised", () => {
      // C alone. Day 1 at 16: sell ⌈5,000 · 25%⌉ = 1,250 (20,000 → 18,000 repaid), debt 72,000, 3,750 left.
      // Day 2 flat: sell ⌈3,750 · 25%⌉ = 938 (15,008 → 13,507.2 repaid), debt 58,492.8, 2,812 left = 44,992.
      const book = { ...smallBook(), accounts: [smallBook().accounts[2]] };
      const result = runScenario(book, CRASH, { dailyLiquidationLimit: { 3: pct(25) } });
      expect(result.daily.map((d) => d.liquidationVolume)).to.deep.equal([cny(20_000), cny(15_008)]);
      expect(result.accounts).to.deep.equal([
        { accountId: "C", firstLiquidated: "d1", liquidations: 2, seizedValue: cny(35_008), badDebt: 0n },
      ]);
      expect(result.badDebt).to.equal(0n);
      expect(result.shortfallOutstanding).to.equal(cny(13_500) + tenth(8));
      expect(result.insuranceFundIncome).to.equal(cny(1_750) + tenth(4)); // half of 2,000 + 1,500.8
      // Without the limit the same account is closed out on day 1 with 18,000 of bad debt and no shortfall left.
      const unlimited = runScenario(book, CRASH);
      expect([unlimited.badDebt, unlimited.shortfallOutstanding]).to.deep.equal([cny(18_000), 0n]);
    });

    it("liquidates nobody when prices rise", () => {
      const up: Scenario = { ...CRASH, returns: [new Map([["mbSMALL", pct(50)]])], days: ["d1"] };
      const result = runScenario({ ...smallBook(), accounts: smallBook().accounts.slice(0, 2) }, up);
      expect(result.accountsLiquidated).to.equal(0);
      expect(result.liquidationVolume).to.equal(0n);
      expect(result.worstDay).to.equal(0n);
    });
  });

  describe("invariants over random accounts and shocks (fast-check)", () => {
    const arbitraryCase = fc.record({
      bank: fc.bigInt({ min: 0n, max: 50_000n }),
      small: fc.bigInt({ min: 0n, max: 50_000n }),
      cash: fc.bigInt({ min: 0n, max: cny(50_000) }),
      debt: fc.bigInt({ min: 0n, max: cny(800_000) }),
      bankPrice: fc.integer({ min: 1, max: 2_000 }),
      smallPrice: fc.integer({ min: 1, max: 4_000 }),
    });

    it("conserves value, repays no more than the debt, and ends above target or with nothing left", () => {
      fc.assert(
        fc.property(arbitraryCase, (c) => {
          const m = market({ mbBANK: c.bankPrice / 100, mbSMALL: c.smallPrice / 100 }, [BANK, SMALL]);
          const account: Account = {
            id: "P",
            cash: c.cash,
            debt: c.debt,
            annualRate: 0n,
            positions: [
              { asset: "mbBANK", quantity: c.bank },
              { asset: "mbSMALL", quantity: c.small },
            ],
          };
          const before = valueAccount(account, m);
          const result = liquidateAccount(account, m, m.prices, pct(50));
          if (before.equity >= before.maintenanceRequirement) return result === undefined;
          const after = valueAccount(result!.account, m);
          const penalties = result!.insuranceIncome + result!.liquidatorReward;
          // Value leaving the account = seized value; it went to the debt, the penalty and back to cash.
          const ok =
            before.collateralValue - after.collateralValue + (result!.account.cash - account.cash) ===
              result!.seizedValue &&
            result!.debtRepaid + result!.badDebt === account.debt - result!.account.debt &&
            result!.seizedValue === result!.debtRepaid + penalties + (result!.account.cash - account.cash) &&
            result!.account.debt >= 0n &&
            (after.equity >= after.initialRequirement || result!.account.positions.every((p) => p.quantity === 0n));
          return ok;
        }),
        { numRuns: 300, seed: 42 },
      );
    });

    it("splits every scenario's bad debt exactly between the insurance fund and the capital pool", () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: -40, max: 10 }), fc.integer({ min: -40, max: 10 })), {
            minLength: 1,
            maxLength: 5,
          }),
          fc.bigInt({ min: 0n, max: cny(30_000) }),
          (moves, fund) => {
            const scenario: Scenario = {
              id: "random",
              name: "random",
              source: "fast-check",
              days: moves.map((_, i) => `d${i + 1}`),
              returns: moves.map(
                ([b, s]) =>
                  new Map([
                    ["mbBANK", pct(b)],
                    ["mbSMALL", pct(s)],
                  ]),
              ),
            };
            const r = runScenario(smallBook(fund), scenario);
            return (
              r.insuranceFundUsed + r.capitalPoolLoss === r.badDebt &&
              r.insuranceFundAfter === fund + r.insuranceFundIncome - r.insuranceFundUsed &&
              r.daily.reduce((s, d) => s + d.liquidationVolume, 0n) === r.liquidationVolume
            );
          },
        ),
        { numRuns: 100, seed: 7 },
      );
    });
  });
});
