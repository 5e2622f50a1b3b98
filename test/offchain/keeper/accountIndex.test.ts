import { expect } from "chai";
import fc from "fast-check";
import { AccountIndex, State } from "../../../offchain/keeper";

const WAD = 10n ** 18n;
const ASSETS = ["0x01", "0x02", "0x03"];

interface Position {
  units: bigint;
  price: bigint;
  haircut: bigint;
  mm: bigint;
}

/** The engine's formulas (docs/margin.md) for whole-token prices and a 5 % warning buffer. */
function lines(
  cashMinusDebt: bigint,
  ps: Position[],
): { equity: bigint; value: bigint; warning: bigint; maintenance: bigint } {
  let equity = cashMinusDebt;
  let value = 0n;
  let maintenance = 0n;
  for (const p of ps) {
    const v = p.units * p.price;
    value += v;
    equity += (v * (WAD - p.haircut)) / WAD;
    maintenance += (v * p.mm) / WAD;
  }
  return { equity, value, maintenance, warning: maintenance + (value * 5n) / 100n };
}

describe("keeper AccountIndex", function () {
  it("re-checks on a round exactly the accounts whose trigger is at or above the new price, and forgets replaced entries", function () {
    const idx = new AccountIndex();
    const snap = (account: string, equity: bigint) => ({
      account,
      state: State.Healthy,
      equity,
      positionValue: 100n * WAD,
      maintenanceReq: 15n * WAD,
      warningLine: 20n * WAD,
      hardLine: 7n * WAD,
      callDeadline: 0,
      pricesSafe: true,
      held: new Map([[ASSETS[0], { price: 10n * WAD, haircut: 0n }]]),
    });
    idx.update(snap("0xaa", 30n * WAD)); // slack 10 → trigger 10 · (1 − 0.9 · 10/100) = 9.1
    idx.update(snap("0xbb", 60n * WAD)); // slack 40 → trigger 6.4
    expect(idx.affectedBy(ASSETS[0], 95n * 10n ** 17n)).to.deep.equal([]);
    expect(idx.affectedBy(ASSETS[0], 91n * 10n ** 17n)).to.deep.equal(["0xaa"]);
    expect(idx.affectedBy(ASSETS[0], 6n * WAD).sort()).to.deep.equal(["0xaa", "0xbb"]);
    idx.update(snap("0xaa", 90n * WAD)); // now further away than 0xbb
    expect(idx.affectedBy(ASSETS[0], 7n * WAD)).to.deep.equal([]);
    expect(idx.affectedBy(ASSETS[0], 6n * WAD)).to.deep.equal(["0xbb"]);
    expect(idx.size).to.equal(2);
  });

  it("never skips an account that a set of price falls pushes below its next line (seeded property)", function () {
    const position = fc.record({
      units: fc.bigInt({ min: 1n, max: 10_000n }),
      price: fc.bigInt({ min: WAD, max: 100n * WAD }),
      haircut: fc.constantFrom(0n, WAD / 20n, WAD / 10n),
      mm: fc.constantFrom(WAD / 10n, (15n * WAD) / 100n, WAD / 4n),
    });
    fc.assert(
      fc.property(
        fc.array(position, { minLength: 1, maxLength: 3 }),
        fc.bigInt({ min: 0n, max: 100n }),
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 3, maxLength: 3 }),
        (ps, debtPct, fallsPermille) => {
          const before = lines(0n, ps);
          const cashMinusDebt = -((before.value * debtPct) / 100n);
          const b = lines(cashMinusDebt, ps);
          if (b.equity < b.warning) return; // only Healthy accounts have a warning trigger
          const idx = new AccountIndex();
          idx.update({
            account: "0xaa",
            state: State.Healthy,
            equity: b.equity,
            positionValue: b.value,
            maintenanceReq: b.maintenance,
            warningLine: b.warning,
            hardLine: b.maintenance / 2n,
            callDeadline: 0,
            pricesSafe: true,
            held: new Map(ps.map((p, i) => [ASSETS[i], { price: p.price, haircut: p.haircut }])),
          });
          const moved = ps.map((p, i) => ({ ...p, price: (p.price * BigInt(1000 - fallsPermille[i])) / 1000n }));
          const flagged = moved.some((p, i) => idx.affectedBy(ASSETS[i], p.price).includes("0xaa"));
          const after = lines(cashMinusDebt, moved);
          if (after.equity < after.warning) expect(flagged, "crossed the warning line unflagged").to.equal(true);
        },
      ),
      { seed: 20261123, numRuns: 500 },
    );
  });

  it("predicts a one-security account's figures at a new price with the engine's formulas, and declines multi-asset accounts", function () {
    const idx = new AccountIndex();
    const pos: Position = { units: 200n, price: 50n * WAD, haircut: WAD / 10n, mm: WAD / 4n };
    const at = (price: bigint) => lines(-5_000n * WAD, [{ ...pos, price }]);
    const now = at(pos.price);
    idx.update({
      account: "0xa1",
      state: State.Healthy,
      equity: now.equity,
      positionValue: now.value,
      maintenanceReq: now.maintenance,
      warningLine: now.warning,
      hardLine: now.maintenance / 2n,
      callDeadline: 0,
      pricesSafe: true,
      held: new Map([[ASSETS[0], { price: pos.price, haircut: pos.haircut }]]),
    });
    for (const price of [45n * WAD, 33n * WAD, 30n * WAD, 20n * WAD]) {
      const want = at(price);
      const p = idx.predict("0xa1", ASSETS[0], price)!;
      expect(p.equity).to.equal(want.equity);
      expect(p.maintenanceReq).to.equal(want.maintenance);
      expect(p.state, `at ${price / WAD}`).to.equal(
        want.equity < want.maintenance / 2n ? State.Liquidatable : State.Healthy,
      );
    }
    expect(idx.predict("0xa1", ASSETS[0], 30n * WAD)!.state).to.equal(State.Liquidatable);
    expect(idx.predict("0xa1", ASSETS[1], 30n * WAD), "an asset it does not hold").to.equal(undefined);
    idx.update({
      account: "0xa2",
      state: State.Healthy,
      equity: 50n * WAD,
      positionValue: 100n * WAD,
      maintenanceReq: 15n * WAD,
      warningLine: 20n * WAD,
      hardLine: 7n * WAD,
      callDeadline: 0,
      pricesSafe: true,
      held: new Map([
        [ASSETS[0], { price: 10n * WAD, haircut: 0n }],
        [ASSETS[1], { price: 10n * WAD, haircut: 0n }],
      ]),
    });
    expect(idx.predict("0xa2", ASSETS[0], 5n * WAD)).to.equal(undefined);
  });
});
