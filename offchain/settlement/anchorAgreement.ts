import { randomUUID } from "node:crypto";
import type { TypedDataDomain } from "ethers";
import type { SettlementChain } from "../chain/settlementHubWriter";
import { AppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";
import { AgreementService, type AgreementRecord } from "./legal";
import { legalCall } from "./wire";

export interface AnchoringDeps {
  store: Pick<Store, "legal">;
  chain: SettlementChain;
  /** EIP-712 domain of the AgreementRegistry (its address and chain id go into the anchor record). */
  domain: TypedDataDomain;
  /** How long an anchor transaction may take before the reconciliation job takes its claim over (ms). */
  claimTtlMs: number;
  log: Logger;
}

type Anchor = NonNullable<AgreementRecord["anchor"]>;

function isReverted(err: unknown): boolean {
  return err instanceof AppError && err.code === "CHAIN_REVERTED";
}

function anchorOf(deps: AnchoringDeps, sent: { txHash: string; blockNumber: number }): Anchor {
  return {
    txHash: sent.txHash,
    blockNumber: sent.blockNumber,
    registry: String(deps.domain.verifyingContract),
    chainId: Number(deps.domain.chainId),
  };
}

/**
 * AgreementRegistry.anchor from a request, claim before send: the agreement moves to `anchoring` under this
 * request's claim (two concurrent anchors: one is refused with 409 before anything is sent), the operator sends,
 * then the anchor is recorded under the claim. An anchor cannot be undone on-chain, so when the claim was lost
 * meanwhile, or the chain refuses the anchor because the agreement is anchored already (an earlier attempt whose
 * answer was lost), the record follows the chain. A send that cannot have reached the chain returns the agreement to `signed`; one
 * whose outcome is unknown stays `anchoring` for the reconciliation job.
 */
export async function anchorAgreement(deps: AnchoringDeps, agreementId: string): Promise<AgreementRecord> {
  const agreements = new AgreementService(deps.store.legal, deps.domain);
  const owner = `anchor-${randomUUID()}`;
  const args = await legalCall(() => agreements.claimAnchor(agreementId, owner, deps.claimTtlMs));
  let sent: { txHash: string; blockNumber: number };
  try {
    sent = await deps.chain.anchorAgreement(args);
  } catch (err) {
    // Refused because it is anchored already (by an attempt whose answer was lost, or one mined just before)?
    if (isReverted(err)) {
      const adopted = await adoptFromChain(deps, agreements, agreementId);
      if (adopted) return adopted;
    }
    if (err instanceof AppError && err.details.effect === "none") await agreements.releaseAnchor(agreementId, owner);
    else deps.log.warn("agreement anchor: outcome unknown, left to reconciliation", { agreementId, err });
    throw err;
  }
  const anchor = anchorOf(deps, sent);
  try {
    return await legalCall(() => agreements.markAnchored(agreementId, anchor, owner));
  } catch (err) {
    if (!(err instanceof AppError && err.code === "CONFLICT")) throw err;
    deps.log.warn("agreement anchor: claim lost after the send; the record follows the chain", { agreementId });
    return legalCall(() => agreements.adoptAnchor(agreementId, anchor));
  }
}

/** Records the on-chain anchor when the chain has this agreement's terms; undefined when it does not. */
async function adoptFromChain(
  deps: AnchoringDeps,
  agreements: AgreementService,
  agreementId: string,
): Promise<AgreementRecord | undefined> {
  const rec = await deps.store.legal.getAgreement(agreementId);
  if (!rec) return undefined;
  const fate = await deps.chain.anchorOf(agreementId, rec.document.termsHash);
  if (!fate.anchored) return undefined;
  if (!fate.matchesTerms) {
    deps.log.error("agreement anchored on-chain with other terms", { agreementId });
    return undefined;
  }
  return agreements.adoptAnchor(agreementId, {
    txHash: fate.txHash ?? "",
    blockNumber: fate.blockNumber ?? 0,
    registry: String(deps.domain.verifyingContract),
    chainId: Number(deps.domain.chainId),
  });
}

/**
 * The `agreement-anchors` job: overdue anchoring claims are taken over and settled from the chain (anchored →
 * recorded; not anchored → back to `signed`), and a signed agreement found anchored on-chain (a transaction that
 * outlived its claim and its process) is recorded. Safe to run twice and on several instances.
 */
export async function reconcileAnchors(deps: AnchoringDeps): Promise<{ resolved: number; adopted: number }> {
  const agreements = new AgreementService(deps.store.legal, deps.domain);
  const out = { resolved: 0, adopted: 0 };
  for (const rec of await agreements.overdueAnchors()) {
    const id = rec.document.terms.agreementId;
    const owner = `anchor-reconcile-${randomUUID()}`;
    if (!(await agreements.takeOverAnchor(rec, owner, deps.claimTtlMs))) continue;
    out.resolved++;
    if (await adoptFromChain(deps, agreements, id)) out.adopted++;
    else await agreements.releaseAnchor(id, owner);
  }
  for (const rec of await deps.store.legal.listAgreementsByStatus("signed")) {
    if (await adoptFromChain(deps, agreements, rec.document.terms.agreementId)) out.adopted++;
  }
  if (out.resolved || out.adopted) deps.log.info("agreement anchors reconciled", out);
  return out;
}
