import { AppError } from "../shared/errors";
import type { AcknowledgementRecord, ApplicantRecord } from "../store";
import { checkAcknowledgement, type AcknowledgementInput } from "./acknowledgement";
import { approveOnChain } from "./approveApplication";
import type { KycDeps } from "./ports";

/** Statuses whose file still takes acknowledgements (the financing summary may follow the approval). */
const OPEN = ["pending_review", "approving", "approved"];

export interface Acknowledged {
  application: ApplicantRecord;
  acknowledgement: AcknowledgementRecord;
  /** False when the file held this document version's acknowledgement already (the kept one is returned). */
  created: boolean;
}

/**
 * Keeps the client's EIP-712 signed acknowledgement of a document in its KYC file, once per document version
 * (a repeat, even a concurrent one, returns the kept acknowledgement and changes nothing). The risk disclosure's
 * acknowledgement is what an approval waits for: when nothing else holds the application for review, it is
 * approved at once, writing KycRegistry.
 */
export async function acknowledgeDocument(
  deps: KycDeps,
  application: ApplicantRecord,
  input: AcknowledgementInput,
): Promise<Acknowledged> {
  if (!deps.ackDomain)
    throw new AppError("CHAIN_UNAVAILABLE", "acknowledgements are signed for the deployment's KycRegistry: none known");
  if (!OPEN.includes(application.status))
    throw new AppError("CONFLICT", `application is ${application.status}`, {
      details: { applicationId: application.id, status: application.status },
    });
  const record = checkAcknowledgement(deps.ackDomain, application, input, Date.now());
  const created = await deps.store.transaction(async (tx) => {
    if (!(await tx.kyc.addAcknowledgement(record))) return false;
    await tx.kyc.addHistory(application.id, {
      status: "acknowledged",
      actor: record.signer,
      reason: `${record.documentId} v${record.version} (${record.language}) ${record.contentHash}`,
      txHash: null,
      at: record.recordedAt,
    });
    return true;
  });
  const kept = (await deps.store.kyc.acknowledgements(application.id)).find(
    (k) => k.documentId === record.documentId && k.version === record.version,
  )!;
  deps.log.info("kyc document acknowledged", { applicationId: application.id, documentId: kept.documentId, created });
  const approvable =
    created &&
    record.documentId === "risk-disclosure" &&
    application.status === "pending_review" &&
    application.reviewReasons.length === 0 &&
    deps.chain !== undefined;
  const current = approvable ? await approveAutomatically(deps, application.id) : application;
  return { application: current, acknowledgement: kept, created };
}

async function approveAutomatically(deps: KycDeps, id: string): Promise<ApplicantRecord> {
  try {
    return await approveOnChain(deps, id, { actor: "system", reason: "automatic approval" });
  } catch (err) {
    // The application stays queued; an officer can approve it once the chain answers again.
    deps.log.warn("automatic approval failed; left for review", { applicationId: id, err });
    await deps.store.kyc.addHistory(id, {
      status: "pending_review",
      actor: "system",
      reason: "automatic approval failed on-chain",
      txHash: null,
      at: Date.now(),
    });
    return (await deps.store.kyc.get(id))!;
  }
}
