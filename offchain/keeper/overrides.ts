import { getAddress, isAddress } from "ethers";
import { AppError } from "../shared/errors";
import type { Override, Store } from "../store";

/**
 * A risk officer pauses the keeper's automatic liquidation of one account, or of every account holding an asset
 * (extreme moves: people step in). This keeper only: liquidate() stays permissionless on-chain. The API pipeline
 * writes the audit entry of the request.
 */
export async function pauseLiquidation(
  store: Store,
  input: { scope: Override["scope"]; target: string; reason: string; actor: string },
  now = Date.now(),
): Promise<Override> {
  if (!isAddress(input.target))
    throw new AppError("VALIDATION_FAILED", "target must be an address", { details: { target: input.target } });
  const o: Override = {
    scope: input.scope,
    target: getAddress(input.target).toLowerCase(),
    reason: input.reason,
    createdBy: input.actor,
    createdAt: now,
  };
  await store.keeper.setOverride(o);
  return o;
}

/** Lifts a pause; NOT_FOUND when there was none. */
export async function resumeLiquidation(store: Store, scope: Override["scope"], target: string): Promise<void> {
  if (!(await store.keeper.clearOverride(scope, target)))
    throw new AppError("NOT_FOUND", "no such override", { details: { scope, target } });
}
