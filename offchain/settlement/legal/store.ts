import type { EvidenceBundle } from "./evidence";
import { LegalError } from "./errors";
import type {
  AgreementRecord,
  AmendmentRecord,
  Dispute,
  LegalStore,
  StoredPaymentMessage,
  StoredStatement,
} from "./port";

export type { AgreementRecord, AmendmentRecord, LegalStore, StoredPaymentMessage, StoredStatement } from "./port";

/** In-process LegalStore (structured clones on the way in and out, so callers cannot mutate stored state). */
export class MemoryLegalStore implements LegalStore {
  private readonly agreements = new Map<string, AgreementRecord>();
  private readonly statements = new Map<string, StoredStatement>();
  private readonly disputes = new Map<string, Dispute>();
  private readonly bundles = new Map<string, EvidenceBundle>();
  private readonly payments = new Map<string, StoredPaymentMessage>();
  private readonly amendments = new Map<string, AmendmentRecord>();

  async insertAgreement(rec: AgreementRecord): Promise<void> {
    const id = rec.document.terms.agreementId;
    if (this.agreements.has(id)) throw new LegalError("LEGAL_CONFLICT", "agreement exists", { agreementId: id });
    this.agreements.set(id, structuredClone(rec));
  }
  async getAgreement(agreementId: string): Promise<AgreementRecord | undefined> {
    const r = this.agreements.get(agreementId);
    return r && structuredClone(r);
  }
  async updateAgreement(rec: AgreementRecord, expectedRevision: number): Promise<void> {
    const id = rec.document.terms.agreementId;
    const cur = this.agreements.get(id);
    if (!cur) throw new LegalError("LEGAL_NOT_FOUND", "no such agreement", { agreementId: id });
    if (cur.revision !== expectedRevision)
      throw new LegalError("LEGAL_CONFLICT", "agreement changed meanwhile", { agreementId: id });
    this.agreements.set(id, structuredClone({ ...rec, revision: expectedRevision + 1 }));
  }
  async listAgreementsOf(party: string): Promise<AgreementRecord[]> {
    const p = party.toLowerCase();
    return [...this.agreements.values()]
      .filter((r) =>
        [r.document.terms.client.address, r.document.terms.platform.address].some((a) => a.toLowerCase() === p),
      )
      .map((r) => structuredClone(r));
  }

  async listAgreementsByStatus(status: AgreementRecord["status"]): Promise<AgreementRecord[]> {
    return [...this.agreements.values()].filter((r) => r.status === status).map((r) => structuredClone(r));
  }

  async insertAmendment(a: AmendmentRecord): Promise<boolean> {
    const taken = [...this.amendments.values()].some(
      (x) => x.id === a.id || (x.agreementId === a.agreementId && x.operationId === a.operationId),
    );
    if (taken) return false;
    this.amendments.set(a.id, structuredClone(a));
    return true;
  }
  async getAmendment(id: string): Promise<AmendmentRecord | undefined> {
    const a = this.amendments.get(id);
    return a && structuredClone(a);
  }
  async updateAmendment(a: AmendmentRecord, expectedRevision: number): Promise<void> {
    const cur = this.amendments.get(a.id);
    if (!cur) throw new LegalError("LEGAL_NOT_FOUND", "no such amendment", { amendmentId: a.id });
    if (cur.revision !== expectedRevision)
      throw new LegalError("LEGAL_CONFLICT", "amendment changed meanwhile", { amendmentId: a.id });
    this.amendments.set(a.id, structuredClone({ ...a, revision: expectedRevision + 1 }));
  }
  async listAmendmentsOf(agreementId: string): Promise<AmendmentRecord[]> {
    return this.sortedAmendments((a) => a.agreementId === agreementId);
  }
  async listAmendments(status?: AmendmentRecord["status"]): Promise<AmendmentRecord[]> {
    return this.sortedAmendments((a) => status === undefined || a.status === status);
  }
  private sortedAmendments(keep: (a: AmendmentRecord) => boolean): AmendmentRecord[] {
    return [...this.amendments.values()]
      .filter(keep)
      .sort((x, y) => x.effectiveAt - y.effectiveAt || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
      .map((a) => structuredClone(a));
  }

  async putStatement(s: StoredStatement): Promise<void> {
    const key = `${s.agreementId}/${s.from}/${s.to}`;
    const cur = this.statements.get(key);
    if (cur && cur.hash !== s.hash)
      throw new LegalError("LEGAL_CONFLICT", "a different statement was issued for this period", { key });
    this.statements.set(key, { ...s });
  }
  async getStatement(agreementId: string, from: string, to: string): Promise<StoredStatement | undefined> {
    const s = this.statements.get(`${agreementId}/${from}/${to}`);
    return s && { ...s };
  }

  async insertDispute(d: Dispute): Promise<void> {
    if (this.disputes.has(d.id)) throw new LegalError("LEGAL_CONFLICT", "dispute exists", { disputeId: d.id });
    this.disputes.set(d.id, structuredClone(d));
  }
  async getDispute(id: string): Promise<Dispute | undefined> {
    const d = this.disputes.get(id);
    return d && structuredClone(d);
  }
  async updateDispute(d: Dispute, expectedRevision: number): Promise<void> {
    const cur = this.disputes.get(d.id);
    if (!cur) throw new LegalError("LEGAL_NOT_FOUND", "no such dispute", { disputeId: d.id });
    if (cur.revision !== expectedRevision)
      throw new LegalError("LEGAL_CONFLICT", "dispute changed meanwhile", { disputeId: d.id });
    this.disputes.set(d.id, structuredClone({ ...d, revision: expectedRevision + 1 }));
  }
  async listDisputes(filter: { account?: string; status?: Dispute["status"] }): Promise<Dispute[]> {
    return [...this.disputes.values()]
      .filter((d) => !filter.account || d.subject.account.toLowerCase() === filter.account.toLowerCase())
      .filter((d) => !filter.status || d.status === filter.status)
      .map((d) => structuredClone(d));
  }
  async putEvidenceBundle(disputeId: string, bundle: EvidenceBundle): Promise<void> {
    this.bundles.set(disputeId, structuredClone(bundle));
  }
  async getEvidenceBundle(disputeId: string): Promise<EvidenceBundle | undefined> {
    const b = this.bundles.get(disputeId);
    return b && structuredClone(b);
  }

  async putPaymentMessage(m: StoredPaymentMessage): Promise<void> {
    if (this.payments.has(m.messageId))
      throw new LegalError("LEGAL_CONFLICT", "payment message id already used", { messageId: m.messageId });
    this.payments.set(m.messageId, { ...m, endToEndIds: [...m.endToEndIds] });
  }
  async getPaymentMessage(messageId: string): Promise<StoredPaymentMessage | undefined> {
    const m = this.payments.get(messageId);
    return m && { ...m, endToEndIds: [...m.endToEndIds] };
  }
}
