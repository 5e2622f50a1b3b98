export { createChainGateway, type ChainGateway } from "./gateway";
export {
  loadDeployment,
  readDeployment,
  feedKey,
  DEFAULT_DEPLOYMENTS_DIR,
  type DeploymentRecord,
  type TokenRecord,
} from "./deployment";
export { Indexer, type IndexerOptions, type IndexerStatus, type StepResult } from "./indexer";
export type { ContractHandler, IndexedEvent } from "./handlers/types";
export { kycRegistryHandler } from "./handlers/kycRegistry";
export { collateralTokenHandler } from "./handlers/collateralToken";
export { TxSender, type SendEffect, type SentTransaction } from "./sender";
export { NonceManager } from "./nonce";
export { withRetry, isTransient, type RetryOptions } from "./retry";
export { decodeRevert, revertData } from "./revert";
export { kycRegistryWriter } from "./kycRegistryWriter";
export { chainHealthProbe, type ChainHealth } from "./health";
