import { Interface, Result } from "ethers";
import * as factories from "../../typechain-types";
import type { DeploymentRecord } from "../chain/deployment";
import type { ProvidersChain } from "./chain";
import type { ScheduledChanges } from "./schemas";

/** Our contracts' ABIs, to decode a scheduled call: the deployment's name → its interface. */
function interfaceFor(name: string): Interface | undefined {
  // Deployment names are contract names, except the tranche vaults, the tokens and the feeds.
  const contract = name === "SeniorTranche" || name === "JuniorTranche" ? "TrancheVault" : name;
  const factory = (factories as Record<string, unknown>)[`${contract}__factory`] as
    { createInterface(): Interface } | undefined;
  return factory?.createInterface();
}

function plain(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  // A struct decodes to a Result with names (an array too): shown as {name:value,…}; a plain array as [a,b,…].
  if (value instanceof Result) {
    const named =
      value.length > 0 &&
      (() => {
        try {
          return Object.keys(value.toObject()).every((k) => !/^_?\d+$/.test(k));
        } catch {
          return false;
        }
      })();
    if (named)
      return `{${Object.entries(value.toObject())
        .map(([k, v]) => `${k}:${plain(v)}`)
        .join(",")}}`;
    return `[${Array.from(value).map(plain).join(",")}]`;
  }
  if (Array.isArray(value)) return `[${value.map(plain).join(",")}]`;
  return String(value);
}

/** A call to one of our contracts: the deployment's name for `target`, the function and its arguments decoded. */
export function decodeCall(
  deployment: Pick<DeploymentRecord, "contracts" | "tokens">,
  target: string,
  data: string,
): Pick<ScheduledChanges["changes"][number], "contract" | "call"> {
  const names = new Map(Object.entries(deployment.contracts).map(([name, a]) => [a.toLowerCase(), name]));
  for (const t of deployment.tokens) names.set(t.address.toLowerCase(), t.symbol);
  const contract = names.get(target.toLowerCase()) ?? null;
  const iface = contract ? interfaceFor(contract) : undefined;
  let parsed;
  try {
    parsed = iface?.parseTransaction({ data });
  } catch {
    parsed = null; // not a function of that ABI
  }
  if (!parsed) return { contract, call: null };
  const args = parsed.fragment.inputs.map((input, i) => [input.name || String(i), plain(parsed.args[i])]);
  return { contract, call: { function: parsed.signature, args: Object.fromEntries(args) } };
}

/**
 * Use case: the changes scheduled through the AccessManager's execution delay (risk parameters, terms, roles) that
 * are still pending — not executed, not cancelled — with the target contract, the function and its arguments
 * decoded, and the time from which each may execute: what a provider sees coming before it takes effect.
 */
export async function readScheduled(chain: ProvidersChain): Promise<ScheduledChanges> {
  const { manager, deployment } = chain;
  const blockTag = await chain.provider.getBlockNumber();
  const range = [deployment.deployBlock, blockTag] as const;
  const [scheduled, executed, canceled] = await Promise.all([
    manager.queryFilter(manager.filters.OperationScheduled(), ...range),
    manager.queryFilter(manager.filters.OperationExecuted(), ...range),
    manager.queryFilter(manager.filters.OperationCanceled(), ...range),
  ]);
  const done = new Set([...executed, ...canceled].map((e) => `${e.args.operationId}:${e.args.nonce}`));
  const changes: ScheduledChanges["changes"] = [];
  for (const e of scheduled) {
    const { operationId, nonce, schedule, caller, target, data } = e.args;
    if (done.has(`${operationId}:${nonce}`)) continue;
    // The manager's own view: 0 once the operation expired (or ran); a later nonce replaces this schedule.
    const [current, at] = await Promise.all([
      manager.getNonce(operationId, { blockTag }),
      manager.getSchedule(operationId, { blockTag }),
    ]);
    if (current !== nonce || at === 0n) continue;
    const { contract, call } = decodeCall(deployment, target, data);
    changes.push({
      operationId,
      target,
      contract,
      call,
      data,
      caller,
      executableAt: Number(schedule),
      scheduledBlock: e.blockNumber,
      scheduledTxHash: e.transactionHash,
    });
  }
  changes.sort((a, b) => a.executableAt - b.executableAt);
  return { block: blockTag, changes };
}
