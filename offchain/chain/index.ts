export { createChainGateway, type ChainGateway } from "./gateway";
export { loadDeployment, DEFAULT_DEPLOYMENTS_DIR, type DeploymentRecord, type TokenRecord } from "./deployment";
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
export { rawSigner, type RawSigner, type CallToSign } from "./signer";
export { lensCapacity, valueAccounts, type AccountValuation, type BatchValuation } from "./batchRead";
export {
  opsChain,
  PRICE_STATUS,
  type OpsChain,
  type OracleAssetReading,
  type BreakerResetPath,
  type ManagerOperation,
} from "./opsChain";
