import { keep, type FlowEvent, type FlowRule, type Finding, type GroupOf, type RuleSwitches } from "./types";

/**
 * Wash-like trading: an account trading again and again with the same counterparty (most of its trades), or with
 * accounts linked to it (same group: S1's groups by identity or beneficial owner), including itself.
 */
export type WashThresholds = RuleSwitches & {
  /** Trades with one counterparty in the window... */
  minTrades: number;
  /** ...that are at least this share of the account's trades (basis points). */
  minShareBps: number;
  /** Trades with linked accounts (or itself) in the window that raise an alert on their own. */
  linkedMinTrades: number;
};

interface Counterparty {
  trades: number;
  tradeIds: string[];
  orderIds: number[];
  /** The accounts behind a group counterparty (an account counterparty is its key alone). */
  accounts: Set<string> | null;
  linked: boolean;
}

interface State {
  trades: number;
  by: Map<string, Counterparty>;
}

export function washRule(t: WashThresholds): FlowRule<State> {
  return {
    name: "wash-like",
    init: () => ({ trades: 0, by: new Map() }),
    observe(s: State, account: string, e: FlowEvent, _book, groupOf: GroupOf): void {
      if (e.kind !== "trade") return;
      const buying = e.buyer === account;
      const other = buying ? e.seller : e.buyer;
      const mine = groupOf(account);
      const theirs = groupOf(other);
      const linked = other === account || (mine !== undefined && mine === theirs);
      const key = theirs !== undefined ? `group:${theirs}` : other;
      let c = s.by.get(key);
      if (c === undefined) {
        c = { trades: 0, tradeIds: [], orderIds: [], accounts: theirs === undefined ? null : new Set(), linked };
        s.by.set(key, c);
      }
      s.trades++;
      c.trades++;
      c.accounts?.add(other);
      keep(c.tradeIds, e.tradeId);
      keep(c.orderIds, buying ? e.buyOrderId : e.sellOrderId);
    },
    findings(s: State, account: string, w): Finding[] {
      let worst: [string, Counterparty] | undefined;
      for (const entry of s.by) {
        const c = entry[1];
        const shareBps = Math.floor((c.trades * 10_000) / s.trades);
        const hit = c.linked ? c.trades >= t.linkedMinTrades : c.trades >= t.minTrades && shareBps >= t.minShareBps;
        if (hit && (worst === undefined || c.trades > worst[1].trades)) worst = entry;
      }
      if (!t.enabled || worst === undefined) return [];
      const [key, c] = worst;
      const shareBps = Math.floor((c.trades * 10_000) / s.trades);
      return [
        {
          rule: "wash-like",
          account,
          instrument: w.instrument,
          windowStart: w.start,
          windowEnd: w.end,
          reasonCode: c.linked ? "LINKED_ACCOUNTS" : "WASH_LIKE_TRADING",
          summary: c.linked
            ? `${c.trades} trades with linked accounts (${[...(c.accounts ?? [key])].join(", ")})`
            : `${c.trades} of ${s.trades} trades with ${key} (${shareBps / 100} %)`,
          evidence: {
            orderIds: c.orderIds,
            tradeIds: c.tradeIds,
            counterparty: key,
            counterparties: [...(c.accounts ?? [key])],
            linked: c.linked,
            figures: { tradesWithCounterparty: c.trades, trades: s.trades, shareBps },
            thresholds: { minTrades: t.minTrades, minShareBps: t.minShareBps, linkedMinTrades: t.linkedMinTrades },
          },
        },
      ];
    },
  };
}
