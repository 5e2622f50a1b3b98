import { z } from "zod";
import { defineRoute, type Route } from "../../api";
import { AppError } from "../../shared/errors";
import { issueAmendments } from "../issueAmendments";
import { amendmentMessage, amendmentTypedData, type AmendmentRecord } from "../legal";
import { legalCall, toWire } from "../wire";
import { AgreementParams, AnyJson, Hex32, STAFF_READ, type SettlementRouteContext } from "./common";

const AmendmentParams = z.object({ agreementId: Hex32, amendmentId: Hex32 }).strict();
const STATUSES = ["issued", "countersigned", "exited", "lapsed", "withdrawn"] as const;

/**
 * Amendments: a scheduled parameter change that moves a live agreement's terms, issued to its client, who
 * countersigns (EIP-712 AgreementAmendment) or exits before it takes effect; otherwise it lapses. Registered before
 * the agreement routes: `/v1/agreements/amendments` is not an agreement id.
 */
export function amendmentRoutes(ctx: SettlementRouteContext): Route[] {
  return [scanAmendments(ctx), listAllAmendments(ctx), listAmendments(ctx), countersign(ctx), exitAgreement(ctx)];
}

/** An amendment as the API shows it, with the typed data the client signs to countersign. */
export function amendmentView(a: AmendmentRecord, ctx: Pick<SettlementRouteContext, "deps">): unknown {
  return toWire({
    ...a,
    countersignature: a.countersignature ?? null,
    typedData: amendmentTypedData(ctx.deps.agreementDomain, amendmentMessage(a)),
  });
}

function scanAmendments(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/amendments/scan",
    summary: "Issue the amendments scheduled parameter changes make to live agreements (operator)",
    description:
      "What the background job does every minute, now: reads the operations pending in the AccessManager, issues " +
      "the missing amendments (one per agreement and operation; a re-scan issues nothing new), withdraws those whose " +
      "operation was cancelled before it took effect, and lapses the issued amendments whose effective time has passed.",
    tags: ["agreements"],
    roles: ["operator"],
    write: true,
    action: "agreement.amendments.scan",
    response: AnyJson,
    handler: async () => {
      const { readOperations, now } = ctx.deps;
      if (!readOperations)
        throw new AppError("CHAIN_UNAVAILABLE", "no AccessManager to read scheduled operations from");
      const scan = await legalCall(() =>
        issueAmendments({
          store: ctx.store.legal,
          domain: ctx.deps.agreementDomain,
          deployment: ctx.deps.deployment ?? { contracts: {}, tokens: [] },
          readOperations,
          now,
        }),
      );
      return { ...scan, issued: scan.issued.map((a) => amendmentView(a, ctx)) };
    },
  });
}

function listAllAmendments(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "get",
    path: "/v1/agreements/amendments",
    summary: "List amendments of every agreement, optionally in one status (staff)",
    tags: ["agreements"],
    roles: [...STAFF_READ],
    write: false,
    query: z.object({ status: z.enum(STATUSES).optional() }).strict(),
    response: z.object({ amendments: z.array(AnyJson) }),
    handler: async ({ query }) => ({
      amendments: (await ctx.store.legal.listAmendments(query.status)).map((a) => amendmentView(a, ctx)),
    }),
  });
}

function listAmendments(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "get",
    path: "/v1/agreements/:agreementId/amendments",
    summary: "An agreement's amendments with their status (its parties and staff)",
    tags: ["agreements"],
    roles: ["client", ...STAFF_READ],
    write: false,
    params: AgreementParams,
    response: z.object({ amendments: z.array(AnyJson) }),
    handler: async ({ params, caller }) => {
      await ctx.readAgreement(params.agreementId, caller);
      return { amendments: (await ctx.amendments.listOf(params.agreementId)).map((a) => amendmentView(a, ctx)) };
    },
  });
}

function countersign(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/:agreementId/amendments/:amendmentId/countersign",
    summary: "Countersign an amendment before it takes effect (its client; EIP-712 AgreementAmendment)",
    description:
      "The signature is the client's EIP-712 signature of {agreementId, amendmentId, textHash, effectiveAt} in the " +
      "agreement's domain (the amendment's typedData). 409 when the amendment was already answered or has lapsed.",
    tags: ["agreements"],
    roles: ["client"],
    write: true,
    action: "agreement.amendment.countersign",
    params: AmendmentParams,
    body: z.object({ signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte signature") }).strict(),
    response: AnyJson,
    handler: async ({ params, body, caller }) => {
      await ctx.readAgreement(params.agreementId, caller);
      const a = await legalCall(() =>
        ctx.amendments.countersign(params.agreementId, params.amendmentId, caller.subject, body.signature),
      );
      return amendmentView(a, ctx);
    },
  });
}

function exitAgreement(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/:agreementId/amendments/:amendmentId/exit",
    summary: "Exit the agreement instead of accepting an amendment, before it takes effect (its client)",
    description:
      "Records the client's exit (status exited); the agreement then ends under its unamended terms. 409 when the " +
      "amendment was already answered or has lapsed.",
    tags: ["agreements"],
    roles: ["client"],
    write: true,
    action: "agreement.amendment.exit",
    params: AmendmentParams,
    response: AnyJson,
    handler: async ({ params, caller }) => {
      await ctx.readAgreement(params.agreementId, caller);
      const a = await legalCall(() => ctx.amendments.exit(params.agreementId, params.amendmentId, caller.subject));
      return amendmentView(a, ctx);
    },
  });
}
