import { AppError } from "../shared/errors";
import { decodeCall } from "../providers/scheduled";
import type { OpsDeps } from "./ports";

export type OperationStatus = "pending" | "ready" | "executed" | "canceled" | "expired";

export interface ScheduledOperation {
  operationId: string;
  nonce: string;
  status: OperationStatus;
  target: string;
  contract: string | null;
  call: { function: string; args: Record<string, string> } | null;
  data: string;
  caller: string;
  /** Unix seconds from which it may execute (the ETA). */
  executableAt: number;
  scheduledBlock: number;
  scheduledTxHash: string;
  closedBlock: number | null;
  closedTxHash: string | null;
}

/**
 * Use case: every operation scheduled through the AccessManager's execution delay since deployment (risk parameters,
 * terms, roles), decoded with our ABIs, with its ETA, who scheduled it and what became of it: pending (before its
 * ETA), ready (past it, not run), executed, canceled, or expired (the manager forgot it unrun). Newest first.
 */
export async function readScheduledOperations(deps: OpsDeps): Promise<{
  block: number;
  chainTime: number;
  riskDelaySeconds: number;
  operations: ScheduledOperation[];
}> {
  if (!deps.chain) throw new AppError("CHAIN_UNAVAILABLE", "no deployment: the AccessManager is on the chain");
  const { ops, deployment } = deps.chain;
  const [time, list] = await Promise.all([ops.chainTime(), ops.managerOperations(deps.settings.batchBlocks)]);
  const operations = list.map((o): ScheduledOperation => {
    const live = o.currentNonce === o.nonce && o.currentSchedule !== 0;
    const status: OperationStatus = o.closed
      ? o.closed.event
      : !live
        ? "expired"
        : o.schedule > time.timestamp
          ? "pending"
          : "ready";
    return {
      operationId: o.operationId,
      nonce: o.nonce.toString(),
      status,
      target: o.target,
      ...decodeCall(deployment, o.target, o.data),
      data: o.data,
      caller: o.caller,
      executableAt: o.schedule,
      scheduledBlock: o.block,
      scheduledTxHash: o.txHash,
      closedBlock: o.closed?.block ?? null,
      closedTxHash: o.closed?.txHash ?? null,
    };
  });
  operations.sort((a, b) => b.scheduledBlock - a.scheduledBlock);
  return { block: time.block, chainTime: time.timestamp, riskDelaySeconds: deployment.riskDelaySeconds, operations };
}
