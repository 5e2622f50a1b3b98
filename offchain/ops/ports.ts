import type { OpsChain } from "../chain/opsChain";
import type { DeploymentRecord } from "../chain/deployment";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";

/** What the ops console's use cases need: the store, the deployment, the chain reads and the breaker re-arm. */
export interface OpsDeps {
  store: Store;
  log: Logger;
  /** Absent without a deployment: every route answers 503 saying so. */
  chain?: { ops: OpsChain; deployment: DeploymentRecord };
  settings: { batchBlocks: number; lensChunk: number; breakerClaimTtlMs: number };
  /** Whether the liquidation keeper runs in this service (its last actions are in the store either way). */
  keeperRunning(): boolean;
}
