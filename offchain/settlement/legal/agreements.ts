import type { TypedDataDomain } from "ethers";
import { agreementIsIntact, buildAgreement, type AgreementDocument } from "./agreementDocument";
import { agreementMessage, isAgreementSignedBy, type FinancingAgreementMessage } from "./agreementSignature";
import { LegalError } from "./errors";
import type { AgreementRecord, LegalStore } from "./store";
import type { FinancingTerms } from "./terms";

/**
 * Checks a signature that is not a plain ECDSA one (a contract wallet, ERC-1271). The chain capability provides it
 * (it needs a provider); without it only ECDSA signatures are accepted off-chain. AgreementRegistry re-checks both
 * signatures on-chain in any case.
 */
export type ContractSignatureCheck = (
  signer: string,
  digestDomain: TypedDataDomain,
  message: FinancingAgreementMessage,
  signature: string,
) => Promise<boolean>;

/**
 * Agreement lifecycle: prepare (terms → document and hash) → each party signs the EIP-712 FinancingAgreement →
 * anchor on-chain (the chain capability sends AgreementRegistry.anchor with anchorArguments) → markAnchored →
 * at the end markClosed with the final-settlement hash. Both parties (and officers) can retrieve the document,
 * the signatures and the anchor.
 */
export class AgreementService {
  constructor(
    private readonly store: LegalStore,
    private readonly domain: TypedDataDomain,
    private readonly contractSignatureCheck?: ContractSignatureCheck,
  ) {}

  async prepare(terms: FinancingTerms): Promise<AgreementRecord> {
    const document = buildAgreement(terms);
    const rec: AgreementRecord = { document, signatures: {}, status: "awaiting-signatures", revision: 0 };
    await this.store.insertAgreement(rec);
    return rec;
  }

  /** Adds one party's signature after verifying it; the record becomes "signed" when both are in. */
  async addSignature(agreementId: string, signature: string): Promise<AgreementRecord> {
    const rec = await this.require(agreementId);
    if (rec.status !== "awaiting-signatures") {
      throw new LegalError("LEGAL_BAD_TRANSITION", `agreement is ${rec.status}`, { agreementId });
    }
    const message = agreementMessage(rec.document);
    let party: "client" | "platform" | undefined;
    for (const p of ["client", "platform"] as const) {
      if (isAgreementSignedBy(this.domain, message, signature, message[p])) party = p;
    }
    if (!party && this.contractSignatureCheck) {
      for (const p of ["client", "platform"] as const) {
        if (!rec.signatures[p] && (await this.contractSignatureCheck(message[p], this.domain, message, signature)))
          party = p;
      }
    }
    if (!party) throw new LegalError("LEGAL_BAD_SIGNATURE", "signature is by neither party", { agreementId });
    const signatures = { ...rec.signatures, [party]: signature };
    const next: AgreementRecord = {
      ...rec,
      signatures,
      status: signatures.client && signatures.platform ? "signed" : "awaiting-signatures",
    };
    await this.store.updateAgreement(next, rec.revision);
    return { ...next, revision: rec.revision + 1 };
  }

  /** The arguments of AgreementRegistry.anchor(agreement, clientSignature, platformSignature). */
  async anchorArguments(agreementId: string): Promise<[FinancingAgreementMessage, string, string]> {
    const rec = await this.require(agreementId);
    if (rec.status !== "signed")
      throw new LegalError("LEGAL_BAD_TRANSITION", `agreement is ${rec.status}`, { agreementId });
    return [agreementMessage(rec.document), rec.signatures.client!, rec.signatures.platform!];
  }

  /**
   * Claim before send: moves a signed agreement to `anchoring` under `owner` until `now + ttlMs` (optimistic
   * revision, so of two concurrent claims one fails with LEGAL_CONFLICT) and returns the anchor arguments. An
   * agreement already being anchored is LEGAL_CONFLICT.
   */
  async claimAnchor(
    agreementId: string,
    owner: string,
    ttlMs: number,
    now = Date.now(),
  ): Promise<[FinancingAgreementMessage, string, string]> {
    const rec = await this.require(agreementId);
    if (rec.status === "anchoring")
      throw new LegalError("LEGAL_CONFLICT", "the agreement is being anchored", { agreementId });
    if (rec.status !== "signed")
      throw new LegalError("LEGAL_BAD_TRANSITION", `agreement is ${rec.status}`, { agreementId });
    await this.store.updateAgreement(
      { ...rec, status: "anchoring", claim: { owner, until: now + ttlMs } },
      rec.revision,
    );
    return [agreementMessage(rec.document), rec.signatures.client!, rec.signatures.platform!];
  }

  /**
   * Records the anchor. With `owner`: the transaction sent under that claim (LEGAL_CONFLICT when the claim was lost
   * meanwhile); without: a signed agreement whose anchor a tool sent itself.
   */
  async markAnchored(
    agreementId: string,
    anchor: NonNullable<AgreementRecord["anchor"]>,
    owner?: string,
  ): Promise<AgreementRecord> {
    const rec = await this.require(agreementId);
    if (owner !== undefined && (rec.status !== "anchoring" || rec.claim?.owner !== owner))
      throw new LegalError("LEGAL_CONFLICT", "the anchoring claim was lost", { agreementId, status: rec.status });
    if (owner === undefined && rec.status !== "signed")
      throw new LegalError("LEGAL_BAD_TRANSITION", `agreement is ${rec.status}`, { agreementId });
    const next: AgreementRecord = { ...rec, status: "anchored", anchor, claim: undefined };
    await this.store.updateAgreement(next, rec.revision);
    return { ...next, revision: rec.revision + 1 };
  }

  /** The anchor cannot have reached the chain: back to signed (only by the claim's holder; false otherwise). */
  async releaseAnchor(agreementId: string, owner: string): Promise<boolean> {
    const rec = await this.require(agreementId);
    if (rec.status !== "anchoring" || rec.claim?.owner !== owner) return false;
    await this.store.updateAgreement({ ...rec, status: "signed", claim: undefined }, rec.revision);
    return true;
  }

  /** Agreements whose anchoring claim is past its time (for the reconciliation job). */
  async overdueAnchors(now = Date.now()): Promise<AgreementRecord[]> {
    return (await this.store.listAgreementsByStatus("anchoring")).filter((r) => (r.claim?.until ?? 0) < now);
  }

  /** Moves an overdue claim to `owner`; false when it is no longer that overdue claim. */
  async takeOverAnchor(rec: AgreementRecord, owner: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    if (rec.status !== "anchoring" || (rec.claim?.until ?? 0) >= now) return false;
    try {
      await this.store.updateAgreement({ ...rec, claim: { owner, until: now + ttlMs } }, rec.revision);
      return true;
    } catch (err) {
      if (err instanceof LegalError && err.code === "LEGAL_CONFLICT") return false;
      throw err;
    }
  }

  /**
   * The chain shows the agreement anchored: the record follows, whoever holds its claim (an anchor cannot be
   * undone on-chain, and both parties signed it). Idempotent.
   */
  async adoptAnchor(agreementId: string, anchor: NonNullable<AgreementRecord["anchor"]>): Promise<AgreementRecord> {
    for (;;) {
      const rec = await this.require(agreementId);
      if (rec.status === "anchored" || rec.status === "closed") return rec;
      if (rec.status !== "signed" && rec.status !== "anchoring")
        throw new LegalError("LEGAL_BAD_TRANSITION", `agreement is ${rec.status}`, { agreementId });
      const next: AgreementRecord = { ...rec, status: "anchored", anchor, claim: undefined };
      try {
        await this.store.updateAgreement(next, rec.revision);
        return { ...next, revision: rec.revision + 1 };
      } catch (err) {
        if (!(err instanceof LegalError && err.code === "LEGAL_CONFLICT")) throw err;
      }
    }
  }

  async markClosed(agreementId: string, finalSettlementHash: string): Promise<AgreementRecord> {
    const rec = await this.require(agreementId);
    if (rec.status !== "anchored")
      throw new LegalError("LEGAL_BAD_TRANSITION", `agreement is ${rec.status}`, { agreementId });
    const next: AgreementRecord = { ...rec, status: "closed", finalSettlementHash };
    await this.store.updateAgreement(next, rec.revision);
    return { ...next, revision: rec.revision + 1 };
  }

  /**
   * The agreement for one of its parties (client or platform address) or an officer; anyone else is refused.
   * The stored document is re-derived from its terms before it is handed out, so a corrupted record is noticed.
   */
  async retrieve(agreementId: string, requester: { address?: string; officer?: boolean }): Promise<AgreementRecord> {
    const rec = await this.require(agreementId);
    const t = rec.document.terms;
    const who = requester.address?.toLowerCase();
    if (!requester.officer && who !== t.client.address.toLowerCase() && who !== t.platform.address.toLowerCase()) {
      throw new LegalError("LEGAL_FORBIDDEN", "only the parties and officers may read an agreement", { agreementId });
    }
    if (!agreementIsIntact(rec.document)) {
      throw new LegalError("LEGAL_CONFLICT", "stored agreement does not match its terms hash", { agreementId });
    }
    return rec;
  }

  private async require(agreementId: string): Promise<AgreementRecord> {
    const rec = await this.store.getAgreement(agreementId);
    if (!rec) throw new LegalError("LEGAL_NOT_FOUND", "no such agreement", { agreementId });
    return rec;
  }
}

export type { AgreementDocument };
