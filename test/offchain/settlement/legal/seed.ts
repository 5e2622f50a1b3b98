import type { FinancingTerms } from "../../../../offchain/settlement/legal";

/** 1 mbCNY in base units (6 decimals). */
export const CNY = 1_000_000n;

/** 2027-01-01T00:00:00Z and a year later: a 365-natural-day financing. */
export const START = 1798761600;
export const END = START + 365 * 86400;

/**
 * The seed's client A: deposits 100,000, takes 2× (200,000 to trade), 8% a year, initial margin 20%,
 * maintenance 15%; profit after interest and fees shared 80/10/10.
 */
export function seedTerms(client: string, platform: string, over: Partial<FinancingTerms> = {}): FinancingTerms {
  return {
    schema: "marginbridge/financing-terms@1",
    agreementId: "0x" + "a1".repeat(32),
    version: 1,
    client: { address: client, name: "Client A", accountRef: "MB-000001" },
    platform: { address: platform, name: "MarginBridge Platform Ltd." },
    currency: { symbol: "mbCNY", iso4217: "CNY", decimals: 6 },
    ownFunds: 100_000n * CNY,
    leverageBps: 20_000,
    financedAmount: 100_000n * CNY,
    interest: { annualRateBps: 800, dayCount: "ACT/365", rounding: "cumulative-ceil", payment: "at-settlement" },
    margin: {
      initialMarginBps: 2_000,
      maintenanceMarginBps: 1_500,
      liquidationMarginBps: 1_000,
      marginCallWindowSeconds: 86_400,
    },
    liquidation: {
      assetOrder: ["mbSMALL", "mbTECH", "mbBANK"],
      closeFactorBps: 5_000,
      penaltyBps: 500,
      penaltyToLiquidatorBps: 5_000,
      penaltyToInsuranceFundBps: 5_000,
    },
    fees: [
      { code: "COMMISSION", label: "Brokerage commission", kind: "per-trade", bps: 3, minimum: 5n * CNY },
      { code: "MGMT", label: "Account management", kind: "daily-on-own-funds", annualBps: 200 },
    ],
    profitSplit: { clientBps: 8_000, capitalProvidersBps: 1_000, platformBps: 1_000 },
    defaultWaterfall: ["client-collateral", "insurance-fund", "capital-pool"],
    effectiveAt: START,
    expiresAt: END,
    governingLaw: "Governed by the laws of the People's Republic of China",
    disputeResolution: "Disputes go first to the MarginBridge dispute desk, then to arbitration in Shanghai.",
    ...over,
  };
}

/** DESIGN.md's worked example: E = 100,000, L = 3, 8%, 2,000 of yearly costs (a 2% management fee on E). */
export function workedExampleTerms(client: string, platform: string): FinancingTerms {
  return seedTerms(client, platform, {
    agreementId: "0x" + "b2".repeat(32),
    leverageBps: 30_000,
    financedAmount: 200_000n * CNY,
    fees: [{ code: "MGMT", label: "Account management", kind: "daily-on-own-funds", annualBps: 200 }],
    profitSplit: { clientBps: 10_000, capitalProvidersBps: 0, platformBps: 0 },
  });
}
