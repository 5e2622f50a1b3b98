import type { ReasonCode } from "../behaviourTiers";

/**
 * The order flow as surveillance reads it: the book's journaled commands (orders, modifies, client cancels), its
 * trades (both sides, from the fills), and the pre-trade refusals the book never journals. `pos` is where the event
 * sits in the stream it came from (the journal's seq, or the refusal's id): a reader's cursor.
 */
export type FlowEvent = FlowOrder | FlowCancel | FlowTrade | FlowRefusal;

interface Stamped {
  pos: number;
  /** Unix ms (the book's stamp). */
  ts: number;
  instrument: string;
}

export interface FlowOrder extends Stamped {
  kind: "order";
  /** limit, market, protective or modify: every message that asks the book to rest or take. */
  type: "limit" | "market" | "protective" | "modify";
  account: string;
  orderId: number;
  side: "buy" | "sell" | null;
  /** Ticks; null for market and protective orders (and a modify that keeps its price). */
  price: number | null;
  /** Lots; null for a modify that keeps its quantity. */
  qty: number | null;
}

export interface FlowCancel extends Stamped {
  kind: "cancel";
  account: string;
  orderId: number;
}

export interface FlowTrade extends Stamped {
  kind: "trade";
  tradeId: string;
  buyer: string;
  seller: string;
  buyOrderId: number;
  sellOrderId: number;
  makerOrderId: number;
}

export interface FlowRefusal extends Stamped {
  kind: "refusal";
  account: string;
  orderId: number;
  /** The pre-trade reject code (PRICE_BAND, ORDER_RATE_LIMIT…). */
  code: string;
}

/** Every rule's own switches: off, the tier it proposes, and whether it sets that tier without a person. */
export interface RuleSwitches {
  enabled: boolean;
  /** The behaviour tier the alert proposes (accepting it sets this tier unless the officer names another). */
  tier: string;
  /** Sets the tier at once (decided by "system:surveillance"); off by default: a person decides. */
  autoAct: boolean;
}

/** What a rule found: the account, the window, the figures against the thresholds and the ids behind them. */
export interface Finding {
  rule: string;
  account: string;
  instrument: string;
  windowStart: number;
  windowEnd: number;
  reasonCode: ReasonCode;
  summary: string;
  /** Distinguishes two findings of one rule, account and window (wash-like: the counterparty); usually "". */
  key?: string;
  evidence: {
    orderIds: number[];
    tradeIds: string[];
    figures: Record<string, number | string>;
    thresholds: Record<string, number>;
    [more: string]: unknown;
  };
}

/**
 * Linked accounts (issue 25, S1's groups): the group an account belongs to, or undefined. Wash-like trading counts
 * a group's accounts as one counterparty and their trades with each other as linked trades.
 */
export type GroupOf = (account: string) => string | undefined;

/** The instrument's book as the rules see it between events: resting orders by id and the last trade price. */
export interface BookView {
  resting: Map<number, { account: string; side: "buy" | "sell"; price: number; qty: number; ts: number }>;
  /** Ticks of the last trade (the maker's price), or null before the first trade this reader saw. */
  lastTradePrice: number | null;
}

/**
 * A rule family: per account and window, a state built event by event (`observe`, also given the book as it was
 * before the event), and the findings read from it when the window closes.
 */
export interface FlowRule<S> {
  name: string;
  /** Which events open state for an account (a trade is offered to both its accounts). */
  init(): S;
  observe(s: S, account: string, e: FlowEvent, book: BookView, groupOf: GroupOf): void;
  findings(s: S, account: string, window: { start: number; end: number; instrument: string }): Finding[];
}

/** Evidence lists keep this many ids (the figures count them all). */
export const EVIDENCE_IDS = 50;

export function keep<T>(list: T[], x: T): void {
  if (list.length < EVIDENCE_IDS) list.push(x);
}
