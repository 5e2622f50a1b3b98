/** Proof of reserves: the capability's public surface. */
export { ReservesError, type ReservesErrorCode } from "./errors";
export {
  ENCODING_VERSION,
  MAX_UINT128,
  MAX_DEPTH,
  snapshotId,
  accountCommitment,
  leafHash,
  nodeHash,
  type Sums,
} from "./encoding";
export type { AccountLiabilities, LiabilitySet, LiabilitySource } from "./liabilities";
export { JsonFileLiabilitySource, parseLiabilities, liabilitiesFileSchema } from "./jsonFileSource";
export { buildSumTree, buildFromLeaves, depthFor, type BuildOptions, type PublishedLeaf } from "./buildTree";
export { SumTree, type BuildTimings, type InclusionPath, type ProofSibling } from "./sumTree";
export { HashPool } from "./pool";
export {
  verifyInclusion,
  verifyClientProofOffline,
  parseClientProof,
  inclusionProofOf,
  toContractProof,
  clientProofSchema,
  type InclusionProof,
  type EpochCommitment,
  type ClientProofFile,
} from "./proof";
export { buildPlainTree, PLAIN_LEAF_ENCODING, type PlainLeaf } from "./plainExport";
export { FILES, readManifest, readLeaves, findClientProof, type Manifest } from "./dataset";
export { publishEpoch, type PublishOptions, type PublishResult } from "./publish";
export { auditDataset, auditClientProof, formatReport, type AuditReport, type Check } from "./audit";
export {
  IndexedLiabilitySource,
  NO_PENDING_AMOUNTS,
  mapLimit,
  type IndexedSourceOptions,
  type MarginBalances,
  type PendingAmounts,
  type PendingAmountsProvider,
} from "./indexedSource";
export { reservesMarginAccountsHandler, ACCOUNT_EVENTS, RESERVES_INDEXER } from "./marginAccountsHandler";
export { accountSecret } from "./accountSecrets";
export { readEpoch, type EpochView, type AssetReserves } from "./epochView";
export { publishFromIndex, type PublishRequest } from "./publishFromIndex";
export { reservesRoutes } from "./routes";
export type { ReservesDeps } from "./ports";
