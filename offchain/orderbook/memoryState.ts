import { NullObserver } from "./events";
import { type InstrumentSpec, lotsToUnits, notional } from "./instrument";
import type { AccountRiskView, InstrumentRiskView, PlatformRiskView, RiskStateSource } from "./risk";
import { type AccountId, Side } from "./types";

/**
 * An in-memory RiskStateSource: accounts and instruments set directly, and unsettled trades recorded from the
 * engine's own fills. It serves single-process deployments, the benchmark and tests until the chain indexer and
 * the store provide the same view from the chain and the database.
 */
export class InMemoryRiskState implements RiskStateSource {
  private readonly accounts = new Map<AccountId, AccountRiskView>();
  private readonly instruments = new Map<string, InstrumentRiskView>();

  private readonly adv = new Map<string, bigint>();

  /** The platform-wide view: every account set here that has debt, and the volumes set by `setAverageDailyVolume`. */
  readonly platform: PlatformRiskView = {
    financedUnits: (instrument, except) => {
      let units = 0n;
      for (const [id, a] of this.accounts) {
        if (id === except || a.chain.debt === 0n) continue;
        const q = (a.chain.positions.get(instrument) ?? 0n) + (a.unsettled.positions.get(instrument) ?? 0n);
        if (q > 0n) units += q;
      }
      return units;
    },
    averageDailyVolume: (instrument) => this.adv.get(instrument),
    instrumentsIn: (sector) => [...this.instruments].filter(([, v]) => v.sector === sector).map(([id]) => id),
  };

  setAverageDailyVolume(instrument: string, units: bigint): void {
    this.adv.set(instrument, units);
  }

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
