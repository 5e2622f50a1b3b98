import { WAD, type AssetRisk, type Book, type Market } from "../../../offchain/risk";

/** Test fixtures: a small book whose stress figures are worked out by hand in stress.test.ts. */

export const CASH_DECIMALS = 6;
/** `n` whole units of the quote currency in cash base units (6 decimals). */
export const cny = (n: number | bigint) => BigInt(n) * 10n ** 6n;
/** A percentage as WAD: pct(25) = 0.25e18. */
export const pct = (n: number) => (BigInt(Math.round(n * 1e6)) * WAD) / 100_000_000n;
/** A price per whole token as 18-decimal bigint. */
export const price = (n: number) => (BigInt(Math.round(n * 1e6)) * WAD) / 1_000_000n;

export const BANK: AssetRisk = {
  asset: "mbBANK",
  symbol: "mbBANK",
  decimals: 0,
  haircut: 0n,
  initialMargin: pct(20),
  maintenanceMargin: pct(15),
  liquidationPenalty: pct(5),
  liquidityTier: 1,
};

export const SMALL: AssetRisk = {
  asset: "mbSMALL",
  symbol: "mbSMALL",
  decimals: 0,
  haircut: 0n,
  initialMargin: pct(40),
  maintenanceMargin: pct(30),
  liquidationPenalty: pct(10),
  liquidityTier: 3,
};

export function market(prices: Record<string, number>, assets: AssetRisk[] = [BANK, SMALL]): Market {
  return {
    cashDecimals: CASH_DECIMALS,
    assets: new Map(assets.map((a) => [a.asset, a])),
    prices: new Map(Object.entries(prices).map(([asset, p]) => [asset, price(p)])),
  };
}

/**
 * Three accounts at BANK = 10, SMALL = 20:
 *  A: 20,000 BANK (200,000), debt 100,000 — own funds 100,000 at 2×.
 *  B: 10,000 SMALL (200,000) + 10,000 BANK (100,000), debt 200,000 — E = 100,000 = initial requirement.
 *  C: 5,000 SMALL (100,000), debt 90,000 — E = 10,000 < maintenance 30,000: liquidatable already.
 * Insurance fund empty, pool cash 100,000, penalty split 50/50.
 */
export function smallBook(insuranceFund = 0n): Book {
  return {
    market: market({ mbBANK: 10, mbSMALL: 20 }),
    accounts: [
      {
        id: "A",
        cash: 0n,
        debt: cny(100_000),
        annualRate: pct(8),
        positions: [{ asset: "mbBANK", quantity: 20_000n }],
      },
      {
        id: "B",
        cash: 0n,
        debt: cny(200_000),
        annualRate: pct(8),
        positions: [
          { asset: "mbBANK", quantity: 10_000n },
          { asset: "mbSMALL", quantity: 10_000n },
        ],
      },
      { id: "C", cash: 0n, debt: cny(90_000), annualRate: pct(8), positions: [{ asset: "mbSMALL", quantity: 5_000n }] },
    ],
    funding: { insuranceFund, poolCash: cny(100_000), insuranceShareOfPenalty: pct(50) },
  };
}
