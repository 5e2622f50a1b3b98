/**
 * The agreement-end workflow's records and its repository port. The store implements the port
 * (offchain/store/repos/agreementEnd.ts, SQLite and PostgreSQL); this file holds types only, so the store depends
 * on nothing else of the capability (docs/architecture.md).
 */

/** Why the agreement ends: its term ran out, the client ended it early, or the platform ended it on a default. */
export type EndReason = "expiry" | "termination" | "default";

/**
 * The steps, in order (docs/legal-settlement.md): freeze new risk (AgreementBinding.terminate), close the positions
 * (the client through the order book, or a forced close after the close-out deadline), the client repays its debt,
 * unpaid fees charged on-chain (AgreementSettlement.chargeFee, the fee ledger), the waterfall executed on-chain
 * (AgreementSettlement.settleEnd: providers' share into the pool, platform's share to the platform account,
 * AgreementRegistry.close with the final settlement's hash), the final statement and the client's pain.001, and
 * the reconciliation of the bank leg against the on-chain redemption.
 */
export const END_STEPS = ["freeze", "close-positions", "repay", "fees", "settle", "statement", "reconcile"] as const;
export type EndStep = (typeof END_STEPS)[number] | "done";

/** running: the step can proceed now; waiting: on a party or a date (see `waitingFor`); failed: needs an officer. */
export type EndStatus = "running" | "waiting" | "failed" | "done";

export interface EndEvent {
  /** unix ms */
  at: number;
  step: EndStep;
  status: EndStatus;
  /** What happened, in English and Simplified Chinese. */
  note: { en: string; zh: string };
  txHash?: string;
}

export interface AgreementEndRecord {
  agreementId: string;
  /** The client's margin account (lower-case). */
  account: string;
  reason: EndReason;
  requestedBy: string;
  /** unix ms */
  requestedAt: number;
  step: EndStep;
  status: EndStatus;
  /** What the current step waits for or why it failed, in both languages. */
  waitingFor: { en: string; zh: string } | null;
  /** When a forced close may start: the binding's end plus the close-out period (unix seconds). */
  closeDeadline: number | null;
  /** The instance advancing the workflow and until when its lease holds (unix ms). */
  lease: { owner: string; until: number } | null;
  /**
   * A transaction the current step sent and whose outcome is not recorded yet (a crash between the send and the
   * record leaves it here; the next run reads the chain before sending anything again).
   */
  pending: { step: EndStep; txHash: string | null; sentAt: number } | null;
  /** Figures read from the chain and results of the steps (decimal strings, hashes, message ids). */
  facts: Record<string, string>;
  history: EndEvent[];
  /** Optimistic-concurrency version, incremented by every write. */
  revision: number;
  /** unix ms */
  updatedAt: number;
}

/** What the workflow needs from persistence. Writes with `expectedRevision` fail (return false) on a conflict. */
export interface AgreementEndStore {
  /** Inserts when absent; returns the stored record (the existing one when the agreement is ending already). */
  insertEnd(rec: AgreementEndRecord): Promise<{ record: AgreementEndRecord; created: boolean }>;
  getEnd(agreementId: string): Promise<AgreementEndRecord | undefined>;
  /** Compare-and-swap on revision; false when another writer changed the record meanwhile. */
  updateEnd(rec: AgreementEndRecord, expectedRevision: number): Promise<boolean>;
  listEnds(filter: { status?: EndStatus; account?: string }): Promise<AgreementEndRecord[]>;
}
