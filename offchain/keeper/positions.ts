import type { Position } from "./valuation";

/** An engine event as the keeper sees it: from the indexer's store (args as decimal strings) or a parsed log. */
export interface EngineEvent {
  name: string;
  args: Record<string, unknown>;
}

const HEALTHY = 0;

/**
 * Every account's position folded from the engine's events, for the cold start: collateral units per asset, margin
 * cash and scaled debt, exactly as the engine's ledger moves them (MarginLedger: deposit, withdraw, borrow,
 * transfers and trade legs are pure balance movements with their amounts in the event). An account is "unsure"
 * when one of its events does not carry enough to replay it — a repayment (from margin cash or from the wallet:
 * the event does not say), a liquidation (the account and its liquidator), a loss settlement, a legal seizure, a
 * freeze, a chosen margin mode (a fixed term's margins are not replayed) — or when its margin call may still be running (the clock's last evaluation time is in no event), or its
 * recorded state is not Healthy. Those are read through the engine, never valued off-chain.
 */
export class PositionBook {
  private readonly positions = new Map<string, Position>();
  private readonly unsure = new Set<string>();
  private readonly callOpen = new Set<string>();
  private readonly recorded = new Map<string, number>();

  private readonly cash: string;

  constructor(cash: string) {
    this.cash = cash.toLowerCase();
  }

  accounts(): string[] {
    return [...this.positions.keys()];
  }

  /** The folded position, or undefined when it cannot be trusted (read the account through the engine). */
  position(account: string): Position | undefined {
    const a = account.toLowerCase();
    if (this.unsure.has(a) || this.callOpen.has(a) || (this.recorded.get(a) ?? HEALTHY) !== HEALTHY) return undefined;
    const p = this.positions.get(a);
    // a negative balance means an event was missed (events are folded in any order, so checked only here)
    if (!p || p.cash < 0n || p.scaledDebt < 0n || [...p.balances.values()].some((u) => u < 0n)) return undefined;
    return p;
  }

  apply(e: EngineEvent): void {
    const g = e.args;
    switch (e.name) {
      case "CollateralDeposited":
        return this.move(str(g.account), str(g.asset), big(g.amount));
      case "CollateralWithdrawn":
        return this.move(str(g.account), str(g.asset), -big(g.amount));
      case "AccountTransfer":
        this.move(str(g.from), str(g.asset), -big(g.amount));
        return this.move(str(g.to), str(g.asset), big(g.amount));
      case "TradeLegsSettled":
        this.move(str(g.seller), str(g.asset), -big(g.units));
        this.move(str(g.buyer), str(g.asset), big(g.units));
        this.move(str(g.buyer), this.cash, -big(g.cashAmount));
        return this.move(str(g.seller), this.cash, big(g.cashAmount));
      case "Borrowed": {
        const p = this.of(str(g.account));
        p.scaledDebt += big(g.scaled);
        p.cash += big(g.amount);
        return;
      }
      case "Repaid": {
        const p = this.of(str(g.account));
        p.scaledDebt -= big(g.scaled);
        this.unsure.add(str(g.account));
        return;
      }
      case "Liquidated":
        this.of(str(g.account));
        this.unsure.add(str(g.account));
        this.unsure.add(str(g.liquidator));
        return;
      // A chosen margin mode (issue 23): the fixed term's margins are read through the lens, not replayed here.
      case "DefaultSettled":
      case "LegalSeizure":
      case "FreezeSynced":
      case "MarginModeSet":
        this.of(str(g.account));
        this.unsure.add(str(g.account));
        return;
      case "MarginCalled":
        this.callOpen.add(str(g.account));
        return;
      case "MarginCallCured":
        this.callOpen.delete(str(g.account));
        return;
      case "AccountStateChanged":
        this.of(str(g.account));
        this.recorded.set(str(g.account), Number(g.to));
        return;
    }
  }

  private of(account: string): Position {
    let p = this.positions.get(account);
    if (!p) {
      p = { cash: 0n, scaledDebt: 0n, balances: new Map() };
      this.positions.set(account, p);
    }
    return p;
  }

  private move(account: string, asset: string, amount: bigint): void {
    const p = this.of(account);
    if (asset === this.cash) p.cash += amount;
    else {
      const units = (p.balances.get(asset) ?? 0n) + amount;
      if (units === 0n) p.balances.delete(asset);
      else p.balances.set(asset, units);
    }
  }
}

const str = (v: unknown): string => String(v).toLowerCase();
const big = (v: unknown): bigint => BigInt(v as string | bigint);
