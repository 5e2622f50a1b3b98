import { getAddress, isAddress } from "ethers";
import { AppError } from "../shared/errors";
import type { BehaviourTierEvent, BehaviourTierRecord, Store } from "../store";

/** The tier every account has unless a risk officer set another (and after a set tier lapses). */
export const STANDARD_TIER = "standard";

/**
 * Why an account's tier changed: the order-flow and AML findings a risk officer acts on (issue 25), plus a manual
 * review. Stored with every change and shown to the officer; the evidence lives in the case it came from.
 */
export const REASON_CODES = [
  "ORDER_STUFFING",
  "HIGH_CANCEL_RATE",
  "WASH_LIKE_TRADING",
  "LAYERING",
  "PRICE_BAND_PROBING",
  "LINKED_ACCOUNTS",
  "LEVERAGE_SPIKE",
  "AML_REVIEW",
  "SANCTIONS_REVIEW",
  "MANUAL_REVIEW",
  "REVIEW_CLEARED",
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export interface TierChange {
  account: string;
  tier: string;
  reasonCode: ReasonCode;
  note: string;
  /** Unix ms; the tier lapses back to standard after it. */
  until?: number;
  /** The version the officer saw (compare-and-swap); omitted: whatever is current. */
  expectedVersion?: number;
  actor: string;
}

/** The account's tier at `now`: its set tier until it lapses, else standard. */
export async function tierOf(store: Pick<Store, "surveillance">, account: string, now = Date.now()): Promise<string> {
  const r = await store.surveillance.tier(account);
  return r === undefined || (r.until !== null && r.until <= now) ? STANDARD_TIER : r.tier;
}

function address(account: string): string {
  if (!isAddress(account))
    throw new AppError("VALIDATION_FAILED", "account must be an address", { details: { account } });
  return getAddress(account).toLowerCase();
}

/**
 * Sets an account's behaviour tier (a tier of the configured pre-trade limits, not standard: clearing is its own
 * call), with its reason, in one transaction with its history entry. Compare-and-swap on the version: a change
 * made meanwhile answers 409 with the current record, and nothing is written.
 */
export async function setTier(
  store: Pick<Store, "transaction">,
  tiers: readonly string[],
  c: TierChange,
  now = Date.now(),
): Promise<BehaviourTierRecord> {
  const account = address(c.account);
  if (c.tier === STANDARD_TIER || !tiers.includes(c.tier))
    throw new AppError(
      "VALIDATION_FAILED",
      `tier must be one of ${tiers.filter((t) => t !== STANDARD_TIER).join(", ")}`,
      {
        details: { tier: c.tier },
      },
    );
  if (c.until !== undefined && c.until <= now)
    throw new AppError("VALIDATION_FAILED", "until must be in the future", { details: { until: c.until } });
  return store.transaction(async (tx) => {
    const current = await tx.surveillance.lastVersion(account);
    const expected = c.expectedVersion ?? current;
    const next: BehaviourTierRecord = {
      account,
      tier: c.tier,
      reasonCode: c.reasonCode,
      note: c.note,
      setBy: c.actor,
      setAt: now,
      until: c.until ?? null,
      version: expected + 1,
    };
    if (!(await tx.surveillance.putTier(next, expected))) throw await conflict(tx, account);
    await tx.surveillance.appendEvent({ ...next, action: "set", actor: c.actor, at: now });
    return next;
  });
}

/** Clears an account back to standard (CAS like setTier); NOT_FOUND when it has no tier set. */
export async function clearTier(
  store: Store,
  c: { account: string; reasonCode: ReasonCode; note: string; expectedVersion?: number; actor: string },
  now = Date.now(),
): Promise<BehaviourTierEvent> {
  const account = address(c.account);
  return store.transaction(async (tx) => {
    const current = await tx.surveillance.tier(account);
    if (current === undefined)
      throw new AppError("NOT_FOUND", "the account has no behaviour tier set", { details: { account } });
    const expected = c.expectedVersion ?? current.version;
    if (!(await tx.surveillance.deleteTier(account, expected))) throw await conflict(tx, account);
    const e = {
      account,
      action: "clear" as const,
      tier: STANDARD_TIER,
      reasonCode: c.reasonCode,
      note: c.note,
      actor: c.actor,
      at: now,
      until: null,
      version: expected + 1,
    };
    await tx.surveillance.appendEvent(e);
    return { ...e, id: 0 };
  });
}

async function conflict(tx: Pick<Store, "surveillance">, account: string): Promise<AppError> {
  return new AppError("CONFLICT", "the account's tier changed meanwhile: read it again and decide on the current one", {
    details: {
      current: (await tx.surveillance.tier(account)) ?? null,
      version: await tx.surveillance.lastVersion(account),
    },
  });
}
