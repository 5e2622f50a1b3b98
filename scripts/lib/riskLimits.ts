import type { RiskLimits } from "../../offchain/orderbook";

const CNY = 10n ** 6n;

/**
 * The order books' pre-trade limits of both profiles (`npm start` embedded and production): a 10% price band
 * around the oracle, exposure caps in mbCNY, and two behaviour tiers (flagged accounts trade at most 1x and
 * slowly). See docs/orderbook.md.
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
  },
};
