import { TypedDataEncoder, verifyTypedData, type TypedDataDomain, type TypedDataField } from "ethers";
import type { AmendmentRecord } from "./port";

/**
 * The client's countersignature of an amendment: EIP-712 over the agreement, the amendment, the hash of its text
 * (both languages) and the time it takes effect, in the agreement's own domain (AgreementRegistry's name, version,
 * chain and address), so a signature of one amendment is no signature of another, of another agreement, or on
 * another chain.
 */
export const AGREEMENT_AMENDMENT_TYPES: Record<string, TypedDataField[]> = {
  AgreementAmendment: [
    { name: "agreementId", type: "bytes32" },
    { name: "amendmentId", type: "bytes32" },
    { name: "textHash", type: "bytes32" },
    { name: "effectiveAt", type: "uint64" },
  ],
};

export interface AgreementAmendmentMessage {
  agreementId: string;
  amendmentId: string;
  textHash: string;
  effectiveAt: number;
}

export function amendmentMessage(
  a: Pick<AmendmentRecord, "agreementId" | "id" | "textHash" | "effectiveAt">,
): AgreementAmendmentMessage {
  return { agreementId: a.agreementId, amendmentId: a.id, textHash: a.textHash, effectiveAt: a.effectiveAt };
}

/** Everything a wallet needs for eth_signTypedData_v4. */
export function amendmentTypedData(
  domain: TypedDataDomain,
  message: AgreementAmendmentMessage,
): {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: "AgreementAmendment";
  message: AgreementAmendmentMessage;
} {
  return { domain, types: AGREEMENT_AMENDMENT_TYPES, primaryType: "AgreementAmendment", message };
}

export function amendmentDigest(domain: TypedDataDomain, message: AgreementAmendmentMessage): string {
  return TypedDataEncoder.hash(domain, AGREEMENT_AMENDMENT_TYPES, message);
}

/** True when `signature` is `expected`'s ECDSA signature of the amendment (plain ethers, no chain). */
export function isAmendmentSignedBy(
  domain: TypedDataDomain,
  message: AgreementAmendmentMessage,
  signature: string,
  expected: string,
): boolean {
  try {
    return (
      verifyTypedData(domain, AGREEMENT_AMENDMENT_TYPES, message, signature).toLowerCase() === expected.toLowerCase()
    );
  } catch {
    return false;
  }
}
