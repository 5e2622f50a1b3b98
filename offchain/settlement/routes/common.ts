import type { TypedDataDomain } from "ethers";
import { z } from "zod";
import type { Caller } from "../../api";
import type { SettlementChain } from "../../chain/settlementHubWriter";
import type { Store } from "../../store";
import type { AgreementEndDeps } from "../agreementEnd/workflow";
import type { DailyStatements } from "../dailyStatements";
import type { ChainScheduleReader } from "../readChainSchedule";
import type { DeploymentRecord } from "../../chain/deployment";
import type { PendingOperationsReader } from "../issueAmendments";
import type { BindingReader } from "../readBinding";
import type {
  Actor,
  AgreementRecord,
  AgreementService,
  AmendmentExitHook,
  AmendmentService,
  DisputeService,
} from "../legal";
import { toWire } from "../wire";

export interface SettlementRouteDeps {
  store: Store;
  /** The operator's chain writer; absent: anchoring answers CHAIN_UNAVAILABLE. */
  chain?: SettlementChain;
  /** EIP-712 domain of the AgreementRegistry (agreement signatures). */
  agreementDomain: TypedDataDomain;
  /** EIP-712 domain of the SettlementHub (order signatures in evidence). */
  settlementDomain: TypedDataDomain;
  /** How long an anchor transaction may take before reconciliation takes its claim over (ms; default 300,000). */
  anchorClaimTtlMs?: number;
  /** The daily statement job (reads the indexed chain); absent: POST /v1/statements/daily answers CHAIN_UNAVAILABLE. */
  dailyStatements?: DailyStatements;
  /** Reads the chain's side of an agreement; absent: POST /v1/agreements/generate answers CHAIN_UNAVAILABLE. */
  readSchedule?: ChainScheduleReader;
  /** The agreement-end workflow; absent (no operator key or no AgreementSettlement): its routes answer CHAIN_UNAVAILABLE. */
  agreementEnd?: AgreementEndDeps;
  /** Pending AccessManager operations; absent: POST /v1/agreements/amendments/scan answers CHAIN_UNAVAILABLE. */
  readOperations?: PendingOperationsReader;
  /** The addresses and tokens scheduled calls are decoded against (amendments). */
  deployment?: Pick<DeploymentRecord, "contracts" | "tokens">;
  /** Called after a client's exit from an amendment is recorded (default: recording only). */
  onAmendmentExit?: AmendmentExitHook;
  /** Reads an agreement's on-chain binding; absent: agreements show `binding: null`, binding answers 503. */
  readBinding?: BindingReader;
  now?: () => Date;
}

export const STAFF_READ = ["operator", "auditor", "risk_officer"] as const;
export const OFFICERS = ["operator", "risk_officer"] as const;
export const Hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of hex");
export const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD");
export const AnyJson = z.unknown();
export const AgreementParams = z.object({ agreementId: Hex32 }).strict();
export const DisputeParams = z
  .object({ disputeId: z.string().regex(/^D-[0-9a-f-]{36}$/, "must be a dispute id") })
  .strict();

export function actorOf(caller: Caller): Actor {
  return caller.role === "client" ? { role: "client", id: caller.subject } : { role: "officer", id: caller.subject };
}

export function agreementView(rec: AgreementRecord): unknown {
  return toWire({
    agreementId: rec.document.terms.agreementId,
    status: rec.status,
    termsHash: rec.document.termsHash,
    signatures: { client: rec.signatures.client ?? null, platform: rec.signatures.platform ?? null },
    anchor: rec.anchor ?? null,
    finalSettlementHash: rec.finalSettlementHash ?? null,
    revision: rec.revision,
    document: rec.document,
  });
}

/** What every settlement route works with: the dependencies, the agreement and dispute services. */
export interface SettlementRouteContext {
  deps: SettlementRouteDeps;
  store: Store;
  agreements: AgreementService;
  disputes: DisputeService;
  amendments: AmendmentService;
  /** An agreement the caller may see (a client its own, staff any), or LEGAL_NOT_FOUND. */
  readAgreement(agreementId: string, caller: Caller): Promise<AgreementRecord>;
}
