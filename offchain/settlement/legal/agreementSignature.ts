import { TypedDataEncoder, verifyTypedData, type TypedDataDomain, type TypedDataField } from "ethers";
import type { AgreementDocument } from "./agreementDocument";

/** EIP-712 domain name of AgreementRegistry (<= 31 bytes, as OpenZeppelin 5.7 requires). */
export const AGREEMENT_DOMAIN_NAME = "MarginBridge Agreements";
export const AGREEMENT_DOMAIN_VERSION = "1";

export const FINANCING_AGREEMENT_TYPES: Record<string, TypedDataField[]> = {
  FinancingAgreement: [
    { name: "agreementId", type: "bytes32" },
    { name: "client", type: "address" },
    { name: "platform", type: "address" },
    { name: "termsHash", type: "bytes32" },
    { name: "version", type: "uint32" },
    { name: "effectiveAt", type: "uint64" },
    { name: "expiresAt", type: "uint64" },
  ],
};

/** The struct both parties sign and AgreementRegistry.anchor takes. */
export interface FinancingAgreementMessage {
  agreementId: string;
  client: string;
  platform: string;
  termsHash: string;
  version: number;
  effectiveAt: number;
  expiresAt: number;
}

export function agreementDomain(chainId: bigint | number, registry: string): TypedDataDomain {
  return { name: AGREEMENT_DOMAIN_NAME, version: AGREEMENT_DOMAIN_VERSION, chainId, verifyingContract: registry };
}

export function agreementMessage(doc: AgreementDocument): FinancingAgreementMessage {
  const t = doc.terms;
  return {
    agreementId: t.agreementId,
    client: t.client.address,
    platform: t.platform.address,
    termsHash: doc.termsHash,
    version: t.version,
    effectiveAt: t.effectiveAt,
    expiresAt: t.expiresAt,
  };
}

/** Everything a wallet needs for eth_signTypedData_v4 (domain, types, primary type, message). */
export function agreementTypedData(
  domain: TypedDataDomain,
  message: FinancingAgreementMessage,
): {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: "FinancingAgreement";
  message: FinancingAgreementMessage;
} {
  return { domain, types: FINANCING_AGREEMENT_TYPES, primaryType: "FinancingAgreement", message };
}

/** The EIP-712 digest (what the registry's agreementDigest returns). */
export function agreementDigest(domain: TypedDataDomain, message: FinancingAgreementMessage): string {
  return TypedDataEncoder.hash(domain, FINANCING_AGREEMENT_TYPES, message);
}

/** The address that produced an ECDSA signature over the agreement (plain ethers; no chain needed). */
export function recoverAgreementSigner(
  domain: TypedDataDomain,
  message: FinancingAgreementMessage,
  signature: string,
): string {
  return verifyTypedData(domain, FINANCING_AGREEMENT_TYPES, message, signature);
}

/**
 * True when `signature` is `expected`'s ECDSA signature of the agreement. A contract wallet's (ERC-1271) signature
 * cannot be checked without a chain; the registry checks those on-chain when anchoring.
 */
export function isAgreementSignedBy(
  domain: TypedDataDomain,
  message: FinancingAgreementMessage,
  signature: string,
  expected: string,
): boolean {
  try {
    return recoverAgreementSigner(domain, message, signature).toLowerCase() === expected.toLowerCase();
  } catch {
    return false;
  }
}
