import type { TypedDataDomain } from "ethers";
import type { DeploymentRecord } from "../chain/deployment";
import type { Logger } from "../shared/logger";
import {
  AmendmentService,
  buildAmendment,
  type AgreementRecord,
  isLiveAgreement,
  type AmendmentRecord,
  type LegalStore,
  type PendingOperation,
  type ScheduledChange,
} from "./legal";
import { scheduledChangeOf } from "./scheduledChangeOf";

/** Reads the operations pending in the AccessManager (scheduled, not executed, not cancelled, not expired). */
export type PendingOperationsReader = () => Promise<PendingOperation[]>;

export interface AmendmentIssuerDeps {
  store: LegalStore;
  domain: TypedDataDomain;
  deployment: Pick<DeploymentRecord, "contracts" | "tokens">;
  readOperations: PendingOperationsReader;
  now?: () => Date;
  log?: Logger;
}

export interface AmendmentScan {
  operations: number;
  agreements: number;
  issued: AmendmentRecord[];
  lapsed: number;
  withdrawn: number;
}

/**
 * Use case: every pending scheduled operation against every live agreement (anchored, not closed, not expired);
 * issues the amendments missing for pairs whose terms the change moves, withdraws those whose operation was
 * cancelled before it took effect, then lapses the issued amendments whose time has come. Idempotent: an amendment's
 * id is its (agreement, operation) pair and the store inserts it once, so a re-scan, a restart or a second instance
 * issues nothing twice. An agreement whose client exited is not amended.
 */
export async function issueAmendments(deps: AmendmentIssuerDeps): Promise<AmendmentScan> {
  const now = deps.now ?? (() => new Date());
  const service = new AmendmentService(deps.store, deps.domain, now);
  const operations = [...(await deps.readOperations())].sort(
    (a, b) => a.executableAt - b.executableAt || cmp(a.operationId, b.operationId),
  );
  const decoded = operations
    .map((op) => ({ op, change: scheduledChangeOf(deps.deployment, op.target, op.data) }))
    .filter((x): x is Decoded => x.change !== undefined);
  const nowSeconds = Math.floor(now().getTime() / 1000);
  const live = (await deps.store.listAgreementsByStatus("anchored")).filter((r) => isLiveAgreement(r, nowSeconds));
  const issued: AmendmentRecord[] = [];
  for (const rec of live) issued.push(...(await amendAgreement(rec, decoded, service, deps, now)));
  const withdrawn = await service.withdrawCancelled(new Set(operations.map((o) => o.operationId)));
  const lapsed = await service.lapseDue();
  if (issued.length > 0 || lapsed > 0 || withdrawn > 0)
    deps.log?.info("amendments issued", { issued: issued.length, lapsed, withdrawn, operations: decoded.length });
  return { operations: decoded.length, agreements: live.length, issued, lapsed, withdrawn };
}

type Decoded = { op: PendingOperation; change: ScheduledChange };

/** The amendments one agreement is missing, issued (or re-issued, for an operation scheduled again). */
async function amendAgreement(
  rec: AgreementRecord,
  decoded: Decoded[],
  service: AmendmentService,
  deps: AmendmentIssuerDeps,
  now: () => Date,
): Promise<AmendmentRecord[]> {
  const existing = await deps.store.listAmendmentsOf(rec.document.terms.agreementId);
  if (existing.some((a) => a.status === "exited")) return [];
  // The terms in force before a change: the signed ones with every earlier change (amended or pending) applied.
  // A withdrawn amendment's operation was cancelled: its change never applies.
  const earlier: { at: number; change: ScheduledChange }[] = existing.flatMap((a) => {
    if (a.status === "withdrawn") return [];
    const change = scheduledChangeOf(deps.deployment, a.target, a.data);
    return change ? [{ at: a.effectiveAt, change }] : [];
  });
  const known = new Map(existing.map((a) => [a.operationId, a]));
  const issued: AmendmentRecord[] = [];
  for (const { op, change } of decoded) {
    const before = earlier.filter((e) => e.at <= op.executableAt).map((e) => e.change);
    const prior = known.get(op.operationId);
    // Its amendment (and so its change) is in `earlier` already, unless it was withdrawn and is scheduled again.
    if (prior && prior.status !== "withdrawn") continue;
    const a = buildAmendment(rec, op, change, before, now().toISOString());
    if (a && (prior ? await service.reissue(prior, a) : await service.issue(a))) issued.push(a);
    earlier.push({ at: op.executableAt, change });
  }
  return issued;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
