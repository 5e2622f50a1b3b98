/**
 * The legal capability's records and its repository port: what it keeps and what it needs from persistence.
 * The capability owns these types; the store implements the port (offchain/store/repos/legal.ts, SQLite and
 * PostgreSQL) and MemoryLegalStore (./store.ts) is the in-process reference. Besides types it carries only the
 * error the port throws (./errors.ts, a leaf), so the store depends on this module and nothing else of the
 * capability (docs/architecture.md).
 */
import type { AgreementDocument } from "./agreementDocument";
import type { EvidenceBundle } from "./evidence";

/** What implementations of the port throw (LEGAL_CONFLICT, LEGAL_NOT_FOUND) and what they store as evidence. */
export { LegalError } from "./errors";
export type { EvidenceBundle } from "./evidence";

export type DisputeStatus = "open" | "evidence-collected" | "under-review" | "resolved" | "withdrawn";

/** Who acts: a client (only on its own account) or an officer (operator / risk officer). */
export interface Actor {
  role: "client" | "officer";
  /** The client's address, or the officer's id. */
  id: string;
}

export interface DisputeSubject {
  kind: "trade" | "statement" | "liquidation";
  /** Trade id, statement hash, or liquidation transaction hash. */
  ref: string;
  /** The client account the subject belongs to. */
  account: string;
  agreementId?: string;
}

export interface DisputeOutcome {
  decision: "upheld" | "partially-upheld" | "rejected";
  summary: string;
  /** Amount credited to the client as a result, cash base units (0 when rejected). */
  adjustment: bigint;
}

export interface Dispute {
  id: string;
  subject: DisputeSubject;
  openedBy: Actor;
  reason: string;
  status: DisputeStatus;
  history: { at: string; status: DisputeStatus; by: Actor; note: string }[];
  evidence?: { root: string; items: number; collectedAt: string };
  outcome?: DisputeOutcome & { decidedBy: Actor; decidedAt: string };
  revision: number;
}

/**
 * A prepared agreement and how far it got: signatures collected, then anchored on-chain. `anchoring` holds while
 * an AgreementRegistry.anchor transaction is out; `claim` names its sender and until when it may take.
 */
export interface AgreementRecord {
  document: AgreementDocument;
  signatures: { client?: string; platform?: string };
  status: "awaiting-signatures" | "signed" | "anchoring" | "anchored" | "closed";
  claim?: { owner: string; until: number };
  anchor?: { txHash: string; blockNumber: number; registry: string; chainId: number };
  finalSettlementHash?: string;
  /** Optimistic-concurrency version, incremented by every write. */
  revision: number;
}

/**
 * An amendment: a parameter change scheduled through the AccessManager that changes this agreement's terms, issued
 * to its client before it takes effect. `issued` → `countersigned` (the client's EIP-712 AgreementAmendment
 * signature) | `exited` (the client chose to leave before `effectiveAt`) | `lapsed` (`effectiveAt` passed without an
 * answer: the change applies and the client's right to exit on account of it has ended). One per (agreement,
 * operation): `id` = keccak256(agreementId, operationId).
 */
export interface AmendmentRecord {
  id: string;
  agreementId: string;
  client: string;
  operationId: string;
  /** The scheduled call: the contract it targets (deployment name, when known), the function and its arguments. */
  target: string;
  contract: string | null;
  function: string;
  args: Record<string, string>;
  data: string;
  /** Unix seconds from which the AccessManager may execute the operation. */
  effectiveAt: number;
  /** What changes in this agreement's terms (dotted paths, values as decimal strings). */
  changes: { path: string; from: string; to: string }[];
  /** Chinese text, the translation heading, the English translation; `textHash` = keccak256 of it. */
  text: string;
  textHash: string;
  status: "issued" | "countersigned" | "exited" | "lapsed" | "withdrawn";
  issuedAt: string;
  /** The client's EIP-712 AgreementAmendment signature (countersigned only). */
  countersignature?: string;
  /** When and by whom the client's answer (countersign or exit) was recorded, or when it lapsed. */
  answeredAt?: string;
  answeredBy?: string;
  lapsedAt?: string;
  withdrawnAt?: string;
  /**
   * The same operation scheduled again after it was cancelled (same operation id, a new nonce) re-issues the
   * withdrawn amendment under its id; each earlier issue is kept here (it was never answered: withdrawn from issued).
   */
  reissues?: { effectiveAt: number; textHash: string; issuedAt: string; withdrawnAt?: string }[];
  revision: number;
}

export interface StoredStatement {
  agreementId: string;
  account: string;
  from: string;
  to: string;
  /** statementHash (keccak256 of the canonical JSON). */
  hash: string;
  /** The canonical JSON itself. */
  json: string;
}

export interface StoredPaymentMessage {
  messageId: string;
  createdAt: string;
  xml: string;
  /** keccak256 of the XML bytes. */
  hash: string;
  endToEndIds: string[];
}

/**
 * What the legal capability needs from persistence. The store capability implements it for SQLite and
 * PostgreSQL; MemoryLegalStore below is the reference implementation (and what the unit tests run on).
 * Writes with a `revision` fail with LEGAL_CONFLICT when the stored revision differs (two service instances).
 */
export interface LegalStore {
  insertAgreement(rec: AgreementRecord): Promise<void>;
  getAgreement(agreementId: string): Promise<AgreementRecord | undefined>;
  updateAgreement(rec: AgreementRecord, expectedRevision: number): Promise<void>;
  listAgreementsOf(party: string): Promise<AgreementRecord[]>;
  listAgreementsByStatus(status: AgreementRecord["status"]): Promise<AgreementRecord[]>;

  /** False (and nothing written) when the (agreement, operation) pair already has its amendment. */
  insertAmendment(a: AmendmentRecord): Promise<boolean>;
  getAmendment(id: string): Promise<AmendmentRecord | undefined>;
  /** Compare-and-swap on `revision`: LEGAL_CONFLICT when another write came first. */
  updateAmendment(a: AmendmentRecord, expectedRevision: number): Promise<void>;
  /** An agreement's amendments, by effectiveAt then id. */
  listAmendmentsOf(agreementId: string): Promise<AmendmentRecord[]>;
  /** All amendments, or those in one status, by effectiveAt then id. */
  listAmendments(status?: AmendmentRecord["status"]): Promise<AmendmentRecord[]>;

  putStatement(s: StoredStatement): Promise<void>;
  getStatement(agreementId: string, from: string, to: string): Promise<StoredStatement | undefined>;

  insertDispute(d: Dispute): Promise<void>;
  getDispute(id: string): Promise<Dispute | undefined>;
  updateDispute(d: Dispute, expectedRevision: number): Promise<void>;
  listDisputes(filter: { account?: string; status?: Dispute["status"] }): Promise<Dispute[]>;
  putEvidenceBundle(disputeId: string, bundle: EvidenceBundle): Promise<void>;
  getEvidenceBundle(disputeId: string): Promise<EvidenceBundle | undefined>;

  putPaymentMessage(m: StoredPaymentMessage): Promise<void>;
  getPaymentMessage(messageId: string): Promise<StoredPaymentMessage | undefined>;
}
