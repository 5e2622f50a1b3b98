import { randomUUID } from "node:crypto";
import { AppError } from "../shared/errors";
import type { AccountReview, Repositories, Store } from "../store";
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

/** The KYC writer's slice a review uses to lower an account's KYC tier (chain/kycRegistryWriter, the officer's key). */
export interface KycTierWriter {
  identityOf(account: string): Promise<{
    registered: boolean;
    revoked: boolean;
    tier: number;
    jurisdiction: number;
    expiresAt: number;
    identityHash: string;
  }>;
  setIdentity(
    account: string,
    tier: number,
    jurisdiction: number,
    expiresAt: number,
    identityHash: string,
  ): Promise<{ txHash: string }>;
  tierLeverage(tier: number): Promise<bigint>;
}

export interface ReviewDecision {
  id: number;
  action: "lower-tier" | "dismiss";
  /** lower-tier: the behaviour tier to set (a configured tier other than standard). */
  tier?: string;
  /** lower-tier: also lower the account's KYC tier on KycRegistry to this one (below its current tier). */
  kycTier?: number;
  note: string;
  expectedVersion: number;
  actor: string;
}

/**
 * A risk officer's decision on an open review, compare-and-swap on its version (two officers at once: one lands,
 * the other is answered 409 with the review as it now is). `lower-tier` sets the account's behaviour tier in the
 * same transaction (the registry pre-trade risk reads on the next order), with the review as its reason.
 */
export async function decideReview(
  store: Store,
  tiers: readonly string[],
  d: ReviewDecision,
  kyc?: { writer: KycTierWriter | undefined; claimTtlMs: number },
): Promise<AccountReview> {
  if (d.action === "lower-tier" && (d.tier === undefined || d.tier === STANDARD_TIER || !tiers.includes(d.tier)))
    throw new AppError(
      "VALIDATION_FAILED",
      `tier: lower-tier needs one of ${tiers.filter((x) => x !== STANDARD_TIER).join(", ")}`,
      { details: { field: "tier", tier: d.tier ?? null } },
    );
  if (d.kycTier === undefined) return store.transaction((tx) => decideIn(tx, tiers, d));
  if (d.action !== "lower-tier")
    throw new AppError("VALIDATION_FAILED", "kycTier: only with lower-tier", { details: { field: "kycTier" } });
  return lowerOnChain(store, tiers, d, kyc);
}

/**
 * lower-tier with the KYC tier: KycRegistry.setIdentity(account, kycTier, its jurisdiction, expiry and identity hash)
 * with the KYC officer's key. Claim first: the decision, the behaviour tier and the account's KycRegistry claim
 * (kyc_chain_claims, op lower-tier: one writer per account) in one transaction, then the write. A write the chain
 * refused leaves the decision and the behaviour tier (valid on their own), lets the claim go and records why; an
 * unknown outcome keeps the claim for the KYC reconciliation job.
 */
async function lowerOnChain(
  store: Store,
  tiers: readonly string[],
  d: ReviewDecision,
  kyc: { writer: KycTierWriter | undefined; claimTtlMs: number } | undefined,
): Promise<AccountReview> {
  const writer = kyc?.writer;
  if (writer === undefined)
    throw new AppError(
      "CONFLICT",
      "this service holds no KYC officer key: lower the KYC tier through the KYC officer",
      {
        details: { field: "kycTier" },
      },
    );
  const review = await store.groups.review(d.id);
  if (review === undefined) throw new AppError("NOT_FOUND", "no such review", { details: { id: d.id } });
  const identity = await writer.identityOf(review.account);
  if (!identity.registered || identity.revoked)
    throw new AppError("CONFLICT", "the account has no live identity on KycRegistry", {
      details: { field: "kycTier" },
    });
  if (d.kycTier! >= identity.tier)
    throw new AppError("VALIDATION_FAILED", `kycTier: must be below the account's KYC tier ${identity.tier}`, {
      details: { field: "kycTier", current: identity.tier },
    });
  const owner = `review-${randomUUID()}`;
  const now = Date.now();
  await store.transaction(async (tx) => {
    await decideIn(tx, tiers, d);
    const claimed = await tx.kyc.claimAccount({
      account: review.account,
      owner,
      op: "lower-tier",
      applicationId: null,
      fromStatus: null,
      detail: { reviewId: d.id, tier: d.kycTier!, actor: d.actor },
      until: now + kyc!.claimTtlMs,
      createdAt: now,
    });
    if (!claimed)
      throw new AppError("CONFLICT", "another KycRegistry write for this account is in progress", {
        details: { account: review.account },
      });
  });
  let txHash: string;
  try {
    ({ txHash } = await writer.setIdentity(
      review.account,
      d.kycTier!,
      identity.jurisdiction,
      identity.expiresAt,
      identity.identityHash,
    ));
  } catch (err) {
    // nothing reached the chain: the claim goes, the review says why; otherwise reconciliation lets the claim go
    if (err instanceof AppError && err.details.effect === "none") {
      await store.groups.setKycResult(d.id, { tier: d.kycTier!, tx: null, error: err.message });
      await store.kyc.releaseClaim(review.account, owner);
    }
    throw err;
  }
  const maxLeverage = await writer.tierLeverage(d.kycTier!).catch(() => undefined);
  await store.transaction(async (tx) => {
    await tx.groups.setKycResult(d.id, { tier: d.kycTier!, tx: txHash, error: null });
    // the approved application records the tier and leverage the chain now grants
    const approved = (await tx.kyc.list({ account: review.account, status: "approved", limit: 10 }))[0];
    if (approved !== undefined && maxLeverage !== undefined)
      await tx.kyc.setAssessment(approved.id, d.kycTier!, maxLeverage);
    await tx.kyc.releaseClaim(review.account, owner);
  });
  return (await store.groups.review(d.id))!;
}

/**
 * The decision inside the caller's transaction `tx` (the repositories store.transaction hands out, which join it when
 * setTier opens its own): compare-and-swap on the review, then the behaviour tier.
 */
async function decideIn(tx: Repositories, tiers: readonly string[], d: ReviewDecision): Promise<AccountReview> {
  const now = Date.now();
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
