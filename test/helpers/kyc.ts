import type { Signer, TypedDataDomain } from "ethers";
import type { ApiClient, ApiResponse } from "../../offchain/api";
import {
  ACKNOWLEDGEMENT_TYPES,
  CLIENT_DOCUMENTS,
  QUIZ,
  QUIZ_VERSION,
  checkAcknowledgement,
  type DocumentId,
  type SuitabilityAnswers,
} from "../../offchain/kyc";
import type { Store } from "../../offchain/store";

/** Quiz answers: every question right except those named in `wrong`. */
export function quizAnswers(wrong: string[] = []): SuitabilityAnswers {
  const other = (c: string): "a" | "b" | "c" => (c === "a" ? "b" : "a");
  return {
    quizVersion: QUIZ_VERSION,
    answers: Object.fromEntries(QUIZ.map((q) => [q.id, wrong.includes(q.id) ? other(q.correct) : q.correct])),
  };
}

/** The body a client's wallet signs to acknowledge a document (the fields besides the signature). */
export function acknowledgementFields(
  applicationId: string,
  account: string,
  documentId: DocumentId,
  language: "zh-CN" | "en" = "zh-CN",
  acknowledgedAt = Math.floor(Date.now() / 1000),
) {
  const doc = CLIENT_DOCUMENTS[documentId];
  const body = { documentId, version: doc.version, contentHash: doc.contentHash[language], language, acknowledgedAt };
  return { body, message: { applicationId, account, ...body } };
}

/** Signs a document's acknowledgement with the application's wallet (EIP-712) and returns the request body. */
export async function signedAcknowledgement(
  domain: TypedDataDomain,
  wallet: Signer,
  applicationId: string,
  documentId: DocumentId,
  language: "zh-CN" | "en" = "zh-CN",
) {
  const { body, message } = acknowledgementFields(applicationId, await wallet.getAddress(), documentId, language);
  return { ...body, signature: await wallet.signTypedData(domain, ACKNOWLEDGEMENT_TYPES, message) };
}

/** The acknowledgement domain the service publishes in GET /v1/kyc/documents. */
export async function acknowledgementDomainOf(api: ApiClient): Promise<TypedDataDomain> {
  const r = await api.get<{ eip712: { domain: TypedDataDomain } | null }>("/v1/kyc/documents");
  if (r.status !== 200 || !r.body.eip712) throw new Error(`no acknowledgement domain: ${JSON.stringify(r.body)}`);
  return r.body.eip712.domain;
}

/** A client acknowledges a document through the API; returns the application as it then stands. */
export async function acknowledge<T = { status: string; tier: number }>(
  api: ApiClient,
  wallet: Signer,
  applicationId: string,
  documentId: DocumentId = "risk-disclosure",
  language: "zh-CN" | "en" = "zh-CN",
): Promise<ApiResponse<{ application: T; created: boolean }>> {
  const domain = await acknowledgementDomainOf(api);
  return api.post(
    `/v1/kyc/applications/${applicationId}/acknowledgements`,
    await signedAcknowledgement(domain, wallet, applicationId, documentId, language),
  );
}

/**
 * Writes an approved KYC file with the financing summary acknowledged (a real signature, checked as the service
 * checks it) straight into the store: for route tests that anchor agreements without the KYC capability.
 */
export async function seedSummaryAcknowledged(store: Store, domain: TypedDataDomain, wallet: Signer): Promise<void> {
  const account = (await wallet.getAddress()).toLowerCase();
  const id = `kyc_${crypto.randomUUID()}`;
  const now = Date.now();
  await store.kyc.insert({
    id,
    account,
    submittedBy: "seed",
    status: "approved",
    identitySealed: "seed",
    identityHash: "0x" + "00".repeat(32),
    jurisdiction: 156,
    score: 50,
    tier: 2,
    maxLeverage: 2n * 10n ** 18n,
    screening: [],
    reviewReasons: [],
    expiresAt: null,
    txHash: null,
    createdAt: now,
    updatedAt: now,
    suitability: null,
  });
  const input = await signedAcknowledgement(domain, wallet, id, "financing-summary");
  await store.kyc.addAcknowledgement(checkAcknowledgement(domain, { id, account }, input, now));
}
