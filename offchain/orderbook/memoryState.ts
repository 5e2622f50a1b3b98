import { NullObserver } from "./events";
import { type InstrumentSpec, lotsToUnits, notional } from "./instrument";
import type { AccountRiskView, InstrumentRiskView, RiskStateSource } from "./risk";
import { type AccountId, Side } from "./types";

/**
 * An in-memory RiskStateSource: accounts and instruments set directly, and unsettled trades recorded from the
 * engine's own fills. It serves single-process deployments, the benchmark and tests until the chain indexer and
 * the store provide the same view from the chain and the database.
 */
export class InMemoryRiskState implements RiskStateSource {
  private readonly accounts = new Map<AccountId, AccountRiskView>();
  private readonly instruments = new Map<string, InstrumentRiskView>();

  setAccount(id: AccountId, view: AccountRiskView): void {
    this.accounts.set(id, view);
  }

  setInstrument(id: string, view: InstrumentRiskView): void {
    this.instruments.set(id, view);
  }

  setOraclePrice(instrument: string, ticks: number): void {
    const v = this.instruments.get(instrument);
    if (v !== undefined) v.oraclePrice = ticks;
  }

  account(id: AccountId): AccountRiskView | undefined {
    return this.accounts.get(id);
  }

  instrument(id: string): InstrumentRiskView | undefined {
    return this.instruments.get(id);
  }

  /** Books a trade as unsettled for both accounts: the buyer gets units and pays cash, the seller the reverse. */
  recordTrade(spec: InstrumentSpec, buyer: AccountId, seller: AccountId, ticks: number, lots: number): void {
    const units = lotsToUnits(spec, lots);
    const cash = notional(spec, ticks, lots);
    this.bookDelta(buyer, spec.id, units, -cash);
    this.bookDelta(seller, spec.id, -units, cash);
  }

  private bookDelta(account: AccountId, instrument: string, units: bigint, cash: bigint): void {
    const a = this.accounts.get(account);
    if (a === undefined) return;
    const positions = new Map(a.unsettled.positions);
    positions.set(instrument, (positions.get(instrument) ?? 0n) + units);
    a.unsettled = { cash: a.unsettled.cash + cash, positions };
  }

  /** An observer for an instrument's engine that records every fill as an unsettled trade. */
  tradeRecorder(spec: InstrumentSpec): NullObserver {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const state = this;
    return new (class extends NullObserver {
      override onTrade(
        _takerId: number,
        takerAccount: AccountId,
        _makerId: number,
        makerAccount: AccountId,
        takerSide: Side,
        price: number,
        qty: number,
      ): void {
        if (takerSide === Side.Buy) state.recordTrade(spec, takerAccount, makerAccount, price, qty);
        else state.recordTrade(spec, makerAccount, takerAccount, price, qty);
      }
    })();
  }
}
