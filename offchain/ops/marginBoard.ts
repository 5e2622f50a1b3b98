import type { AccountValuation } from "../chain/batchRead";
import { AppError } from "../shared/errors";
import type { LiquidationIntent, Notification, Override } from "../store";
import type { OpsDeps } from "./ports";

/** IMarginEngine.AccountState by index. */
export const ACCOUNT_STATES = ["Healthy", "Warning", "MarginCall", "Liquidatable", "Defaulted"] as const;
export type AccountStateName = (typeof ACCOUNT_STATES)[number];
/** The engine's events that name the account they move (the keeper watches the same). */
const ACCOUNT_ARGS = ["account", "buyer", "seller", "from", "to"];

export interface BoardRow {
  account: string;
  state: AccountStateName;
  equity: bigint;
  positionValue: bigint;
  maintenanceReq: bigint;
  warningLine: bigint;
  pricesSafe: boolean;
  /** The margin call's deadline (unix seconds, chain time); null without a live call. */
  deadline: number | null;
  /** Cash (base units) that restores the line the account is below: maintenance in a call, the warning line in a warning. */
  amountToCure: bigint | null;
  lastIntent: LiquidationIntent | null;
  lastNotice: Notification | null;
  overrides: Override[];
}

export interface MarginBoard {
  block: number;
  chainTime: number;
  counts: Record<AccountStateName, number>;
  rows: BoardRow[];
  overrides: Override[];
}

function amountToCure(v: AccountValuation): bigint | null {
  const state = ACCOUNT_STATES[v.state];
  const line =
    state === "Warning" ? v.warningLine : state === "MarginCall" || state === "Liquidatable" ? v.maintenanceReq : null;
  return line === null ? null : line > v.equity ? line - v.equity : 0n;
}

/** Every account the engine's indexed events name (deposits, borrowing, trades, transfers…). */
async function knownAccounts(deps: OpsDeps): Promise<string[]> {
  const events = await deps.store.chain.events("main", { contract: "MarginEngine" });
  const out = new Set<string>();
  for (const e of events)
    for (const name of ACCOUNT_ARGS) {
      const v = e.args[name];
      if (typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v)) out.add(v.toLowerCase());
    }
  return [...out];
}

/** The rank a row is listed by: the worst state first, then the nearest deadline. */
const rank = (r: BoardRow): [number, number] => [
  -ACCOUNT_STATES.indexOf(r.state),
  r.deadline ?? Number.MAX_SAFE_INTEGER,
];

/**
 * Use case: the margin-call board. Every account the indexer has seen, valued at one block with the engine's own
 * view (the batch lens); per account its state, deadline and amount to cure, the keeper's last liquidation intent
 * and last notice from the store, and the overrides that hold it (its own, or one of an asset it holds). Healthy
 * accounts without a position are counted, not listed.
 */
export async function readMarginBoard(
  deps: OpsDeps,
  filter: { state?: AccountStateName; limit: number },
): Promise<MarginBoard> {
  if (!deps.chain) throw new AppError("CHAIN_UNAVAILABLE", "no deployment: the margin board reads the chain");
  const { ops, deployment } = deps.chain;
  const assets = deployment.tokens.filter((t) => t.kind === "security").map((t) => t.address);
  const [accounts, time, overrides] = await Promise.all([
    knownAccounts(deps),
    ops.chainTime(),
    deps.store.keeper.overrides(),
  ]);
  const values = await ops.valueAccounts(accounts, assets, deps.settings.lensChunk);
  const counts = Object.fromEntries(ACCOUNT_STATES.map((s) => [s, 0])) as Record<AccountStateName, number>;
  for (const v of values) counts[ACCOUNT_STATES[v.state]]++;
  const listed = values
    .filter((v) => v.state !== 0 || v.positionValue > 0n)
    .filter((v) => !filter.state || ACCOUNT_STATES[v.state] === filter.state);
  const rows = await Promise.all(
    listed.map(async (v): Promise<BoardRow> => {
      const [lastIntent, [lastNotice]] = await Promise.all([
        deps.store.keeper.lastEpoch(v.account),
        deps.store.keeper.notifications({ account: v.account, limit: 1 }),
      ]);
      const held = new Set(v.balances.keys());
      return {
        account: v.account,
        state: ACCOUNT_STATES[v.state],
        equity: v.equity,
        positionValue: v.positionValue,
        maintenanceReq: v.maintenanceReq,
        warningLine: v.warningLine,
        pricesSafe: v.pricesSafe,
        deadline: v.callDeadline > 0 ? v.callDeadline : null,
        amountToCure: amountToCure(v),
        lastIntent: lastIntent ?? null,
        lastNotice: lastNotice ?? null,
        overrides: overrides.filter(
          (o) => o.target.toLowerCase() === v.account || (o.scope === "asset" && held.has(o.target.toLowerCase())),
        ),
      };
    }),
  );
  rows.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || a.account.localeCompare(b.account);
  });
  return { block: time.block, chainTime: time.timestamp, counts, rows: rows.slice(0, filter.limit), overrides };
}
