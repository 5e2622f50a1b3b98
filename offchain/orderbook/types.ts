/**
 * Value types shared by the matching engine, the protective-order book, pre-trade risk and the journal.
 *
 * Units and bounds (why plain JS numbers are safe here):
 * - prices are integer ticks on the instrument's tick grid, 1 ≤ price ≤ MAX_PRICE_TICKS (2^31 − 1);
 * - quantities are integer lots on the lot grid, 1 ≤ qty ≤ MAX_QTY_LOTS (10^9);
 * - a book holds at most MAX_OPEN_ORDERS (4·10^6) resting orders, so any sum of quantities the engine keeps
 *   (a level's total, a side's total) is ≤ 4·10^15 < 2^53: every number the engine computes is an exact integer;
 * - the engine never multiplies price by quantity; notional and money are bigint (see risk.ts and instrument.ts);
 * - order ids are positive safe integers chosen by the gateway (unique per book), sequence numbers are safe
 *   integers (2^53 commands at 10^7/s is 28 years).
 */

export const MAX_PRICE_TICKS = 2 ** 31 - 1;
export const MAX_QTY_LOTS = 1_000_000_000;
export const MAX_OPEN_ORDERS = 4_000_000;

export enum Side {
  Buy = 0,
  Sell = 1,
}

/** Time in force of an order that may rest or take. */
export enum TimeInForce {
  /** Good till cancelled: rests until filled or cancelled. */
  GTC = 0,
  /** Good till time: rests until `expiresAt` (ms, compared with command timestamps). */
  GTT = 1,
  /** Immediate or cancel: takes what it can, the rest is cancelled. */
  IOC = 2,
  /** Fill or kill: fills completely at once or is rejected without touching the book. */
  FOK = 3,
}

/** Self-trade prevention, applied by the aggressing (incoming) order when it meets a resting order of its account. */
export enum StpMode {
  /** No prevention: the account may trade with itself. */
  None = 0,
  /** The incoming (newest) order's remainder is cancelled; the resting order stays. */
  CancelNewest = 1,
  /** The resting (oldest) order is cancelled and matching continues. */
  CancelOldest = 2,
  /** Both are reduced by the smaller quantity without a trade; whichever reaches zero is cancelled. */
  DecrementBoth = 3,
}

/** Every refusal carries one of these codes; the API maps them to 4xx responses unchanged. */
export enum RejectCode {
  /** Not an object, an unknown kind, or a field the command does not have. */
  MalformedCommand = "MALFORMED_COMMAND",
  InvalidSide = "INVALID_SIDE",
  InvalidPrice = "INVALID_PRICE",
  InvalidQuantity = "INVALID_QUANTITY",
  InvalidOrderId = "INVALID_ORDER_ID",
  InvalidTimeInForce = "INVALID_TIME_IN_FORCE",
  InvalidStpMode = "INVALID_STP_MODE",
  OffTickGrid = "OFF_TICK_GRID",
  OffLotGrid = "OFF_LOT_GRID",
  DuplicateOrderId = "DUPLICATE_ORDER_ID",
  UnknownOrder = "UNKNOWN_ORDER",
  NotOrderOwner = "NOT_ORDER_OWNER",
  PostOnlyWouldTake = "POST_ONLY_WOULD_TAKE",
  FokNotFillable = "FOK_NOT_FILLABLE",
  AlreadyExpired = "ALREADY_EXPIRED",
  BookFull = "BOOK_FULL",
  ModifyNoChange = "MODIFY_NO_CHANGE",
  InvalidTrigger = "INVALID_TRIGGER",
  OcoPartnerInvalid = "OCO_PARTNER_INVALID",
  OracleUnavailable = "ORACLE_UNAVAILABLE",
  /** A protective order must close a position the account holds (it never opens or flips one). */
  ReduceOnly = "REDUCE_ONLY",
  /** The platform's protective template: a buy above the leverage tier must carry a stop close enough to its entry. */
  ProtectiveStopRequired = "PROTECTIVE_STOP_REQUIRED",
  // pre-trade risk
  KycNotVerified = "KYC_NOT_VERIFIED",
  UnknownAccount = "UNKNOWN_ACCOUNT",
  MarginStateBlocksRisk = "MARGIN_STATE_BLOCKS_RISK",
  /** The balance the order would move is frozen (its token froze the holder; the engine mirrors it). */
  BalanceFrozen = "BALANCE_FROZEN",
  InsufficientInitialMargin = "INSUFFICIENT_INITIAL_MARGIN",
  /** The trade could not settle: the cash or the units it moves are not in the margin account (open orders counted). */
  InsufficientBalance = "INSUFFICIENT_BALANCE",
  /** The engine refuses new risk for accounts holding an asset the risk guardian paused. */
  BorrowingPaused = "BORROWING_PAUSED",
  /** Financed holdings of the security across all accounts over the allowed share of its average daily volume. */
  PlatformVolumeLimit = "PLATFORM_VOLUME_LIMIT",
  /** Financed holdings of the instrument's sector across all accounts over the sector's platform-wide cap. */
  PlatformSectorLimit = "PLATFORM_SECTOR_LIMIT",
  LeverageLimit = "LEVERAGE_LIMIT",
  InstrumentExposureLimit = "INSTRUMENT_EXPOSURE_LIMIT",
  SectorExposureLimit = "SECTOR_EXPOSURE_LIMIT",
  AccountExposureLimit = "ACCOUNT_EXPOSURE_LIMIT",
  /** The linked-account group's gross exposure (every member's, this order filling) over the group cap. */
  GroupExposureLimit = "GROUP_EXPOSURE_LIMIT",
  /** The linked-account group's notional ordered today (every member's) over the group's daily cap. */
  GroupDailyNotionalLimit = "GROUP_DAILY_NOTIONAL_LIMIT",
  DailyOrderLimit = "DAILY_ORDER_LIMIT",
  DailyNotionalLimit = "DAILY_NOTIONAL_LIMIT",
  OrderRateLimit = "ORDER_RATE_LIMIT",
  /** The account's behaviour tier (set by a risk officer) lets it only sell: no new risk. */
  BehaviourRestricted = "BEHAVIOUR_RESTRICTED",
  PriceBand = "PRICE_BAND",
  UnknownInstrument = "UNKNOWN_INSTRUMENT",
}

/** Why an order left the book (or never rested) without filling completely. */
export enum CancelReason {
  User = "USER",
  /** A modify that loses priority removes the old order and re-submits it under the same id. */
  Replaced = "REPLACED",
  IocRemainder = "IOC_REMAINDER",
  MarketRemainder = "MARKET_REMAINDER",
  SelfTradeNewest = "STP_CANCEL_NEWEST",
  SelfTradeOldest = "STP_CANCEL_OLDEST",
  SelfTradeDecrement = "STP_DECREMENT",
  Expired = "EXPIRED",
  OcoPartnerTriggered = "OCO_PARTNER_TRIGGERED",
  OcoPartnerCancelled = "OCO_PARTNER_CANCELLED",
  /** A reduce-only protective order fired when the account no longer held a position it could close. */
  ReduceOnly = "REDUCE_ONLY",
}

/** An account identifier as the book sees it (an address or internal id; only compared for equality). */
export type AccountId = string;

export interface LimitOrderCommand {
  kind: "limit";
  id: number;
  account: AccountId;
  side: Side;
  price: number;
  qty: number;
  tif: TimeInForce;
  /** Only for GTT: expiry in ms since epoch, compared with command timestamps. */
  expiresAt?: number;
  postOnly?: boolean;
  stp?: StpMode;
  /**
   * The other accounts of the account's linked-account group (surveillance), set by the gateway when the group
   * refuses trades with itself: a resting order of any of them is matched like the account's own (its stp mode;
   * none: cancel newest). Carried on the command, so a replay prevents exactly what the first run did.
   */
  linked?: AccountId[];
}

export interface MarketOrderCommand {
  kind: "market";
  id: number;
  account: AccountId;
  side: Side;
  qty: number;
  stp?: StpMode;
  /** See LimitOrderCommand.linked. */
  linked?: AccountId[];
}

export interface CancelCommand {
  kind: "cancel";
  id: number;
  account: AccountId;
}

/** New price and/or new open quantity. A size decrease keeps priority; a price change or size increase loses it. */
export interface ModifyCommand {
  kind: "modify";
  id: number;
  account: AccountId;
  price?: number;
  qty?: number;
}

/** Protective order kinds (see protective.ts for trigger rules). */
export type ProtectiveKind = "stop" | "takeProfit" | "trailing";

export interface ProtectiveOrderCommand {
  kind: "protective";
  id: number;
  account: AccountId;
  side: Side;
  qty: number;
  trigger: ProtectiveKind;
  /** stop / takeProfit: the oracle price (ticks) that fires the order. */
  triggerPrice?: number;
  /** trailing: fixed distance in ticks from the best oracle price seen since placement. */
  trailTicks?: number;
  /** trailing: distance as a share of the best oracle price seen, basis points (5% → 500), rounded down. */
  trailBps?: number;
  /** trailing: ATR multiple k in basis points (k = 3 → 30000); distance = k × ATR. */
  atrMultipleBps?: number;
  /** When set, the triggered order is a limit (stop-limit / take-profit-limit) at this price; otherwise market. */
  limitPrice?: number;
  /** With limitPrice: the fired order is immediate-or-cancel at limitPrice (a market order bounded by the price the
   *  client signed as its worst), not a resting limit. */
  ioc?: boolean;
  /** A fired limit order rests good-till-time until then (ms; the signed order's expiry); GTC when absent. */
  expiresAt?: number;
  /** When it fires, the order is cut to the cap the oracle command carries for it (0 or none: cancelled). */
  reduceOnly?: boolean;
  /** Another protective order of the same account: when either fires or is cancelled, the other is cancelled. */
  ocoWith?: number;
  stp?: StpMode;
}

/** A new oracle price for the instrument (ticks). Journaled: it moves trailing stops and fires triggers. */
export interface OracleCommand {
  kind: "oracle";
  price: number;
  /**
   * Reduce-only caps (lots) of the protective orders this price fires, by order id: what each may still close of
   * its account's position, computed by the gateway before sequencing, so a replay cuts exactly as the first run.
   */
  caps?: Record<string, number>;
}

/** Advances the book clock without another effect: expires good-till-time orders whose time has come. */
export interface TickCommand {
  kind: "tick";
}

export type BookCommand =
  | LimitOrderCommand
  | MarketOrderCommand
  | CancelCommand
  | ModifyCommand
  | ProtectiveOrderCommand
  | OracleCommand
  | TickCommand;

/** A journaled command: the gateway stamps the sequence number and the time before the engine applies it. */
export interface StampedCommand {
  seq: number;
  ts: number;
  cmd: BookCommand;
}
