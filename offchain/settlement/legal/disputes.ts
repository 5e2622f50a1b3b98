import { randomUUID } from "node:crypto";
import { buildEvidenceBundle, redactEvidenceBundle, type EvidenceBundle, type EvidenceItem } from "./evidence";
import { LegalError } from "./errors";
import type { Actor, Dispute, DisputeOutcome, DisputeStatus, DisputeSubject, LegalStore } from "./port";

export type { Actor, Dispute, DisputeOutcome, DisputeStatus, DisputeSubject } from "./port";

/** Where the evidence comes from: the store and chain indexer implement it (orders, trades, rounds, audit log). */
export interface EvidenceSource {
  collect(subject: DisputeSubject): Promise<EvidenceItem[]>;
  /**
   * The accounts that are parties to the subject (a trade: its buyer and seller; a statement or a liquidation:
   * its account), or undefined when the subject is unknown.
   */
  partiesOf(subject: DisputeSubject): Promise<string[] | undefined>;
}

const NEXT: Record<DisputeStatus, DisputeStatus[]> = {
  open: ["evidence-collected", "withdrawn"],
  "evidence-collected": ["evidence-collected", "under-review", "withdrawn"],
  "under-review": ["evidence-collected", "resolved", "withdrawn"],
  resolved: [],
  withdrawn: [],
};

/**
 * Disputes on a trade, a statement or a liquidation. Status moves open → evidence-collected → under-review →
 * resolved, and may be withdrawn by the client who opened it before it is resolved; evidence can be re-collected
 * while under review. Every change is appended to the history with who made it and when. Officers collect
 * evidence, review and decide; clients open disputes on their own accounts only and may withdraw their own.
 */
export class DisputeService {
  constructor(
    private readonly store: LegalStore,
    private readonly evidence: EvidenceSource,
    private readonly now: () => Date = () => new Date(),
    private readonly newId: () => string = () => `D-${randomUUID()}`,
  ) {}

  /**
   * Opens a dispute. A client disputes only a subject it is a party to, under its own account (an unknown subject
   * and another pair's trade look the same to it: not found). An officer may open one for any party of a known
   * subject, or on a subject the store does not know (yet).
   */
  async open(by: Actor, subject: DisputeSubject, reason: string): Promise<Dispute> {
    if (by.role === "client" && by.id.toLowerCase() !== subject.account.toLowerCase()) {
      throw new LegalError("LEGAL_FORBIDDEN", "a client may only dispute its own account", {
        account: subject.account,
      });
    }
    if (!reason.trim()) throw new LegalError("LEGAL_INVALID_INPUT", "a dispute needs a reason");
    const parties = (await this.evidence.partiesOf(subject))?.map((p) => p.toLowerCase());
    const isParty = parties?.includes(subject.account.toLowerCase()) ?? false;
    if (by.role === "client" && !isParty)
      throw new LegalError("LEGAL_NOT_FOUND", `no ${subject.kind} ${subject.ref} of this account`, {
        kind: subject.kind,
        ref: subject.ref,
      });
    if (parties && !isParty)
      throw new LegalError("LEGAL_INVALID_INPUT", `the account is not a party to ${subject.kind} ${subject.ref}`, {
        account: subject.account,
      });
    const at = this.now().toISOString();
    const d: Dispute = {
      id: this.newId(),
      subject,
      openedBy: by,
      reason,
      status: "open",
      history: [{ at, status: "open", by, note: reason }],
      revision: 0,
    };
    await this.store.insertDispute(d);
    return d;
  }

  /** Assembles and stores the evidence bundle (officer). Returns it; its root is kept on the dispute. */
  async collectEvidence(by: Actor, disputeId: string): Promise<EvidenceBundle> {
    this.officerOnly(by);
    const d = await this.get(disputeId);
    this.assertTransition(d, "evidence-collected");
    const at = this.now().toISOString();
    const bundle = buildEvidenceBundle({
      disputeId,
      subject: { kind: d.subject.kind, ref: d.subject.ref },
      createdAt: at,
      items: await this.evidence.collect(d.subject),
    });
    await this.store.putEvidenceBundle(disputeId, bundle);
    await this.transition(d, "evidence-collected", by, `${bundle.items.length} items, root ${bundle.manifest.root}`, {
      evidence: { root: bundle.manifest.root, items: bundle.items.length, collectedAt: at },
    });
    return bundle;
  }

  async startReview(by: Actor, disputeId: string, note = "review started"): Promise<Dispute> {
    this.officerOnly(by);
    return this.transition(await this.get(disputeId), "under-review", by, note);
  }

  async resolve(by: Actor, disputeId: string, outcome: DisputeOutcome): Promise<Dispute> {
    this.officerOnly(by);
    if (outcome.adjustment < 0n || (outcome.decision === "rejected" && outcome.adjustment !== 0n)) {
      throw new LegalError("LEGAL_INVALID_INPUT", "adjustment must be >= 0, and 0 when rejected");
    }
    const d = await this.get(disputeId);
    const at = this.now().toISOString();
    return this.transition(d, "resolved", by, `${outcome.decision}: ${outcome.summary}`, {
      outcome: { ...outcome, decidedBy: by, decidedAt: at },
    });
  }

  async withdraw(by: Actor, disputeId: string, note = "withdrawn"): Promise<Dispute> {
    const d = await this.get(disputeId);
    if (by.role === "client" && (d.openedBy.role !== "client" || d.openedBy.id.toLowerCase() !== by.id.toLowerCase())) {
      throw new LegalError("LEGAL_FORBIDDEN", "only the client who opened a dispute may withdraw it", { disputeId });
    }
    return this.transition(d, "withdrawn", by, note);
  }

  /**
   * The dispute's evidence bundle as the actor may see it: officers the whole bundle, the client of the dispute
   * its own side (items with another account's data are redacted; the manifest still commits to them).
   */
  async evidenceFor(by: Actor, disputeId: string): Promise<EvidenceBundle | undefined> {
    const d = await this.view(by, disputeId);
    const bundle = await this.store.getEvidenceBundle(d.id);
    if (!bundle || by.role !== "client") return bundle;
    return redactEvidenceBundle(bundle, by.id);
  }

  /** A dispute as the given actor may see it: clients see their own accounts' disputes only. */
  async view(by: Actor, disputeId: string): Promise<Dispute> {
    const d = await this.get(disputeId);
    if (by.role === "client" && by.id.toLowerCase() !== d.subject.account.toLowerCase()) {
      throw new LegalError("LEGAL_FORBIDDEN", "not your dispute", { disputeId });
    }
    return d;
  }

  private async get(id: string): Promise<Dispute> {
    const d = await this.store.getDispute(id);
    if (!d) throw new LegalError("LEGAL_NOT_FOUND", "no such dispute", { disputeId: id });
    return d;
  }

  private officerOnly(by: Actor): void {
    if (by.role !== "officer") throw new LegalError("LEGAL_FORBIDDEN", "officers only", { role: by.role });
  }

  private assertTransition(d: Dispute, to: DisputeStatus): void {
    if (!NEXT[d.status].includes(to)) {
      throw new LegalError("LEGAL_BAD_TRANSITION", `cannot go from ${d.status} to ${to}`, { disputeId: d.id });
    }
  }

  private async transition(
    d: Dispute,
    to: DisputeStatus,
    by: Actor,
    note: string,
    patch: Partial<Dispute> = {},
  ): Promise<Dispute> {
    this.assertTransition(d, to);
    const next: Dispute = {
      ...d,
      ...patch,
      status: to,
      history: [...d.history, { at: this.now().toISOString(), status: to, by, note }],
    };
    await this.store.updateDispute(next, d.revision);
    return { ...next, revision: d.revision + 1 };
  }
}
