import { z } from "zod";
import { defineRoute, type CapabilityRoutes, type Caller } from "../api";
import { AppError } from "../shared/errors";
import { formatUnits } from "../shared/money";
import type { AcknowledgementRecord, ApplicantRecord } from "../store";
import { acknowledgeDocument } from "./acknowledgeDocument";
import { AcknowledgementSchema } from "./acknowledgement";
import { approveOnChain, rejectApplication } from "./approveApplication";
import { documentRoutes } from "./documentRoutes";
import { IdentitySchema, openIdentity } from "./identity";
import type { KycDeps } from "./ports";
import { revokeApproval } from "./revokeApproval";
import { revokeIdentity } from "./revokeIdentity";
import { CreditScoreSchema, QuestionnaireSchema } from "./scoring";
import { submitApplication } from "./submitApplication";
import { SuitabilitySchema } from "./suitability";

const STATUSES = ["pending_review", "approving", "approved", "rejected", "revoking", "revoked", "expired"] as const;
const CaseRef = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,31}$/, "must be 1-31 characters [A-Za-z0-9_.:-] (stored on-chain as bytes32)");

const Acknowledgement = z.object({
  documentId: z.string(),
  version: z.number(),
  contentHash: z.string().openapi({ description: "keccak256 of the UTF-8 text read" }),
  language: z.string(),
  acknowledgedAt: z.number().openapi({ description: "unix seconds, as signed" }),
  signature: z.string(),
  signer: z.string(),
  recordedAt: z.number(),
});

const ApplicationView = z.object({
  id: z.string(),
  account: z.string(),
  status: z.enum(STATUSES),
  jurisdiction: z.number(),
  score: z.number(),
  tier: z.number(),
  maxLeverage: z.string().openapi({ description: 'multiple of own funds, e.g. "3"' }),
  identityHash: z.string(),
  reviewReasons: z.array(z.string()),
  screening: z.array(z.object({ entNum: z.string(), listName: z.string(), score: z.number() })),
  expiresAt: z.number().nullable(),
  txHash: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  identity: IdentitySchema.optional().openapi({ description: "only for KYC officers (the read is audited)" }),
  suitability: z
    .object({
      quizVersion: z.number(),
      score: z.number(),
      total: z.number(),
      correct: z.record(z.boolean()),
      answers: z.record(z.string()),
      quizTier: z.number(),
      riskTier: z.number(),
      tier: z.number(),
    })
    .nullable()
    .openapi({ description: "the quiz's result; tier = min(riskTier, quizTier)" }),
  acknowledgements: z
    .array(Acknowledgement)
    .optional()
    .openapi({ description: "the client's signed document acknowledgements (one application's view)" }),
});

const IdParams = z.object({ id: z.string().regex(/^kyc_[0-9a-f-]{36}$/, "must be an application id") }).strict();

function view(
  a: ApplicantRecord,
  deps: KycDeps,
  withIdentity: boolean,
  acknowledgements?: AcknowledgementRecord[],
): z.input<typeof ApplicationView> {
  return {
    id: a.id,
    account: a.account,
    status: a.status,
    jurisdiction: a.jurisdiction,
    score: a.score,
    tier: a.tier,
    maxLeverage: formatUnits(a.maxLeverage, 18),
    identityHash: a.identityHash,
    reviewReasons: a.reviewReasons,
    screening: a.screening,
    expiresAt: a.expiresAt,
    txHash: a.txHash,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    suitability: a.suitability,
    ...(acknowledgements ? { acknowledgements } : {}),
    ...(withIdentity ? { identity: openIdentity(deps.settings.dataKey, a.id, a.identitySealed).identity } : {}),
  };
}

async function readable(deps: KycDeps, id: string, caller: Caller): Promise<ApplicantRecord> {
  const a = await deps.store.kyc.get(id);
  // A client sees only its own applications; "not found" either way so ids cannot be probed.
  if (!a || (caller.role === "client" && a.account !== caller.subject.toLowerCase())) {
    throw new AppError("NOT_FOUND", "no such application", { details: { applicationId: id } });
  }
  return a;
}

/** The KYC capability's HTTP surface. */
export function kycRoutes(deps: KycDeps): CapabilityRoutes {
  return {
    name: "kyc",
    routes: [
      defineRoute({
        method: "post",
        path: "/v1/kyc/applications",
        summary: "Submit a KYC application for the calling client's account",
        description:
          "Identity data is sealed at rest; the name is screened against the sanctions list; the questionnaire and credit score give the tier.",
        tags: ["kyc"],
        roles: ["client"],
        write: true,
        action: "kyc.submit",
        status: 201,
        body: z
          .object({
            jurisdiction: z.number().int().min(1).max(999).openapi({ description: "ISO 3166-1 numeric, e.g. 156" }),
            identity: IdentitySchema,
            questionnaire: QuestionnaireSchema,
            suitability: SuitabilitySchema.openapi({
              description: "answers to GET /v1/kyc/suitability; scored here, never trusted from the client",
            }),
            creditScore: CreditScoreSchema,
          })
          .strict(),
        response: ApplicationView,
        handler: async ({ body, caller }) =>
          view(await submitApplication(deps, { ...body, account: caller.subject, actor: caller.keyId }), deps, false),
      }),
      defineRoute({
        method: "get",
        path: "/v1/kyc/applications",
        summary: "List applications (review queue)",
        tags: ["kyc"],
        roles: ["kyc_officer", "risk_officer", "auditor"],
        write: false,
        query: z
          .object({
            status: z.enum(STATUSES).optional(),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          })
          .strict(),
        response: z.object({ applications: z.array(ApplicationView) }),
        handler: async ({ query }) => {
          const list = await deps.store.kyc.list({ status: query.status, limit: query.limit });
          const acks = await Promise.all(list.map((a) => deps.store.kyc.acknowledgements(a.id)));
          return { applications: list.map((a, i) => view(a, deps, false, acks[i])) };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/kyc/applications/:id",
        summary: "One application; KYC officers also see the identity data (audited)",
        tags: ["kyc"],
        roles: ["client", "kyc_officer", "risk_officer", "auditor"],
        write: false,
        audited: true,
        action: "kyc.view",
        params: IdParams,
        response: ApplicationView,
        handler: async ({ params, caller }) => {
          const a = await readable(deps, params.id, caller);
          return view(a, deps, caller.role === "kyc_officer", await deps.store.kyc.acknowledgements(a.id));
        },
      }),
      ...documentRoutes(deps),
      acknowledgementRoute(deps),
      defineRoute({
        method: "get",
        path: "/v1/kyc/applications/:id/history",
        summary: "Full status history of an application",
        tags: ["kyc"],
        roles: ["client", "kyc_officer", "risk_officer", "auditor"],
        write: false,
        params: IdParams,
        response: z.object({
          history: z.array(
            z.object({
              status: z.string(),
              actor: z.string(),
              reason: z.string(),
              txHash: z.string().nullable(),
              at: z.number(),
            }),
          ),
        }),
        handler: async ({ params, caller }) => {
          await readable(deps, params.id, caller);
          return { history: await deps.store.kyc.history(params.id) };
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/kyc/applications/:id/approve",
        summary: "Approve after review: writes KycRegistry on-chain",
        tags: ["kyc"],
        roles: ["kyc_officer"],
        write: true,
        action: "kyc.approve",
        params: IdParams,
        body: z
          .object({ reason: z.string().min(1).max(500), tier: z.number().int().min(1).max(5).optional() })
          .strict(),
        response: ApplicationView,
        handler: async ({ params, body, caller }) =>
          view(await approveOnChain(deps, params.id, { ...body, actor: caller.keyId }), deps, false),
      }),
      defineRoute({
        method: "post",
        path: "/v1/kyc/applications/:id/reject",
        summary: "Reject after review",
        tags: ["kyc"],
        roles: ["kyc_officer"],
        write: true,
        action: "kyc.reject",
        params: IdParams,
        body: z.object({ reason: z.string().min(1).max(500) }).strict(),
        response: ApplicationView,
        handler: async ({ params, body, caller }) =>
          view(await rejectApplication(deps, params.id, { ...body, actor: caller.keyId }), deps, false),
      }),
      defineRoute({
        method: "post",
        path: "/v1/kyc/applications/:id/revoke",
        summary: "Revoke an approval: KycRegistry.revoke on-chain, effective in that block",
        tags: ["kyc"],
        roles: ["kyc_officer"],
        write: true,
        action: "kyc.revoke",
        params: IdParams,
        body: z.object({ caseRef: CaseRef, reason: z.string().min(1).max(500) }).strict(),
        response: ApplicationView,
        handler: async ({ params, body, caller }) =>
          view(await revokeApproval(deps, params.id, { ...body, actor: caller.keyId }), deps, false),
      }),
      defineRoute({
        method: "get",
        path: "/v1/kyc/discrepancies",
        summary: "What the last reconciliation found between KycRegistry and the KYC records",
        description:
          "unbacked-identity: verified on-chain with no approved application behind it (revoke it with " +
          "POST /v1/kyc/identities/:account/revoke); approved-not-verified: an approved application the chain " +
          "does not show as verified with its hash.",
        tags: ["kyc"],
        roles: ["kyc_officer", "auditor"],
        write: false,
        response: z.object({
          discrepancies: z.array(
            z.object({
              account: z.string(),
              kind: z.enum(["unbacked-identity", "approved-not-verified"]),
              applicationId: z.string().nullable(),
              chainIdentityHash: z.string().nullable(),
              detail: z.record(z.union([z.string(), z.number(), z.boolean(), z.null()])),
              firstSeen: z.number(),
              lastSeen: z.number(),
            }),
          ),
        }),
        handler: async () => ({ discrepancies: await deps.store.kyc.discrepancies() }),
      }),
      defineRoute({
        method: "post",
        path: "/v1/kyc/identities/:account/revoke",
        summary: "Revoke an on-chain identity that no approved application stands behind",
        description:
          "KycRegistry.revoke for an account verified on-chain without an approved (or in-flight) application; " +
          "an approved one is revoked through POST /v1/kyc/applications/:id/revoke.",
        tags: ["kyc"],
        roles: ["kyc_officer"],
        write: true,
        action: "kyc.identity.revoke",
        params: z.object({ account: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address") }).strict(),
        body: z.object({ caseRef: CaseRef, reason: z.string().min(1).max(500) }).strict(),
        response: z.object({ account: z.string(), txHash: z.string() }),
        handler: async ({ params, body, caller }) =>
          revokeIdentity(deps, params.account, { ...body, actor: caller.keyId }),
      }),
    ],
  };
}

/** The client's signed acknowledgement of a document (public reads: documentRoutes.ts). */
function acknowledgementRoute(deps: KycDeps) {
  return defineRoute({
    method: "post",
    path: "/v1/kyc/applications/:id/acknowledgements",
    summary: "Acknowledge a document with an EIP-712 signature of the application's wallet",
    description:
      "The signed message names this application, its account, the document, version, the keccak256 of the text " +
      "read and its language, and the time. Kept once per document version (a repeat returns the kept one). The " +
      "risk disclosure's acknowledgement lets the application be approved (at once when nothing else holds it).",
    tags: ["kyc"],
    roles: ["client"],
    write: true,
    action: "kyc.acknowledge",
    params: IdParams,
    body: AcknowledgementSchema,
    response: z.object({ application: ApplicationView, acknowledgement: Acknowledgement, created: z.boolean() }),
    handler: async ({ params, body, caller }) => {
      const done = await acknowledgeDocument(deps, await readable(deps, params.id, caller), body);
      const acks = await deps.store.kyc.acknowledgements(params.id);
      return {
        application: view(done.application, deps, false, acks),
        acknowledgement: done.acknowledgement,
        created: done.created,
      };
    },
  });
}
