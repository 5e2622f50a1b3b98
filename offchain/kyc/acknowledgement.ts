import { verifyTypedData, type TypedDataDomain, type TypedDataField } from "ethers";
import { z } from "zod";
import { AppError } from "../shared/errors";
import type { AcknowledgementRecord } from "../store";
import { CLIENT_DOCUMENTS, DOCUMENT_IDS, DOCUMENT_LANGUAGES, type DocumentId } from "./documents";

/** EIP-712 domain name of client acknowledgements; the domain also carries the chain id and the KycRegistry. */
export const ACK_DOMAIN_NAME = "MarginBridge KYC";
export const ACK_DOMAIN_VERSION = "1";

export const ACKNOWLEDGEMENT_TYPES: Record<string, TypedDataField[]> = {
  DocumentAcknowledgement: [
    { name: "applicationId", type: "string" },
    { name: "account", type: "address" },
    { name: "documentId", type: "string" },
    { name: "version", type: "uint32" },
    { name: "contentHash", type: "bytes32" },
    { name: "language", type: "string" },
    { name: "acknowledgedAt", type: "uint64" },
  ],
};

/** What the client signs: the application binds the signature to one KYC file (no replay into another). */
export interface AcknowledgementMessage {
  applicationId: string;
  account: string;
  documentId: string;
  version: number;
  contentHash: string;
  language: string;
  /** Unix seconds, as the client's wallet put it. */
  acknowledgedAt: number;
}

export function acknowledgementDomain(chainId: bigint | number, kycRegistry: string): TypedDataDomain {
  return { name: ACK_DOMAIN_NAME, version: ACK_DOMAIN_VERSION, chainId, verifyingContract: kycRegistry };
}

/** Everything a wallet needs for eth_signTypedData_v4. */
export function acknowledgementTypedData(domain: TypedDataDomain, message: AcknowledgementMessage) {
  return { domain, types: ACKNOWLEDGEMENT_TYPES, primaryType: "DocumentAcknowledgement" as const, message };
}

/** The body of POST /v1/kyc/applications/:id/acknowledgements (the application id and account come from the file). */
export const AcknowledgementSchema = z
  .object({
    documentId: z.enum(DOCUMENT_IDS),
    version: z.number().int().min(1).max(1_000_000),
    contentHash: z.string().regex(/^0x[0-9a-f]{64}$/, "must be a lower-case 0x keccak256 hash"),
    language: z.enum(DOCUMENT_LANGUAGES),
    acknowledgedAt: z
      .number()
      .int()
      .min(0)
      .max(2 ** 40),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte signature"),
  })
  .strict();
export type AcknowledgementInput = z.infer<typeof AcknowledgementSchema>;

/** How far the signed time may lie from the service's clock (s): a stale or future-dated signature is refused. */
export const ACK_CLOCK_SKEW_S = 600;

/**
 * Checks an acknowledgement against the current document and the application's wallet: the document version and
 * hash of the language read must be the served ones, the signed time near now, and the EIP-712 signer the
 * application's account. Returns the record to keep; throws VALIDATION_FAILED otherwise.
 */
export function checkAcknowledgement(
  domain: TypedDataDomain,
  application: { id: string; account: string },
  input: AcknowledgementInput,
  nowMs: number,
): AcknowledgementRecord {
  const doc = CLIENT_DOCUMENTS[input.documentId as DocumentId];
  if (input.version !== doc.version)
    throw invalid("version", `${doc.id} is at version ${doc.version}, not ${input.version}`);
  if (input.contentHash !== doc.contentHash[input.language])
    throw invalid("contentHash", `not the hash of ${doc.id} v${doc.version} (${input.language})`);
  if (Math.abs(input.acknowledgedAt - Math.floor(nowMs / 1000)) > ACK_CLOCK_SKEW_S)
    throw invalid("acknowledgedAt", `must be within ${ACK_CLOCK_SKEW_S} s of the service's clock`);
  const message: AcknowledgementMessage = {
    applicationId: application.id,
    account: application.account,
    documentId: input.documentId,
    version: input.version,
    contentHash: input.contentHash,
    language: input.language,
    acknowledgedAt: input.acknowledgedAt,
  };
  let signer: string;
  try {
    signer = verifyTypedData(domain, ACKNOWLEDGEMENT_TYPES, message, input.signature).toLowerCase();
  } catch {
    throw invalid("signature", "not a valid signature");
  }
  if (signer !== application.account.toLowerCase())
    throw invalid("signature", "not signed by the application's wallet for this application and document");
  return {
    applicationId: application.id,
    documentId: input.documentId,
    version: input.version,
    contentHash: input.contentHash,
    language: input.language,
    acknowledgedAt: input.acknowledgedAt,
    signature: input.signature.toLowerCase(),
    signer,
    recordedAt: nowMs,
  };
}

function invalid(field: string, message: string): AppError {
  return new AppError("VALIDATION_FAILED", `body.${field}: ${message}`, { details: { field } });
}
