import { AppError } from "../shared/errors";
import type { AccountReview, Store } from "../store";
import { STANDARD_TIER, setTier, type ReasonCode } from "./behaviourTiers";

const WAD = 10n ** 18n;

/** Why an account is in the review queue. */
export const REVIEW_REASONS = ["leverage", "margin_calls", "losses", "group_self_trade"] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];

/** The behaviour registry's reason code a lowered tier is recorded with, per review reason. */
const TIER_REASON: Record<ReviewReason, ReasonCode> = {
  leverage: "LEVERAGE_SPIKE",
  margin_calls: "MANUAL_REVIEW",
  losses: "MANUAL_REVIEW",
  group_self_trade: "LINKED_ACCOUNTS",
};

/** The review thresholds (config.linkedAccounts; README "Linked accounts and review queues"). */
export interface ReviewThresholds {
  /** ms: margin calls are counted, and losses measured, over this window. */
  windowMs: number;
  /** Position value / equity, 18 decimals. */
  leverageUsage: bigint;
  marginCalls: number;
  /** Equity lost since the window's mark, 18-decimal share of the mark. */
  lossShare: bigint;
}

/** One account as the keeper's last chain read valued it (cash base units). */
export interface AccountFigures {
  account: string;
  equity: bigint;
  positionValue: bigint;
}

/**
 * The review job: puts in front of a risk officer every account whose leverage used, margin calls within the window
 * or equity lost since the window's mark cross their thresholds. Reads what the service already has: the keeper's
 * valuation of every indexed account (chain reads) and the margin calls it recorded (store). An account with a
 * review open for a reason is not queued again for it. Returns the reviews opened.
 */
export async function runReviews(
  store: Store,
  accounts: readonly AccountFigures[],
  t: ReviewThresholds,
  now = Date.now(),
): Promise<number> {
  let opened = 0;
  const open = (account: string, reason: ReviewReason, figure: bigint, threshold: bigint, evidence: object) =>
    store.groups
      .openReview({ account, reason, figure, threshold, evidence: JSON.stringify(evidence), openedAt: now })
      .then((ok) => void (opened += ok ? 1 : 0));
  const since = now - t.windowMs;
  for (const [account, count] of await store.groups.marginCallCounts(since))
    if (count >= t.marginCalls)
      await open(account, "margin_calls", BigInt(count), BigInt(t.marginCalls), { since, window: t.windowMs });
  for (const a of accounts) {
    const account = a.account.toLowerCase();
    if (a.positionValue > 0n) {
      // no equity left under a position: past any leverage
      const used = a.equity > 0n ? (a.positionValue * WAD) / a.equity : a.positionValue * WAD;
      if (used >= t.leverageUsage)
        await open(account, "leverage", used, t.leverageUsage, {
          equity: a.equity.toString(),
          positionValue: a.positionValue.toString(),
        });
    }
    const mark = await store.groups.mark(account);
    if (mark === undefined || mark.markedAt <= since) {
      await store.groups.setMark(account, a.equity, now);
      continue;
    }
    const lost = mark.equity - a.equity;
    if (mark.equity > 0n && lost > 0n && lost * WAD >= t.lossShare * mark.equity)
      await open(account, "losses", (lost * WAD) / mark.equity, t.lossShare, {
        markedEquity: mark.equity.toString(),
        markedAt: mark.markedAt,
        equity: a.equity.toString(),
      });
  }
  return opened;
}

/** A trade between two members of one linked-account group (self-trade set to "flag"): the taker is reviewed. */
export async function openGroupTradeReview(
  store: Store,
  t: { tradeId: string; group: string; taker: string; maker: string; instrument: string },
): Promise<void> {
  await store.groups.openReview({
    account: t.taker,
    reason: "group_self_trade",
    figure: 1n,
    threshold: 1n,
    evidence: JSON.stringify(t),
    openedAt: Date.now(),
  });
}

export interface ReviewDecision {
  id: number;
  action: "lower-tier" | "dismiss";
  /** lower-tier: the behaviour tier to set (a configured tier other than standard). */
  tier?: string;
  note: string;
  expectedVersion: number;
  actor: string;
}

/**
 * A risk officer's decision on an open review, compare-and-swap on its version (two officers at once: one lands,
 * the other is answered 409 with the review as it now is). `lower-tier` sets the account's behaviour tier in the
 * same transaction (the registry pre-trade risk reads on the next order), with the review as its reason.
 */
export async function decideReview(store: Store, tiers: readonly string[], d: ReviewDecision): Promise<AccountReview> {
  if (d.action === "lower-tier" && (d.tier === undefined || d.tier === STANDARD_TIER || !tiers.includes(d.tier)))
    throw new AppError(
      "VALIDATION_FAILED",
      `tier: lower-tier needs one of ${tiers.filter((x) => x !== STANDARD_TIER).join(", ")}`,
      { details: { field: "tier", tier: d.tier ?? null } },
    );
  const now = Date.now();
  return store.transaction(async (tx) => {
    const r = await tx.groups.review(d.id);
    if (r === undefined) throw new AppError("NOT_FOUND", "no such review", { details: { id: d.id } });
    const decided = await tx.groups.decide(d.id, d.expectedVersion, {
      status: d.action === "dismiss" ? "dismissed" : "lowered",
      action: d.action,
      tier: d.action === "dismiss" ? null : d.tier!,
      note: d.note,
      by: d.actor,
      at: now,
    });
    if (!decided)
      throw new AppError("CONFLICT", "the review was decided or changed meanwhile: read it again", {
        details: { current: reviewJson((await tx.groups.review(d.id))!) },
      });
    // the transaction's repositories join it when setTier opens its own (txRepositories)
    if (d.action === "lower-tier")
      await setTier(
        tx as Store,
        tiers,
        {
          account: r.account,
          tier: d.tier!,
          reasonCode: TIER_REASON[r.reason as ReviewReason] ?? "MANUAL_REVIEW",
          note: `review ${r.id} (${r.reason}): ${d.note}`,
          actor: d.actor,
        },
        now,
      );
    return (await tx.groups.review(d.id))!;
  });
}

/** A review as the API answers it (amounts and ratios as decimal strings). */
export function reviewJson(r: AccountReview) {
  return {
    ...r,
    figure: r.figure.toString(),
    threshold: r.threshold.toString(),
    evidence: JSON.parse(r.evidence) as Record<string, unknown>,
  };
}
