/**
 * The keeper's in-memory index: for every known account, the price of each held asset at which the account may
 * reach its next worse line (Healthy → warning line, Warning → maintenance, MarginCall → hard line), kept per
 * asset in a list sorted by that price, so a price round re-checks only the accounts it can affect.
 *
 * The trigger is conservative. With slack s = equity − line > 0 and position value V, a fall of asset a from
 * p_a to p costs at most (1 − h_a)·units_a·(p_a − p) of slack (the line itself falls with the value, which only
 * helps), so giving each held asset the share value_a / V of the slack yields
 *
 *     trigger_a = p_a · (1 − safety · s / ((1 − h_a) · V))
 *
 * and while every held asset stays above its trigger the account cannot have crossed the line (summing the
 * shares gives at most safety · s). Volatility-driven margin changes and interest are not in the bound: the
 * keeper re-reads every account periodically, and the engine's view read at the block is always the authority.
 */
export enum State {
  Healthy = 0,
  Warning = 1,
  MarginCall = 2,
  Liquidatable = 3,
  Defaulted = 4,
}

export const STATE_NAMES = ["Healthy", "Warning", "MarginCall", "Liquidatable", "Defaulted"] as const;

const WAD = 10n ** 18n;

/** What one read of the engine says about an account. */
export interface AccountSnapshot {
  account: string;
  state: State;
  equity: bigint;
  positionValue: bigint;
  maintenanceReq: bigint;
  warningLine: bigint;
  hardLine: bigint;
  callDeadline: number;
  pricesSafe: boolean;
  /** Held securities: asset → (current router price, haircut 18 dec). */
  held: Map<string, { price: bigint; haircut: bigint }>;
}

interface Entry {
  snapshot: AccountSnapshot;
  /** asset → trigger price (18 dec); absent when the account has no line below it. */
  triggers: Map<string, bigint>;
}

export class AccountIndex {
  private readonly entries = new Map<string, Entry>();
  /** asset → entries sorted ascending by trigger price. */
  private readonly byAsset = new Map<string, { price: bigint; account: string }[]>();

  constructor(private readonly safetyWad: bigint = (9n * WAD) / 10n) {}

  get size(): number {
    return this.entries.size;
  }

  accounts(): string[] {
    return [...this.entries.keys()];
  }

  get(account: string): AccountSnapshot | undefined {
    return this.entries.get(account.toLowerCase())?.snapshot;
  }

  countByState(): Record<(typeof STATE_NAMES)[number], number> {
    const out = { Healthy: 0, Warning: 0, MarginCall: 0, Liquidatable: 0, Defaulted: 0 };
    for (const e of this.entries.values()) out[STATE_NAMES[e.snapshot.state]]++;
    return out;
  }

  /** Accounts not Healthy (they are re-checked on every round of an asset they hold: cures, deadlines). */
  troubled(asset?: string): string[] {
    const out: string[] = [];
    for (const [a, e] of this.entries)
      if (e.snapshot.state !== State.Healthy && (!asset || e.snapshot.held.has(asset.toLowerCase()))) out.push(a);
    return out;
  }

  /** Replaces an account's entry with a fresh engine read. */
  update(s: AccountSnapshot): void {
    const account = s.account.toLowerCase();
    this.remove(account);
    const triggers = new Map<string, bigint>();
    const line = s.state === State.Healthy ? s.warningLine : s.state === State.Warning ? s.maintenanceReq : s.hardLine;
    const slack = s.equity - BigInt(line);
    if (s.state <= State.MarginCall && s.positionValue > 0n && slack > 0n) {
      for (const [asset, { price, haircut }] of s.held) {
        const keep = WAD - haircut;
        if (keep <= 0n) continue;
        // drop = safety · s / ((1 − h) · V), as an 18-decimal fraction of the price
        const drop = (this.safetyWad * slack * WAD) / (keep * s.positionValue);
        const trigger = drop >= WAD ? 0n : (price * (WAD - drop)) / WAD;
        triggers.set(asset, trigger);
        this.insertSorted(asset, trigger, account);
      }
    }
    this.entries.set(account, { snapshot: { ...s, account }, triggers });
  }

  remove(account: string): void {
    const e = this.entries.get(account);
    if (!e) return;
    for (const [asset, trigger] of e.triggers) {
      const list = this.byAsset.get(asset)!;
      let i = lowerBound(list, trigger);
      while (i < list.length && list[i].price === trigger && list[i].account !== account) i++;
      if (i < list.length && list[i].account === account) list.splice(i, 1);
    }
    this.entries.delete(account);
  }

  /**
   * The account's figures at a new price of `asset`, when the account holds that one security only (its value,
   * lines and haircut-weighted equity move in proportion: V' = V·p'/p, equity' = equity − (1 − h)·(V − V'),
   * maintenance' and hard line' scaled by p'/p), with the state those figures give: Liquidatable below the hard
   * line, otherwise the last state read. undefined for other accounts (they are re-read). A prediction only chooses
   * what to send: the engine re-values every account of a batch and skips those it may not liquidate.
   */
  predict(account: string, asset: string, price: bigint): AccountSnapshot | undefined {
    const s = this.entries.get(account.toLowerCase())?.snapshot;
    const a = asset.toLowerCase();
    const held = s?.held.get(a);
    if (!s || !held || s.held.size !== 1 || held.price <= 0n || s.positionValue <= 0n) return undefined;
    const value = (s.positionValue * price) / held.price;
    const equity = s.equity - ((WAD - held.haircut) * (s.positionValue - value)) / WAD;
    const scale = (x: bigint): bigint => (x * price) / held.price;
    const hardLine = scale(s.hardLine);
    return {
      ...s,
      positionValue: value,
      equity,
      maintenanceReq: scale(s.maintenanceReq),
      warningLine: scale(s.warningLine),
      hardLine,
      state: equity < hardLine ? (s.state > State.Liquidatable ? s.state : State.Liquidatable) : s.state,
      held: new Map([[a, { ...held, price }]]),
    };
  }

  /** Accounts whose trigger on `asset` is at or above `price`: the only healthy-side accounts a fall can affect. */
  affectedBy(asset: string, price: bigint): string[] {
    const list = this.byAsset.get(asset.toLowerCase());
    if (!list) return [];
    const out: string[] = [];
    for (let i = lowerBound(list, price); i < list.length; i++) out.push(list[i].account);
    return out;
  }

  private insertSorted(asset: string, price: bigint, account: string): void {
    let list = this.byAsset.get(asset);
    if (!list) this.byAsset.set(asset, (list = []));
    list.splice(lowerBound(list, price), 0, { price, account });
  }
}

function lowerBound(list: { price: bigint }[], price: bigint): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].price < price) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
