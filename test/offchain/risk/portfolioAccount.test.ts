import { expect } from "chai";
import {
  optionPrice,
  portfolioAccountMargins,
  portfolioRequirement,
  portfolioRequirements,
  type PortfolioAccountInput,
  type PortfolioHolding,
  type PortfolioSeriesTerms,
} from "../../../offchain/risk";

/**
 * The mirror of PortfolioRisk.margins on hand-made inputs: the grid's figures and ranks for a protective put, and
 * every case in which the contract leaves a group to the rule (test/contracts/options/PortfolioRiskMirror.test.ts
 * checks it against the chain).
 */

const WAD = 10n ** 18n;
const NOW = 1_800_000_000n;
const EXPIRY = NOW + 90n * 86_400n;
const SCALE = 10n ** 12n; // a share (0 decimals) against mbCNY (6 decimals)
const BANK = "0x00000000000000000000000000000000000000B1";
const GRID = {
  volatilityShift: WAD / 4n,
  extremeMultiple: 2n * WAD,
  extremeFraction: (35n * WAD) / 100n,
  shortOptionMinimum: WAD / 100n,
  lookAhead: 86_400n,
};
const RULE = { maintenance: (15n * WAD) / 100n, initial: (20n * WAD) / 100n };

function series(isCall: boolean, strike: bigint, extra: Partial<PortfolioSeriesTerms> = {}): PortfolioSeriesTerms {
  return {
    underlying: BANK,
    isCall,
    strike,
    expiry: EXPIRY,
    contractSize: 100n,
    rate: 0n,
    fixed: false,
    volatility: (30n * WAD) / 100n,
    ...extra,
  };
}

function contractPrice(s: PortfolioSeriesTerms, spot: bigint): bigint {
  const p = optionPrice({
    isCall: s.isCall,
    spot,
    strike: s.strike,
    secondsToExpiry: s.expiry - NOW,
    volatility: s.volatility!,
    rate: s.rate,
  });
  return p * s.contractSize;
}

function held(asset: string, balance: bigint, price: bigint, option: boolean): PortfolioHolding {
  return { asset, balance, price, value: (balance * price) / SCALE, ...RULE, option };
}

/** 10,000 shares at 10 and `puts` 9-puts (and more series when given), in the engine's order. */
function account(puts: bigint, more: [string, PortfolioSeriesTerms, bigint][] = []): PortfolioAccountInput {
  const spot = 10n * WAD;
  const put = series(false, 9n * WAD);
  const all: [string, PortfolioSeriesTerms, bigint][] = [
    ["0x00000000000000000000000000000000000000F1", put, puts],
    ...more,
  ];
  return {
    holdings: [
      held(BANK, 10_000n, spot, false),
      ...all.map(([a, s, n]) => held(a, n, s.fixed ? 0n : contractPrice(s, spot), true)),
    ],
    series: new Map(all.map(([a, s]) => [a.toLowerCase(), s])),
    underlyings: new Map([[BANK.toLowerCase(), { decimals: 0, spot, maintenance: RULE.maintenance }]]),
    grid: GRID,
    cashDecimals: 6,
    timestamp: NOW,
  };
}

/** Each holding keeps the rule's ratios and the rule's rank (2 + ⌊253 · maintenance⌋: 39 at 15%). */
function ruleKept(input: PortfolioAccountInput): void {
  const m = portfolioAccountMargins(input);
  input.holdings.forEach((h, i) => {
    const rank = 2 + Number(((h.maintenance < WAD ? h.maintenance : WAD) * 253n) / WAD);
    expect(m[i]).to.deep.equal({ maintenance: h.maintenance, initial: h.initial, rank });
  });
}

describe("risk: portfolio margin of an account (PortfolioRisk.margins mirror)", () => {
  it("margins a protective put and its shares at one rate from the grid, and ranks the put as the hedge", () => {
    const input = account(100n);
    const m = portfolioAccountMargins(input);
    const put = input.series.get("0x00000000000000000000000000000000000000f1")!;
    const grid = portfolioRequirement(
      10_000n,
      [{ isCall: false, strike: put.strike, expiry: put.expiry, contracts: 100n, contractSize: 100n }],
      { spot: 10n * WAD, volatility: put.volatility!, rate: 0n, timestamp: NOW },
      { priceRange: RULE.maintenance, ...GRID },
    );
    const req = (grid.requirement + SCALE - 1n) / SCALE;
    const value = input.holdings[0].value + input.holdings[1].value;
    const ruleM = input.holdings.reduce((s, h) => s + (h.value * RULE.maintenance + WAD - 1n) / WAD, 0n);
    const ruleI = input.holdings.reduce((s, h) => s + (h.value * RULE.initial + WAD - 1n) / WAD, 0n);
    const maintenance = (req * WAD + value - 1n) / value;
    const initial = ((req + ruleI - ruleM) * WAD + value - 1n) / value;
    expect(m[0].maintenance).to.equal(maintenance);
    expect(m[1].maintenance).to.equal(maintenance);
    expect(m[0].initial).to.equal(initial);
    expect(m[1].initial).to.equal(initial);
    expect(maintenance).to.be.lessThan(RULE.maintenance);
    // the worst scenario is a fall: the shares lose (rank > 1), the put gains (rank 1, sold last)
    expect(m[0].rank).to.be.greaterThan(1);
    expect(m[1].rank).to.equal(1);
    const sums = portfolioRequirements(input.holdings, m);
    expect(sums.maintenance).to.be.greaterThanOrEqual(req);
  });

  it("values a group whose underlying is not held at the underlying's router price and maintenance", () => {
    const input = account(100n);
    const options: PortfolioAccountInput = { ...input, holdings: input.holdings.slice(1) };
    const m = portfolioAccountMargins(options);
    // a long put alone loses in a rise: a rate above the rule's, rank above 1
    expect(m[0].maintenance).to.be.greaterThan(RULE.maintenance);
    expect(m[0].rank).to.be.greaterThan(1);
    // its router price neither Safe nor Closed: the rule
    ruleKept({
      ...options,
      underlyings: new Map([[BANK.toLowerCase(), { decimals: 0, spot: 0n, maintenance: RULE.maintenance }]]),
    });
  });

  it("leaves a group to the rule in every case the contract does", () => {
    const base = account(100n);
    const putKey = "0x00000000000000000000000000000000000000f1";
    const withPut = (extra: Partial<PortfolioSeriesTerms>): PortfolioAccountInput => ({
      ...base,
      series: new Map([[putKey, { ...base.series.get(putKey)!, ...extra }]]),
    });
    // more than 8 legs
    const nine = Array.from({ length: 8 }, (_, i): [string, PortfolioSeriesTerms, bigint] => [
      `0x${(0xa0 + i).toString(16).padStart(40, "0")}`,
      series(false, (8n + BigInt(i)) * WAD),
      10n,
    ]);
    ruleKept(account(100n, nine));
    expect(portfolioAccountMargins(account(100n, nine.slice(1)))[0].maintenance).to.not.equal(RULE.maintenance);
    // a member unpriced (frozen, or its price unsafe), or the underlying held unpriced
    ruleKept({ ...base, holdings: [base.holdings[0], { ...base.holdings[1], price: 0n, value: 0n }] });
    ruleKept({ ...base, holdings: [{ ...base.holdings[0], price: 0n, value: 0n }, base.holdings[1]] });
    // a member above 1e18 contracts
    ruleKept({ ...base, holdings: [base.holdings[0], { ...base.holdings[1], balance: WAD + 1n }] });
    // the volatility feed reverting; a volatility or rate beyond the grid's bounds
    ruleKept(withPut({ volatility: null }));
    ruleKept(withPut({ volatility: 81n * WAD })); // ×1.25 > 100 (OptionMath's bound)
    ruleKept(withPut({ rate: WAD + 1n }));
    // a scan range of 100% or more, or an extreme move of 100% or more
    ruleKept({ ...base, holdings: [{ ...base.holdings[0], maintenance: WAD }, base.holdings[1]] });
    ruleKept({ ...base, grid: { ...GRID, extremeMultiple: 7n * WAD } }); // 15% × 7 = 105%
    // a fixed series is no member: the shares have no group
    const fixed = withPut({ fixed: true });
    ruleKept(fixed);
  });

  it("ranks positions outside a group by their maintenance ratio, as the contract does", () => {
    const input = account(0n);
    const m = portfolioAccountMargins({ ...input, holdings: [{ ...input.holdings[0], maintenance: WAD }] });
    expect(m[0].rank).to.equal(255);
  });
});
