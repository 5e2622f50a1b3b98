import { expect } from "chai";
import { tradeFee, worstCaseCosts } from "../../../../offchain/settlement/legal";
import { CNY, seedTerms } from "./seed";

const A = "0x00000000000000000000000000000000000000A1";
const P = "0x00000000000000000000000000000000000000F1";

/**
 * The one fee engine (offchain/settlement/legal/fees.ts; the risk library's quoteFees, used only by its own tests,
 * was removed in its favour): what the agreement discloses and the statements charge.
 */
describe("legal: fee schedule", () => {
  const terms = seedTerms(A, P); // commission 0.03% (min 5) per trade, management 2% a year on own funds
  const commission = terms.fees[0] as Extract<(typeof terms.fees)[number], { kind: "per-trade" }>;

  it("charges the commission on the notional rounded up, never below the minimum per trade", () => {
    expect(tradeFee(commission, 10_000n * CNY)).to.equal(5n * CNY); // 3.00 → the 5.00 minimum
    expect(tradeFee(commission, 200_000n * CNY)).to.equal(60n * CNY);
    expect(tradeFee(commission, 200_000n * CNY + 1n)).to.equal(60n * CNY + 1n); // rounded up
  });

  it("itemises 30 days' worst case: interest on the full financed amount, daily fees, commissions, the full liquidation penalty", () => {
    const w = worstCaseCosts(terms, { from: "2027-01-01", to: "2027-01-30" });
    expect(w.lines.map((l) => l.code)).to.deep.equal(["INTEREST", "COMMISSION", "MGMT", "LIQ_PENALTY"]);
    const by = Object.fromEntries(w.lines.map((l) => [l.code, l.amount]));
    expect(by.INTEREST).to.equal(657_534_247n); // 100,000 × 8% × 30 / 365 = 657.534246… rounded up
    expect(by.COMMISSION).to.equal(120n * CNY); // turnover 2 × 200,000 × 0.03%
    expect(by.MGMT).to.equal(164_383_562n); // 100,000 × 2% × 30 / 365 = 164.383561… rounded up
    expect(by.LIQ_PENALTY).to.equal(10_000n * CNY); // 5% of the whole 200,000 position
    expect(w.total).to.equal(657_534_247n + 120n * CNY + 164_383_562n + 10_000n * CNY);
    expect(w.assumptions).to.deep.include({ days: 30, principal: 100_000n * CNY, liquidatedInFull: true });
  });

  it("estimates only the one-off charges for an empty period", () => {
    const w = worstCaseCosts(terms, { from: "2027-02-01", to: "2027-01-31" }, { liquidatedInFull: false });
    expect(w.assumptions.days).to.equal(0);
    expect(w.lines.find((l) => l.code === "INTEREST")!.amount).to.equal(0n);
    expect(w.lines.find((l) => l.code === "COMMISSION")!.amount).to.equal(120n * CNY);
  });
});
