import { solidityPackedKeccak256, type TypedDataDomain } from "ethers";
import { renderAmendmentText } from "./amendmentText";
import { amendmentMessage, isAmendmentSignedBy } from "./amendmentSignature";
import { termsFromChain } from "./chainTerms";
import { textHash } from "./canonicalJson";
import { LegalError } from "./errors";
import type { AgreementRecord, AmendmentRecord, LegalStore } from "./port";
import { applyScheduledChange, requestFromTerms, termChanges, type ScheduledChange } from "./scheduledChange";

/** A scheduled AccessManager operation as the issuer sees it (readScheduled's row, decoded). */
export interface PendingOperation {
  operationId: string;
  target: string;
  contract: string | null;
  call: { function: string; args: Record<string, string> } | null;
  data: string;
  /** Unix seconds from which it may execute. */
  executableAt: number;
}

/**
 * Called once a client's exit is recorded (status `exited`). The default records only; the service's wiring
 * connects the agreement-end workflow here. It must be idempotent: it is not retried by this module.
 */
export type AmendmentExitHook = (agreementId: string, amendment: AmendmentRecord) => Promise<void>;
export const recordExitOnly: AmendmentExitHook = async () => {};

/** keccak256(agreementId ‖ operationId): the same pair always names the same amendment. */
export function amendmentId(agreementId: string, operationId: string): string {
  return solidityPackedKeccak256(["bytes32", "bytes32"], [agreementId, operationId]);
}

/** Anchored, not closed, not expired at `nowSeconds`, with a schedule read from the chain (what a change can touch). */
export function isLiveAgreement(rec: AgreementRecord, nowSeconds: number): boolean {
  return (
    rec.status === "anchored" && rec.document.terms.schedule !== undefined && rec.document.terms.expiresAt > nowSeconds
  );
}

/**
 * The amendment `op` makes to the agreement, or undefined when it changes none of its terms. The terms in force
 * before it are the signed ones with `earlier` (the changes of the agreement's earlier, not exited, amendments)
 * applied; both sides are rebuilt by termsFromChain, so the diff is exactly what the change moves in the terms.
 */
export function buildAmendment(
  rec: AgreementRecord,
  op: PendingOperation,
  change: ScheduledChange,
  earlier: ScheduledChange[],
  issuedAt: string,
): AmendmentRecord | undefined {
  const signed = rec.document.terms;
  if (!signed.schedule) return undefined;
  const request = requestFromTerms(signed);
  let schedule = signed.schedule;
  for (const c of earlier) schedule = applyScheduledChange(schedule, c) ?? schedule;
  const after = applyScheduledChange(schedule, change);
  if (!after) return undefined;
  let changes;
  try {
    changes = termChanges(termsFromChain(schedule, request), termsFromChain(after, request));
  } catch (err) {
    // The rebuilt terms would be invalid (e.g. a leverage above the new limit): the change still changes them.
    if (!(err instanceof LegalError)) throw err;
    changes = [{ path: "terms", from: "valid", to: err.message }];
  }
  if (changes.length === 0) return undefined;
  const id = amendmentId(signed.agreementId, op.operationId);
  const fn = op.call?.function ?? op.data.slice(0, 10);
  const text = renderAmendmentText({
    amendmentId: id,
    agreementId: signed.agreementId,
    operationId: op.operationId,
    contract: op.contract,
    function: fn,
    effectiveAt: op.executableAt,
    changes,
  });
  return {
    id,
    agreementId: signed.agreementId,
    client: signed.client.address,
    operationId: op.operationId,
    target: op.target,
    contract: op.contract,
    function: fn,
    args: op.call?.args ?? {},
    data: op.data,
    effectiveAt: op.executableAt,
    changes,
    text,
    textHash: textHash(text),
    status: "issued",
    issuedAt,
    revision: 0,
  };
}

/**
 * The client's answers to an amendment, each one compare-and-swap on the record's revision: of a countersignature
 * and an exit sent at once exactly one is recorded, the other is LEGAL_CONFLICT. Nothing is answered at or after
 * `effectiveAt` (the service's clock): the amendment has then lapsed.
 */
export class AmendmentService {
  constructor(
    private readonly store: LegalStore,
    private readonly domain: TypedDataDomain,
    private readonly now: () => Date = () => new Date(),
    private readonly onExit: AmendmentExitHook = recordExitOnly,
  ) {}

  /** Stores a built amendment; false when the pair already had one (a second scan, another instance). */
  issue(a: AmendmentRecord): Promise<boolean> {
    return this.store.insertAmendment(a);
  }

  async countersign(agreementId: string, id: string, client: string, signature: string): Promise<AmendmentRecord> {
    const a = await this.open(agreementId, id, client);
    if (!isAmendmentSignedBy(this.domain, amendmentMessage(a), signature, a.client))
      throw new LegalError("LEGAL_BAD_SIGNATURE", "the signature is not the client's signature of this amendment", {
        amendmentId: id,
      });
    return this.answer(a, { status: "countersigned", countersignature: signature }, client);
  }

  async exit(agreementId: string, id: string, client: string): Promise<AmendmentRecord> {
    const a = await this.answer(await this.open(agreementId, id, client), { status: "exited" }, client);
    await this.onExit(agreementId, a);
    return a;
  }

  /**
   * Issues `next` again in place of `withdrawn` (its operation, cancelled, was scheduled again): compare-and-swap, the
   * earlier issue kept in `reissues`. False when the record changed meanwhile or is not withdrawn.
   */
  async reissue(withdrawn: AmendmentRecord, next: AmendmentRecord): Promise<boolean> {
    if (withdrawn.status !== "withdrawn" || withdrawn.id !== next.id) return false;
    const { effectiveAt, textHash, issuedAt, withdrawnAt } = withdrawn;
    const reissues = [...(withdrawn.reissues ?? []), { effectiveAt, textHash, issuedAt, withdrawnAt }];
    try {
      await this.store.updateAmendment({ ...next, reissues, revision: withdrawn.revision }, withdrawn.revision);
      return true;
    } catch (err) {
      if (err instanceof LegalError && err.code === "LEGAL_CONFLICT") return false;
      throw err;
    }
  }

  /** Moves every issued amendment whose effectiveAt has passed to `lapsed`; returns how many. Safe to run twice. */
  async lapseDue(): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const a of await this.store.listAmendments("issued")) {
      if (a.effectiveAt * 1000 > now.getTime()) continue;
      if (await this.lapse(a, now)) n++;
    }
    return n;
  }

  /**
   * Moves every issued amendment whose operation is no longer pending (`pending`: the ids the AccessManager still
   * holds) while its effectiveAt is still ahead to `withdrawn`: the operation was cancelled, nothing changes. Past
   * effectiveAt an operation that left the pending list ran (or could have): that amendment lapses instead.
   */
  async withdrawCancelled(pending: Set<string>): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const a of await this.store.listAmendments("issued")) {
      if (pending.has(a.operationId) || a.effectiveAt * 1000 <= now.getTime()) continue;
      try {
        await this.store.updateAmendment({ ...a, status: "withdrawn", withdrawnAt: now.toISOString() }, a.revision);
        n++;
      } catch (err) {
        if (!(err instanceof LegalError && err.code === "LEGAL_CONFLICT")) throw err; // answered meanwhile
      }
    }
    return n;
  }

  listOf(agreementId: string): Promise<AmendmentRecord[]> {
    return this.store.listAmendmentsOf(agreementId);
  }

  /** An issued amendment of this agreement, this client's, still before its effectiveAt. */
  private async open(agreementId: string, id: string, client: string): Promise<AmendmentRecord> {
    const a = await this.store.getAmendment(id);
    if (!a || a.agreementId !== agreementId)
      throw new LegalError("LEGAL_NOT_FOUND", "no such amendment of this agreement", { agreementId, amendmentId: id });
    if (a.client.toLowerCase() !== client.toLowerCase())
      throw new LegalError("LEGAL_FORBIDDEN", "only the agreement's client answers its amendments", {
        amendmentId: id,
      });
    if (a.status !== "issued")
      throw new LegalError("LEGAL_CONFLICT", `the amendment is already ${a.status}`, {
        amendmentId: id,
        status: a.status,
      });
    const now = this.now();
    if (now.getTime() >= a.effectiveAt * 1000) {
      await this.lapse(a, now);
      throw new LegalError("LEGAL_CONFLICT", `the amendment took effect at unix ${a.effectiveAt}: it has lapsed`, {
        amendmentId: id,
        effectiveAt: a.effectiveAt,
      });
    }
    return a;
  }

  private async answer(
    a: AmendmentRecord,
    patch: Pick<AmendmentRecord, "status"> & Partial<AmendmentRecord>,
    client: string,
  ): Promise<AmendmentRecord> {
    const next: AmendmentRecord = { ...a, ...patch, answeredAt: this.now().toISOString(), answeredBy: client };
    try {
      await this.store.updateAmendment(next, a.revision);
    } catch (err) {
      if (err instanceof LegalError && err.code === "LEGAL_CONFLICT")
        throw new LegalError("LEGAL_CONFLICT", "the amendment was answered meanwhile", { amendmentId: a.id });
      throw err;
    }
    return { ...next, revision: a.revision + 1 };
  }

  private async lapse(a: AmendmentRecord, now: Date): Promise<boolean> {
    try {
      await this.store.updateAmendment({ ...a, status: "lapsed", lapsedAt: now.toISOString() }, a.revision);
      return true;
    } catch (err) {
      if (err instanceof LegalError && err.code === "LEGAL_CONFLICT") return false; // answered or lapsed meanwhile
      throw err;
    }
  }
}
