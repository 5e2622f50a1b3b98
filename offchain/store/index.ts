export { openStore, type Store, type StoreOptions, type Repositories } from "./store";
export type { Migration } from "./migrations";
export { ALL_MIGRATIONS } from "./schema";
export type { ChainCursor, StoredEvent, IdentityProjection } from "./repos/chain";
export type { ApiKeyRecord, AuditEntry, AuditInput, IdempotencyOutcome, IdempotencyOwner, LeaseRow } from "./repos/api";
export type { InstanceClaim, InstanceRow } from "./repos/instances";
export type { BehaviourTierEvent, BehaviourTierRecord } from "./repos/surveillance";
export type { BreakerResetRecord, BreakerResetStatus } from "./repos/ops";
export type { AccountReview, BeneficialOwnerRecord, LinkEdge, ReviewStatus } from "./repos/groups";
export type {
  AlertKind,
  AlertRecord,
  AlertStatus,
  CaseNote,
  CaseRecord,
  CaseStatus,
  FlowFill,
  NewAlert,
  Refusal,
} from "./repos/alerts";
export type { WalletSessionRecord } from "./repos/sessions";
export { AUDIT_GENESIS, auditHash } from "./repos/api";
export type {
  AcknowledgementRecord,
  ApplicantRecord,
  ChainClaim,
  ChainClaimOp,
  Discrepancy,
  DiscrepancyKind,
  KycStatus,
  SanctionsMatch,
  StatusChange,
  SuitabilityRecord,
} from "./repos/kyc";
export { verifyAuditChain, type AuditVerification } from "./verifyAudit";
export type {
  BatchStatus,
  NewSettlementTrade,
  SettlementBatch,
  SettlementTrade,
  StoredOrder,
  TradeStatus,
} from "./repos/settlement";
export { IntentConflictError } from "./repos/keeper";
export type {
  IntentAccount,
  IntentStatus,
  LiquidationIntent,
  NewNotification,
  Notification,
  NotificationKind,
  Override,
} from "./repos/keeper";
export type { FillCursor, FillRow, JournalRow, StoredOrderRow } from "./repos/orderbook";
