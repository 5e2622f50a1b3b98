import { z } from "zod";
import { defineRoute, type Route } from "../../api";
import { CLIENT_DOCUMENTS } from "../../kyc";
import type { Store } from "../../store";
import { AppError } from "../../shared/errors";
import { anchorAgreement } from "../anchorAgreement";
import { proposeBinding } from "../proposeBinding";
import { termsFromChain, type ChainTermsRequest, type FinancingTerms } from "../legal";
import { fromWire, legalCall, toWire } from "../wire";
import { chainTermsRequestWire, termsWire } from "../wireSchemas";
import { amendmentView } from "./amendments";
import { AnyJson, AgreementParams, STAFF_READ, agreementView, type SettlementRouteContext } from "./common";

/** Financing agreements: prepare → sign (EIP-712, each party) → anchor on the AgreementRegistry → read, list. */
export function agreementRoutes(ctx: SettlementRouteContext): Route[] {
  return [
    prepareAgreement(ctx),
    generateAgreement(ctx),
    signAgreement(ctx),
    anchorAgreementRoute(ctx),
    proposeBindingRoute(ctx),
    readAgreementRoute(ctx),
    listAgreements(ctx),
  ];
}

/** Prepare a financing agreement from its terms (platform). */
function prepareAgreement({ agreements }: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements",
    summary: "Prepare a financing agreement from its terms (platform)",
    tags: ["agreements"],
    roles: ["operator"],
    write: true,
    action: "agreement.prepare",
    status: 201,
    body: z.object({ terms: termsWire }).strict(),
    response: AnyJson,
    handler: async ({ body }) => {
      // What the chain applies is read from it, never typed in: terms with a schedule come from /generate.
      if (body.terms.schedule !== undefined)
        throw new AppError(
          "VALIDATION_FAILED",
          "body.terms.schedule: generated from the chain by POST /v1/agreements/generate",
        );
      return agreementView(await legalCall(() => agreements.prepare(fromWire<FinancingTerms>(body.terms))));
    },
  });
}

/**
 * Generate a financing agreement from the chain (platform): the per-asset schedule, the engine's rules, the pool's
 * rate, the client's leverage limit and the notice period are read at the latest block, so the signed text states
 * what the engine applies.
 */
function generateAgreement({ agreements, deps }: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/generate",
    summary: "Generate a financing agreement from the chain's margin schedule, rate and limits (platform)",
    tags: ["agreements"],
    roles: ["operator"],
    write: true,
    action: "agreement.generate",
    status: 201,
    body: chainTermsRequestWire,
    response: AnyJson,
    handler: async ({ body }) => {
      const read = deps.readSchedule;
      if (!read) throw new AppError("CHAIN_UNAVAILABLE", "no chain to read the agreement's schedule from");
      const request = fromWire<ChainTermsRequest>(body);
      const schedule = await read(request.client.address);
      return agreementView(await legalCall(async () => agreements.prepare(termsFromChain(schedule, request))));
    },
  });
}

/** Submit a party's EIP-712 signature of the agreement. */
function signAgreement({ agreements, readAgreement }: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/:agreementId/signatures",
    summary: "Submit a party's EIP-712 signature of the agreement",
    description:
      "A client submits its own signature; the operator submits the platform's. The signer is recovered and must be the party.",
    tags: ["agreements"],
    roles: ["client", "operator"],
    write: true,
    action: "agreement.sign",
    params: AgreementParams,
    body: z.object({ signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte signature") }).strict(),
    response: AnyJson,
    handler: async ({ params, body, caller }) => {
      await readAgreement(params.agreementId, caller);
      return agreementView(await legalCall(() => agreements.addSignature(params.agreementId, body.signature)));
    },
  });
}

/** Anchor a signed agreement on-chain (AgreementRegistry.anchor, sent by the operator key). */
function anchorAgreementRoute({ deps, store }: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/:agreementId/anchor",
    summary: "Anchor a signed agreement on-chain (AgreementRegistry.anchor, sent by the operator key)",
    tags: ["agreements"],
    roles: ["operator"],
    write: true,
    action: "agreement.anchor",
    params: AgreementParams,
    response: AnyJson,
    handler: async ({ params, log }) => {
      const chain = deps.chain;
      if (!chain) throw new AppError("CHAIN_UNAVAILABLE", "no operator key configured for the chain");
      await requireSummaryAcknowledged(store, params.agreementId);
      const claimTtlMs = deps.anchorClaimTtlMs ?? 300_000;
      return agreementView(
        await anchorAgreement({ store, chain, domain: deps.agreementDomain, claimTtlMs, log }, params.agreementId),
      );
    },
  });
}

/**
 * An agreement is anchored only for a client whose approved KYC file holds its signed acknowledgement of the
 * current financing agreement summary (kyc/documents.ts); enforced here, off-chain (the chain does not know it).
 */
async function requireSummaryAcknowledged(store: Store, agreementId: string): Promise<void> {
  const rec = await store.legal.getAgreement(agreementId);
  if (rec?.status !== "signed") return; // anchoring answers for a missing, unsigned or anchored agreement itself
  const client = rec.document.terms.client.address;
  const summary = CLIENT_DOCUMENTS["financing-summary"];
  if (await store.kyc.approvedAndAcknowledged(client, summary.id, summary.version)) return;
  throw new AppError(
    "CONFLICT",
    `the client has not acknowledged the financing agreement summary (融资合同摘要) v${summary.version} in an ` +
      "approved KYC file; the agreement is anchored after it",
    { details: { agreementId, client, documentId: summary.id, version: summary.version } },
  );
}

/**
 * Propose the on-chain binding of an anchored agreement (AgreementBinding.propose, sent by the operator key) with
 * the leverage and liquidation penalty of its signed terms; the client then accepts exactly these numbers from its
 * own wallet (the console), after which the engine holds its margin account to them.
 */
function proposeBindingRoute({ deps, store }: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/:agreementId/binding",
    summary: "Propose the on-chain binding of an anchored agreement (AgreementBinding.propose, operator key)",
    description:
      "The numbers come from the agreement's terms (leverageBps, liquidation.penaltyBps) as 18-decimal ratios. " +
      "Idempotent: when the chain holds them already nothing is sent. 409 while the agreement is not anchored or " +
      "another request is proposing it.",
    tags: ["agreements"],
    roles: ["operator"],
    write: true,
    action: "agreement.bind",
    params: AgreementParams,
    response: AnyJson,
    handler: async ({ params }) => {
      const chain = deps.chain;
      const readBinding = deps.readBinding;
      if (!chain || !readBinding)
        throw new AppError("CHAIN_UNAVAILABLE", "no operator key or AgreementBinding configured for the chain");
      const claimTtlMs = deps.anchorClaimTtlMs ?? 300_000;
      const out = await proposeBinding({ store, chain, readBinding, claimTtlMs }, params.agreementId);
      return { agreementId: params.agreementId, ...out, binding: toWire(out.binding) };
    },
  });
}

/** Read an agreement (its parties and staff), with its amendments and their status and its on-chain binding. */
function readAgreementRoute(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "get",
    path: "/v1/agreements/:agreementId",
    summary: "Read an agreement with its amendments (its parties and staff)",
    tags: ["agreements"],
    roles: ["client", ...STAFF_READ],
    write: false,
    params: AgreementParams,
    response: AnyJson,
    handler: async ({ params, caller }) => {
      const rec = await ctx.readAgreement(params.agreementId, caller);
      const amendments = (await ctx.amendments.listOf(params.agreementId)).map((a) => amendmentView(a, ctx));
      const anchored = rec.status === "anchored" || rec.status === "closed";
      const binding =
        anchored && ctx.deps.readBinding
          ? toWire(await ctx.deps.readBinding(params.agreementId, rec.document.terms.client.address))
          : null;
      return { ...(agreementView(rec) as Record<string, unknown>), amendments, binding };
    },
  });
}

/** List agreements: a client's own, or a party's (staff, ?party=). */
function listAgreements({ store }: SettlementRouteContext): Route {
  return defineRoute({
    method: "get",
    path: "/v1/agreements",
    summary: "List agreements: a client's own, or a party's (staff, ?party=)",
    tags: ["agreements"],
    roles: ["client", ...STAFF_READ],
    write: false,
    query: z
      .object({
        party: z
          .string()
          .regex(/^0x[0-9a-fA-F]{40}$/)
          .optional(),
      })
      .strict(),
    response: z.object({ agreements: z.array(AnyJson) }),
    handler: async ({ query, caller }) => {
      const party = caller.role === "client" ? caller.subject : query.party;
      if (!party) throw new AppError("VALIDATION_FAILED", "query.party: required for staff");
      return { agreements: (await store.legal.listAgreementsOf(party)).map(agreementView) };
    },
  });
}
