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

  async markAnchored(agreementId: string, anchor: NonNullable<AgreementRecord["anchor"]>): Promise<AgreementRecord> {
    const rec = await this.require(agreementId);
    if (rec.status !== "signed")
      throw new LegalError("LEGAL_BAD_TRANSITION", `agreement is ${rec.status}`, { agreementId });
    const next: AgreementRecord = { ...rec, status: "anchored", anchor };
    await this.store.updateAgreement(next, rec.revision);
    return { ...next, revision: rec.revision + 1 };
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
