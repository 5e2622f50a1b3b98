import { CNY } from "../lib/demoPlatform";

/** The demo's figures, users and steps (the order the run narrates). */
export const TICK = 10_000n; // 0.01 mbCNY: the books' price grid
export const WAD = 10n ** 18n;
export const OWN_FUNDS = 100_000n * CNY;
export const LEVERAGE = 2n;
export const POOL_SUPPLY = 1_000_000n * CNY;
/** Of the provider's supply, what goes into the junior (first-loss) class; the rest is senior. */
export const JUNIOR_SUPPLY = 100_000n * CNY;
/** Client A's purchases: share of the 200,000 it may trade, least liquid last in the list. */
export const PORTFOLIO = [
  { symbol: "mbBANK", share: 70n },
  { symbol: "mbSMALL", share: 29n },
];
/** Client B finances later and ends its agreement with a profit (the last step, beside client A's default). */
export const CLIENT_B_OWN_FUNDS = 50_000n * CNY;
/**
 * Client C finances before the gap and hedges its mbBANK with protective puts (issue 26): it survives the gap. Small:
 * by then the provider's redemption has left the pool about a thousand mbCNY to lend, which C borrows (up to 2×).
 */
export const CLIENT_C_OWN_FUNDS = 2_000n * CNY;
export const USERS = ["clientA", "marketMaker", "provider", "clientB", "clientC"] as const;
export type User = (typeof USERS)[number];

export const STEPS = [
  "users",
  "kyc",
  "agreement",
  "custody",
  "pool",
  "margin",
  "redemption",
  "trading",
  "practice",
  "warning",
  "margin-call",
  "liquidation",
  "hedge",
  "gap",
  "operations",
  "providers",
  "statements",
  "reserves",
  "agreement-end",
] as const;
export type Step = (typeof STEPS)[number];

export interface Notice {
  kind: string;
  deadline: number | null;
  amountToCure: string | null;
  blockNumber: number | null;
}
