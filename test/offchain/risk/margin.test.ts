import { expect } from "chai";
import {
  RiskError,
  accountLiquidation,
  liquidationReturn,
  valueAccount,
  type Account,
  type AssetRisk,
} from "../../../offchain/risk";
import { BANK, cny, market, pct, price, smallBook } from "./book";

/** One asset with maintenance margin m = 25% (DESIGN.md's example). */
const X: AssetRisk = { ...BANK, asset: "X", symbol: "X", initialMargin: pct(40), maintenanceMargin: pct(25) };

/** Own funds 100,000 at leverage L on X at price 100: L·1,000 units, debt (L − 1)·100,000. */
function leveraged(leverage: bigint, haircut = 0n): { account: Account; asset: AssetRisk } {
  const asset = { ...X, haircut };
  return {
    asset,
    account: {
      id: `L${leverage}`,
      cash: 0n,
      debt: cny(100_000n * (leverage - 1n)),
      annualRate: pct(8),
      positions: [{ asset: "X", quantity: 1_000n * leverage }],
    },
  };
}

describe("risk: margin valuation and liquidation thresholds", () => {
  describe("DESIGN.md's single-asset formula r < (m·L − 1) / (L·(1 − m))", () => {
    it("gives −33.33% for L = 2, m = 25% and −11.11% for L = 3, m = 25%", () => {
      expect(liquidationReturn(2n * 10n ** 18n, pct(25))).to.equal(-333_333_333_333_333_333n);
      expect(liquidationReturn(3n * 10n ** 18n, pct(25))).to.equal(-111_111_111_111_111_111n);
    });

    it("matches the account model's uniform shock for E = 100,000 at L = 2 and L = 3", () => {
      for (const [leverage, expected] of [
        [2n, -333_333_333_333_333_333n],
        [3n, -111_111_111_111_111_111n],
      ] as const) {
        const { account, asset } = leveraged(leverage);
        const result = accountLiquidation(account, market({ X: 100 }, [asset]));
        expect(result.uniformShock).to.equal(expected);
        expect(result.positions[0].moveToLiquidation).to.equal(expected);
      }
    });

    it("values equity after a return r as E·(1 + L·r): L = 3, r = −10% leaves 70,000", () => {
      const { account, asset } = leveraged(3n);
      const v = valueAccount(account, market({ X: 90 }, [asset]));
      expect(v.collateralValue).to.equal(cny(270_000));
      expect(v.equity).to.equal(cny(70_000));
      expect(v.marginRatio).to.equal(259_259_259_259_259_259n); // 70,000 / 270,000, rounded down
      expect(v.maintenanceRequirement).to.equal(cny(67_500)); // 25% of 270,000
      expect(v.state).to.equal("Warning"); // above 25% maintenance, below the 40% initial margin
    });

    it("is liquidatable one price tick below the liquidation price and not at it (L = 2: price 66.67 from 100)", () => {
      const { account, asset } = leveraged(2n);
      const threshold = accountLiquidation(account, market({ X: 100 }, [asset])).positions[0].liquidationPrice;
      expect(threshold).to.equal(66_666_666_666_666_666_667n); // 100 · (1 − 1/3), rounded up
      expect(valueAccount(account, market({ X: 66.666667 }, [asset])).state).to.equal("Warning");
      expect(valueAccount(account, market({ X: 66.666666 }, [asset])).state).to.equal("Liquidatable");
    });

    it("counts a haircut against collateral: 10% haircut at L = 2 moves the threshold to −23.08%", () => {
      const { account, asset } = leveraged(2n, pct(10));
      // (1 − 0.1 − 0.25) · 200,000 · (1 + r) = 100,000
      expect(accountLiquidation(account, market({ X: 100 }, [asset])).uniformShock).to.equal(-230_769_230_769_230_769n);
    });

    it("rejects leverage ≤ 0 and maintenance ≥ 100%", () => {
      expect(() => liquidationReturn(0n, pct(25))).to.throw(RiskError, "leverage must be positive");
      expect(() => liquidationReturn(2n * 10n ** 18n, pct(100))).to.throw(RiskError);
    });
  });

  describe("several assets", () => {
    const book = smallBook();
    const b = book.accounts[1]; // 10,000 SMALL @ 20 (m 30%) + 10,000 BANK @ 10 (m 15%), debt 200,000

    it("values collateral, equity, requirements and the maintenance line per asset", () => {
      const v = valueAccount(b, book.market);
      expect(v.collateralValue).to.equal(cny(300_000));
      expect(v.equity).to.equal(cny(100_000));
      expect(v.maintenanceRequirement).to.equal(cny(75_000)); // 30% · 200,000 + 15% · 100,000
      expect(v.initialRequirement).to.equal(cny(100_000)); // 40% · 200,000 + 20% · 100,000
      expect(v.state).to.equal("Healthy");
    });

    it("gives each position's liquidation price with the other prices fixed, and the common shock", () => {
      const result = accountLiquidation(b, book.market);
      const [bank, small] = result.positions;
      // SMALL: (200,000 − 0.85 · 100,000) / 0.7 / 10,000 = 16.428571…; BANK: (200,000 − 0.7 · 200,000) / 0.85 / 10,000
      expect(small.liquidationPrice).to.equal(16_428_571_428_571_428_572n);
      expect(bank.liquidationPrice).to.equal(7_058_823_529_411_764_706n);
      // 225,000 · (1 + r) = 200,000
      expect(result.uniformShock).to.equal(-111_111_111_111_111_111n);
      expect(result.cushion).to.equal(cny(25_000));
      // Just below SMALL's price the account is liquidatable, just above it is not.
      expect(valueAccount(b, market({ mbBANK: 10, mbSMALL: 16.428571 })).state).to.equal("Liquidatable");
      expect(valueAccount(b, market({ mbBANK: 10, mbSMALL: 16.428572 })).state).to.equal("Warning");
    });

    it("has no liquidation price for a position when cash and the other assets cover the debt", () => {
      const covered: Account = { ...book.accounts[0], cash: cny(100_000) };
      const result = accountLiquidation(covered, book.market);
      expect(result.positions[0].liquidationPrice).to.equal(undefined);
      expect(result.uniformShock).to.equal(undefined);
    });

    it("classifies Liquidatable below maintenance and Defaulted once the debt exceeds all collateral", () => {
      expect(valueAccount(book.accounts[2], book.market).state).to.equal("Liquidatable");
      const underwater = valueAccount(book.accounts[2], market({ mbBANK: 10, mbSMALL: 17.99 }));
      expect(underwater.state).to.equal("Defaulted");
      expect(underwater.equity).to.equal(cny(89_950) - cny(90_000));
    });

    it("throws RISK_NO_PRICE for a position without a price and RISK_UNKNOWN_ASSET for an unknown asset", () => {
      const noPrice = { ...book.market, prices: new Map([["mbBANK", price(10)]]) };
      expect(() => valueAccount(b, noPrice))
        .to.throw(RiskError)
        .with.property("code", "RISK_NO_PRICE");
      const stray: Account = { ...b, positions: [{ asset: "mbNONE", quantity: 1n }] };
      expect(() => valueAccount(stray, book.market))
        .to.throw(RiskError)
        .with.property("code", "RISK_UNKNOWN_ASSET");
    });
  });
});
