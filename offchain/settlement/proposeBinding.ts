import { randomUUID } from "node:crypto";
import type { SettlementChain } from "../chain/settlementHubWriter";
import type { LeaseStore } from "../shared/lease";
import { AppError } from "../shared/errors";
import type { Store } from "../store";
import { bindingNumbersOf, type BindingNumbers } from "./legal";
import type { BindingReader, BindingState } from "./readBinding";
import { legalCall } from "./wire";

export interface ProposeBindingDeps {
  store: Pick<Store, "legal"> & { locks: LeaseStore };
  chain: SettlementChain;
  readBinding: BindingReader;
  /** How long a proposal may take before another request may send it again (ms). */
  claimTtlMs: number;
}

/**
 * AgreementBinding.propose for an anchored agreement, with the leverage and penalty of its signed terms (18-decimal
 * ratios; nothing is typed in), claim before send: one writer per agreement (a lease named after it; a second
 * request at once is refused with 409 before anything is sent, a crashed holder's lease expires). Idempotent: when
 * the chain already holds these numbers (proposed, or accepted and bound) nothing is sent; proposing them again
 * after an answer was lost only rewrites the same proposal, so a send whose outcome is unknown needs no repair.
 */
export async function proposeBinding(
  deps: ProposeBindingDeps,
  agreementId: string,
): Promise<{ binding: BindingState; proposed: boolean; txHash: string | null }> {
  const rec = await deps.store.legal.getAgreement(agreementId);
  if (!rec) throw new AppError("NOT_FOUND", "no such agreement", { details: { agreementId } });
  if (rec.status !== "anchored")
    throw new AppError("CONFLICT", `the agreement is ${rec.status}; only an anchored agreement is bound`, {
      details: { agreementId, status: rec.status },
    });
  const numbers = await legalCall(async () => bindingNumbersOf(rec.document.terms));
  const client = rec.document.terms.client.address;
  const lease = `agreement-binding:${agreementId.toLowerCase()}`;
  const owner = `binding-${randomUUID()}`;
  if ((await deps.store.locks.acquireLease(lease, owner, deps.claimTtlMs)) === undefined)
    throw new AppError("CONFLICT", "the binding of this agreement is being proposed", { details: { agreementId } });
  try {
    const before = await deps.readBinding(agreementId, client);
    if (holds(before, numbers)) return { binding: before, proposed: false, txHash: null };
    const sent = await deps.chain.proposeBinding(agreementId, numbers.maxLeverage, numbers.maxPenalty);
    return { binding: await deps.readBinding(agreementId, client), proposed: true, txHash: sent.txHash };
  } finally {
    await deps.store.locks.releaseLease(lease, owner);
  }
}

/** The chain holds exactly these numbers for the agreement (as a proposal or as the account's binding). */
function holds(s: BindingState, n: BindingNumbers): boolean {
  return s.state !== "none" && s.maxLeverage === n.maxLeverage && s.maxPenalty === n.maxPenalty;
}
