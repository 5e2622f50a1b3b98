import { AppError } from "../shared/errors";
import type { AlertKind, AlertRecord, CaseNote, CaseRecord, CaseStatus, NewAlert, Repositories, Store } from "../store";
import { setTier, type ReasonCode } from "./behaviourTiers";
import type { Finding, RuleSwitches } from "./rules";

/** Who decides an alert raised by a rule set to act automatically. */
export const SYSTEM_ACTOR = "system:surveillance";

/** The de-duplication key: one alert per rule, instrument, account and window (and counterparty key, if any). */
export function dedupeKey(f: Pick<Finding, "rule" | "instrument" | "account" | "windowStart" | "key">): string {
  return [f.rule, f.instrument, f.account.toLowerCase(), f.windowStart, ...(f.key ? [f.key] : [])].join(":");
}

/**
 * Stores a finding as an alert (once per key) and, when its rule acts automatically and the alert is still open,
 * accepts it at once: the proposed tier is set through the behaviour registry, decided by SYSTEM_ACTOR. A re-run
 * over the same window changes nothing. AML and sanctions alerts open their case file with it.
 */
export async function raiseAlert(
  store: Store,
  tiers: readonly string[],
  a: NewAlert,
  switches: Pick<RuleSwitches, "autoAct">,
  now = Date.now(),
): Promise<{ alert: AlertRecord; created: boolean }> {
  const raised = await store.transaction(async (tx) => {
    const r = await tx.alerts.raise(a, now);
    if (a.kind !== "order-flow") await tx.alerts.openCase(r.alert.id, r.alert.account, now);
    return r;
  });
  if (!switches.autoAct || raised.alert.status !== "open") return raised;
  const decided = await decideAlert(store, tiers, {
    id: raised.alert.id,
    action: "accept",
    note: `rule ${a.rule} is set to act automatically`,
    expectedVersion: raised.alert.version,
    actor: SYSTEM_ACTOR,
  }).catch((err: unknown) => {
    // another run accepted it meanwhile: the alert is decided either way
    if (err instanceof AppError && err.code === "CONFLICT") return undefined;
    throw err;
  });
  return { alert: decided ?? raised.alert, created: raised.created };
}

/** A finding of the order-flow rules as the alert it raises. */
export function flowAlert(f: Finding, s: RuleSwitches, kind: AlertKind = "order-flow"): NewAlert {
  return {
    dedupeKey: dedupeKey(f),
    kind,
    rule: f.rule,
    account: f.account,
    instrument: f.instrument,
    windowStart: f.windowStart,
    windowEnd: f.windowEnd,
    reasonCode: f.reasonCode,
    proposedTier: s.tier,
    summary: f.summary,
    evidence: f.evidence,
    amount: null,
  };
}

export interface AlertDecision {
  id: number;
  action: "accept" | "dismiss";
  note: string;
  /** accept: the tier to set (default: the one the alert proposes) and until when (Unix ms). */
  tier?: string;
  until?: number;
  /** The alert's version the officer read (compare-and-swap). */
  expectedVersion: number;
  actor: string;
}

/**
 * Accepts or dismisses an open alert, compare-and-swap on its version: two officers deciding at once, one wins and
 * the other is told (409) with the alert as it is now. Accepting sets the account's behaviour tier through the
 * registry in the same transaction (a tier the registry refuses leaves the alert open).
 */
export async function decideAlert(
  store: Store,
  tiers: readonly string[],
  d: AlertDecision,
  now = Date.now(),
): Promise<AlertRecord> {
  return store.transaction(async (tx) => {
    const a = await tx.alerts.get(d.id);
    if (a === undefined) throw new AppError("NOT_FOUND", `no alert ${d.id}`, { details: { id: d.id } });
    const status = d.action === "accept" ? "accepted" : "dismissed";
    if (!(await tx.alerts.decide(d.id, d.expectedVersion, { status, by: d.actor, note: d.note, at: now })))
      throw new AppError("CONFLICT", "the alert was decided or changed meanwhile: read it again", {
        details: { current: await tx.alerts.get(d.id) },
      });
    if (d.action === "accept")
      await setTier(
        { transaction: (fn) => fn(tx) },
        tiers,
        {
          account: a.account,
          tier: d.tier ?? a.proposedTier,
          reasonCode: a.reasonCode as ReasonCode,
          note: `alert ${a.id} (${a.rule}): ${d.note}`,
          until: d.until,
          actor: d.actor,
        },
        now,
      );
    return (await tx.alerts.get(d.id))!;
  });
}

/**
 * Appends a note to a case file, optionally moving its status, compare-and-swap on the case's version; the case
 * and its notes after it.
 */
export async function addCaseNote(
  store: Store,
  c: { caseId: number; note: string; status?: CaseStatus; expectedVersion: number; actor: string },
  now = Date.now(),
): Promise<{ case: CaseRecord; notes: CaseNote[] }> {
  return store.transaction(async (tx: Repositories) => {
    const current = await tx.alerts.case(c.caseId);
    if (current === undefined) throw new AppError("NOT_FOUND", `no case ${c.caseId}`, { details: { id: c.caseId } });
    const status = c.status ?? current.status;
    if (!(await tx.alerts.updateCase(c.caseId, c.expectedVersion, status, now)))
      throw new AppError("CONFLICT", "the case changed meanwhile: read it again", { details: { current } });
    await tx.alerts.addNote({ caseId: c.caseId, author: c.actor, note: c.note, status, at: now });
    return { case: (await tx.alerts.case(c.caseId))!, notes: await tx.alerts.notes(c.caseId) };
  });
}
