import { expect } from "chai";
import fc from "fast-check";
import {
  accrueDaily,
  buildAgreement,
  computeFinalSettlement,
  eachDay,
  finalSettlementHash,
  renderFinalSettlementText,
  worstCaseCosts,
  ZERO_ACCRUAL,
} from "../../../../offchain/settlement/legal";
import { CNY, seedTerms, workedExampleTerms } from "./seed";

const A = "0x00000000000000000000000000000000000000A1";
const P = "0x00000000000000000000000000000000000000F1";
const YEAR = { from: "2027-01-01", to: "2027-12-31" };

describe("legal: interest by natural day", () => {
  it("charges 8% on 200,000 as 43.835617 for one day (≈ 43.84, rounded up in the lender's favour)", () => {
    const { days } = accrueDaily(ZERO_ACCRUAL, [{ date: "2027-01-01", balance: 200_000n * CNY }], 800);
    expect(days[0].amount).to.equal(43_835_617n);
  });

  it("charges exactly 16,000 over a 365-day year: cumulative rounding never drifts", () => {
    const year = eachDay(YEAR.from, YEAR.to).map((date) => ({ date, balance: 200_000n * CNY }));
    const { days, closing } = accrueDaily(ZERO_ACCRUAL, year, 800);
    expect(days).to.have.length(365);
    expect(closing.charged).to.equal(16_000n * CNY);
    // Each day is 43.835616 or 43.835617, and the running total never falls below the exact amount.
    for (const [i, d] of days.entries()) {
      expect([43_835_616n, 43_835_617n]).to.include(d.amount);
      expect(d.cumulative * 3_650_000n >= 200_000n * CNY * 800n * BigInt(i + 1)).to.equal(true);
    }
  });

  it("gives the same charges whether a year is accrued at once or statement by statement", () => {
    const all = eachDay(YEAR.from, YEAR.to).map((date, i) => ({ date, balance: BigInt(1 + (i % 7)) * 12_345_678n }));
    const once = accrueDaily(ZERO_ACCRUAL, all, 800);
    let state = ZERO_ACCRUAL;
    const pieces: bigint[] = [];
    for (let i = 0; i < all.length; i += 30) {
      const r = accrueDaily(state, all.slice(i, i + 30), 800);
      pieces.push(...r.days.map((d) => d.amount));
      state = r.closing;
    }
    expect(pieces).to.deep.equal(once.days.map((d) => d.amount));
    expect(state).to.deep.equal(once.closing);
  });
});

describe("legal: final settlement (interest first, then the agreed split)", () => {
  describe("DESIGN worked example: E = 100,000, L = 3, 8%, 2,000 of costs", () => {
    const terms = workedExampleTerms(A, P);
    const base = { terms, settledOn: "2028-01-01", principal: 200_000n * CNY, insuranceFundAvailable: 0n };
    const year = eachDay(YEAR.from, YEAR.to);
    const interestDue = accrueDaily(
      ZERO_ACCRUAL,
      year.map((date) => ({ date, balance: terms.financedAmount })),
      800,
    ).closing.charged;
    const mgmt = accrueDaily(
      ZERO_ACCRUAL,
      year.map((date) => ({ date, balance: terms.ownFunds })),
      200,
    ).closing.charged;

    it("costs 16,000 of interest and 2,000 of fees a year", () => {
      expect(interestDue).to.equal(16_000n * CNY);
      expect(mgmt).to.equal(2_000n * CNY);
    });

    it("a 10% year: 30,000 gross, 16,000 interest repaid first, 2,000 fees, 12,000 net to the client", () => {
      const s = computeFinalSettlement({
        ...base,
        closingCash: 330_000n * CNY,
        interestDue,
        feesDue: [{ code: "MGMT", label: "Account management", amount: mgmt }],
      });
      expect(s.grossResult).to.equal(30_000n * CNY);
      expect(s.netResult).to.equal(12_000n * CNY);
      expect(s.lines[1]).to.include({
        label: "Interest, repaid first",
        amount: 16_000n * CNY,
        party: "capital-providers",
      });
      expect(s.paid).to.deep.equal({
        interest: 16_000n * CNY,
        principal: 200_000n * CNY,
        fees: 2_000n * CNY,
        ownFundsReturned: 100_000n * CNY,
      });
      expect(s.profitShares).to.deep.equal({ client: 12_000n * CNY, capitalProviders: 0n, platform: 0n });
      expect(s.payouts).to.deep.equal({
        capitalProviders: 216_000n * CNY,
        platform: 2_000n * CNY,
        client: 112_000n * CNY,
      });
      expect(s.clientResult).to.equal(12_000n * CNY);
      const text = renderFinalSettlementText(s);
      expect(text).to.contain("Interest, repaid first");
      expect(text).to.contain("16000.000000");
      expect(text).to.contain("client 112000.000000");
    });

    it("a 5% year loses money: 15,000 gross does not cover 18,000 of costs; the client gets 97,000 back", () => {
      const s = computeFinalSettlement({
        ...base,
        closingCash: 315_000n * CNY,
        interestDue,
        feesDue: [{ code: "MGMT", label: "Account management", amount: mgmt }],
      });
      expect(s.grossResult).to.equal(15_000n * CNY);
      expect(s.netResult).to.equal(-3_000n * CNY);
      expect(s.paid.interest).to.equal(16_000n * CNY);
      expect(s.payouts.client).to.equal(97_000n * CNY);
      expect(s.clientResult).to.equal(-3_000n * CNY);
      expect(s.profitShares).to.deep.equal({ client: 0n, capitalProviders: 0n, platform: 0n });
    });

    it("discloses the 6% break-even return in the worst-case fee estimate", () => {
      const w = worstCaseCosts(terms, YEAR, { liquidatedInFull: false });
      expect(w.total).to.equal(18_000n * CNY);
      expect(w.breakEvenReturnBps).to.equal(600n);
    });
  });

  describe("seed: client A, 100,000 own funds at 2×, profit shared 80/10/10", () => {
    const terms = seedTerms(A, P);

    it("repays 8,000 interest first, then principal and fees, then splits 10,000 of profit 8,000/1,000/1,000", () => {
      const s = computeFinalSettlement({
        terms,
        settledOn: "2028-01-01",
        closingCash: 220_000n * CNY,
        principal: 100_000n * CNY,
        interestDue: 8_000n * CNY,
        feesDue: [{ code: "MGMT", label: "Account management", amount: 2_000n * CNY }],
        insuranceFundAvailable: 0n,
      });
      expect(s.lines.map((l) => l.label)).to.deep.equal([
        "Proceeds: cash in the account after closing every position",
        "Interest, repaid first",
        "Financed principal repaid to the capital pool",
        "Fee MGMT: Account management",
        "Client's contributions returned",
        "Net profit to share",
        "Profit share: capital providers",
        "Profit share: platform",
        "Profit share: client (remainder)",
      ]);
      expect(s.profitShares).to.deep.equal({
        client: 8_000n * CNY,
        capitalProviders: 1_000n * CNY,
        platform: 1_000n * CNY,
      });
      expect(s.payouts).to.deep.equal({
        capitalProviders: 109_000n * CNY,
        platform: 3_000n * CNY,
        client: 108_000n * CNY,
      });
      expect(s.lines[s.lines.length - 1].remaining).to.equal(0n);
      expect(finalSettlementHash(s)).to.match(/^0x[0-9a-f]{64}$/);
    });

    it("after a crash, the insurance fund then the capital pool absorb the shortfall and fees are written off", () => {
      const s = computeFinalSettlement({
        terms,
        settledOn: "2027-06-01",
        closingCash: 90_000n * CNY,
        principal: 100_000n * CNY,
        interestDue: 4_000n * CNY,
        feesDue: [{ code: "MGMT", label: "Account management", amount: 1_000n * CNY }],
        insuranceFundAvailable: 5_000n * CNY,
      });
      expect(s.paid).to.deep.equal({
        interest: 4_000n * CNY,
        principal: 86_000n * CNY,
        fees: 0n,
        ownFundsReturned: 0n,
      });
      expect(s.shortfall).to.deep.equal({
        interest: 0n,
        principal: 14_000n * CNY,
        fees: 1_000n * CNY,
        coveredByInsuranceFund: 5_000n * CNY,
        lossToCapitalPool: 9_000n * CNY,
      });
      expect(s.clientResult).to.equal(-100_000n * CNY);
      expect(s.lines.map((l) => l.party).slice(-3)).to.deep.equal(["insurance-fund", "capital-pool", "platform"]);
    });
  });

  it("always pays out exactly the closing cash, in priority order, whatever the amounts (property)", () => {
    const terms = seedTerms(A, P);
    const amount = fc.bigInt({ min: 0n, max: 10n ** 15n });
    fc.assert(
      fc.property(amount, amount, amount, amount, amount, amount, (cash, principal, interest, fee, contrib, fund) => {
        const s = computeFinalSettlement({
          terms,
          settledOn: "2028-01-01",
          closingCash: cash,
          principal,
          interestDue: interest,
          feesDue: [{ code: "MGMT", label: "m", amount: fee }],
          contributions: contrib,
          insuranceFundAvailable: fund,
        });
        const out = s.payouts.capitalProviders + s.payouts.platform + s.payouts.client;
        const shares = s.profitShares.client + s.profitShares.capitalProviders + s.profitShares.platform;
        const profit = cash - principal - interest - fee - contrib;
        return (
          out === cash &&
          shares === (profit > 0n ? profit : 0n) &&
          // interest is paid before anything else
          s.paid.interest === (interest < cash ? interest : cash) &&
          s.shortfall.coveredByInsuranceFund + s.shortfall.lossToCapitalPool ===
            s.shortfall.interest + s.shortfall.principal &&
          s.shortfall.coveredByInsuranceFund <= fund
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe("legal: performance fee above the hurdle and the high-water mark", () => {
  // Hand-computed: own funds 100,000 for 365 days, 6% hurdle → 106,000; closing cash 230,000 pays interest 8,000,
  // principal 100,000 and fees 2,000, returns the 100,000 and leaves 20,000 profit: the client's 120,000 is 14,000
  // above the hurdle, of which 20% (2,800) is the fee, 1,400 to the platform and 1,400 to the providers.
  const perf = { rateBps: 2_000, hurdleAnnualBps: 600, platformBps: 5_000, capitalProvidersBps: 5_000 };
  const terms = (highWaterMark: bigint) =>
    seedTerms(A, P, {
      performanceFee: { ...perf, highWaterMark },
      profitSplit: { clientBps: 10_000, capitalProvidersBps: 0, platformBps: 0 },
    });
  const settle = (highWaterMark: bigint, closingCash: bigint, settledOn = "2028-01-01") =>
    computeFinalSettlement({
      terms: terms(highWaterMark),
      settledOn,
      closingCash,
      principal: 100_000n * CNY,
      interestDue: 8_000n * CNY,
      feesDue: [{ code: "MGMT", label: "Account management", amount: 2_000n * CNY }],
      insuranceFundAvailable: 0n,
    });

  it("takes 20% of the 14,000 above the 106,000 hurdle: 1,400 platform, 1,400 providers, 17,200 to the client", () => {
    const s = settle(100_000n * CNY, 230_000n * CNY);
    expect(s.profitShares).to.deep.equal({
      client: 17_200n * CNY,
      capitalProviders: 1_400n * CNY,
      platform: 1_400n * CNY,
    });
    expect(s.payouts).to.deep.equal({
      capitalProviders: 109_400n * CNY,
      platform: 3_400n * CNY,
      client: 117_200n * CNY,
    });
    const fee = s.lines.find((l) => l.label.startsWith("Performance fee above"))!;
    expect(fee.amount).to.equal(2_800n * CNY);
    expect(fee.formula).to.contain("hurdle 6000.000000 (600 bps × 365 / 365)");
  });

  it("measures above the high-water mark when it is higher than the hurdle (115,000: fee 1,000)", () => {
    const s = settle(115_000n * CNY, 230_000n * CNY);
    expect(s.profitShares.platform + s.profitShares.capitalProviders).to.equal(1_000n * CNY);
    expect(s.profitShares.client).to.equal(19_000n * CNY);
  });

  it("takes nothing when the client's funds end below the hurdle (105,000 < 106,000)", () => {
    const s = settle(100_000n * CNY, 215_000n * CNY);
    expect(s.profitShares).to.deep.equal({ client: 5_000n * CNY, capitalProviders: 0n, platform: 0n });
  });

  it("prorates the hurdle by the natural days of an early termination, rounded up (182 days: 2,991.780822)", () => {
    const s = settle(100_000n * CNY, 230_000n * CNY, "2027-07-02");
    const fee = s.lines.find((l) => l.label.startsWith("Performance fee above"))!;
    expect(fee.formula).to.contain("hurdle 2991.780822 (600 bps × 182 / 365)");
    // 120,000 − 102,991.780822 = 17,008.219178 above; 20% rounded down.
    expect(fee.amount).to.equal(3_401_643_835n);
  });

  it("refuses, in the terms, a performance fee beside a profit split that already gives the others a share", () => {
    expect(() => buildAgreement(seedTerms(A, P, { performanceFee: { ...perf, highWaterMark: 0n } }))).to.throw(
      "profitSplit",
    );
  });
});
