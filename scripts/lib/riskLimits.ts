import type { RiskLimits } from "../../offchain/orderbook";

const CNY = 10n ** 6n;

/**
 * The order books' pre-trade limits of both profiles (`npm start` embedded and production): a 10% price band
 * around the oracle, exposure caps in mbCNY, and three behaviour tiers a risk officer sets (surveillance): standard;
 * flagged accounts trade at most 1x and slowly; restricted ones may only sell. See docs/orderbook.md.
 */
export const PLATFORM_RISK_LIMITS: RiskLimits = {
  priceBandBps: 1_000,
  maxInstrumentExposure: 5_000_000n * CNY,
  maxSectorExposure: 8_000_000n * CNY,
  maxAccountExposure: 10_000_000n * CNY,
  tiers: {
    standard: {
      maxLeverage: 5n * 10n ** 18n,
      maxOrdersPerSecond: 50,
      maxOrdersPerDay: 50_000,
      maxNotionalPerDay: 50_000_000n * CNY,
    },
    flagged: {
      maxLeverage: 10n ** 18n,
      maxOrdersPerSecond: 1,
      maxOrdersPerDay: 200,
      maxNotionalPerDay: 500_000n * CNY,
    },
    // a risk officer's restriction (surveillance): no new risk, the account may only sell what it holds
    restricted: {
      maxLeverage: 10n ** 18n,
      maxOrdersPerSecond: 1,
      maxOrdersPerDay: 200,
      maxNotionalPerDay: 500_000n * CNY,
      sellOnly: true,
    },
  },
  // Linked accounts (issue 25): one client's accounts (same KYC identity or declared beneficial owner) together at most
  // 1.5 accounts' exposure and daily notional, so a second account does not double what one person may hold.
  group: {
    maxExposure: 15_000_000n * CNY,
    maxNotionalPerDay: 75_000_000n * CNY,
  },
  // Platform-wide (issue 23): what all indebted accounts hold of a security ≤ 25% of its average daily volume on the
  // books over 20 days (a liquidation of all of it is a quarter of a day's trading), with 2,000,000 shares a day
  // assumed while the book's own volume is lower; per sector of the deployment's token list, a value cap.
  platform: {
    maxAdvShare: 25n * 10n ** 16n,
    advDays: 20,
    minAdvUnits: 2_000_000n,
    sectorCaps: {
      financials: 20_000_000n * CNY,
      technology: 12_000_000n * CNY,
      industrials: 6_000_000n * CNY,
    },
  },
};
