import { z } from "zod";
import { defineRoute, type Route } from "../../api";
import { AppError } from "../../shared/errors";
import {
  advanceEnd,
  finalSettlementOf,
  recordBankConfirmation,
  requestEnd,
  retryEnd,
  type AgreementEndDeps,
} from "../agreementEnd/workflow";
import type { AgreementEndRecord } from "../agreementEnd/port";
import { renderFinalSettlementText, type FinancingTerms, type Payee } from "../legal";
import { legalCall, toWire } from "../wire";
import { bankAccountWire, bankAgentWire } from "../wireSchemas";
import { AgreementParams, OFFICERS, STAFF_READ, type SettlementRouteContext } from "./common";

/**
 * The agreement-end workflow (offchain/settlement/agreementEnd): start it (a client terminates its own agreement;
 * an officer ends any on expiry, termination or default), read each step, advance it now, retry a failed step, and
 * hand in the custodian bank's confirmation for the reconciliation. Without a chain writer the routes answer
 * CHAIN_UNAVAILABLE.
 */
export function agreementEndRoutes(ctx: SettlementRouteContext): Route[] {
  return [startEnd(ctx), readEnd(ctx), listEnds(ctx), advanceEndRoute(ctx), retryEndRoute(ctx), bankConfirmation(ctx)];
}

const payeeWire = z
  .object({ name: z.string().min(1).max(140), account: bankAccountWire, agent: bankAgentWire.optional() })
  .strict();

function workflow(ctx: SettlementRouteContext): AgreementEndDeps {
  const deps = ctx.deps.agreementEnd;
  if (!deps)
    throw new AppError("CHAIN_UNAVAILABLE", "no operator key or AgreementSettlement: agreements cannot be ended here");
  return deps;
}

/** The workflow as the API shows it: the record, and the final settlement once computed (lines and text). */
export async function endView(ctx: SettlementRouteContext, rec: AgreementEndRecord): Promise<unknown> {
  const legal = await ctx.store.legal.getAgreement(rec.agreementId);
  const terms: FinancingTerms | undefined = legal?.document.terms;
  const settlement = terms ? finalSettlementOf(rec, terms) : undefined;
  const { lease, facts, ...rest } = rec;
  // The bank file and the final statement's JSON are long: the view says the one was received and shows the other
  // as `finalSettlement` (lines and text); its hash is facts.finalHash.
  const { bankFile, payee, finalStatement, ...shown } = facts;
  return toWire({
    ...rest,
    busy: lease !== null && lease.until > Date.now(),
    facts: {
      ...shown,
      payee: payee ? (JSON.parse(payee) as Payee) : null,
      bankFileReceived: bankFile !== undefined,
      finalStatementIssued: finalStatement !== undefined,
    },
    finalSettlement: settlement ? { ...settlement, text: renderFinalSettlementText(settlement) } : null,
  });
}

/** Start the end of an agreement (idempotent per agreement). */
function startEnd(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/:agreementId/end",
    summary: "End an agreement: freeze, close, repay, fees, waterfall on-chain, final statement, pain.001, reconcile",
    description:
      "A client ends its own agreement early (reason termination); an officer ends any agreement on expiry, " +
      "termination or default. The payee is the client's bank account for the payout (it may follow in a second " +
      "request when the end was started without it, e.g. by an exit from an amendment). A second request for the " +
      "same agreement returns the workflow already under way (another reason: 409).",
    tags: ["agreements"],
    roles: ["client", ...OFFICERS],
    write: true,
    action: "agreement.end",
    status: 201,
    params: AgreementParams,
    body: z.object({ reason: z.enum(["expiry", "termination", "default"]), payee: payeeWire.optional() }).strict(),
    response: z.unknown(),
    handler: async ({ params, body, caller }) => {
      const deps = workflow(ctx);
      await ctx.readAgreement(params.agreementId, caller);
      if (caller.role === "client" && body.reason !== "termination")
        throw new AppError("FORBIDDEN", "a client may only terminate its own agreement (reason termination)");
      const { record } = await requestEnd(deps, {
        agreementId: params.agreementId,
        reason: body.reason,
        by: `${caller.role}:${caller.subject}`,
        payee: body.payee as Payee | undefined,
      });
      return endView(ctx, record.status === "done" ? record : await advanceEnd(deps, params.agreementId));
    },
  });
}

function readEnd(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "get",
    path: "/v1/agreements/:agreementId/end",
    summary: "Read an agreement's end: each step, what it waits for, the transactions and the final settlement",
    tags: ["agreements"],
    roles: ["client", ...STAFF_READ],
    write: false,
    params: AgreementParams,
    response: z.unknown(),
    handler: async ({ params, caller }) => {
      await ctx.readAgreement(params.agreementId, caller);
      const rec = await ctx.store.agreementEnds.getEnd(params.agreementId);
      if (!rec) throw new AppError("NOT_FOUND", "this agreement is not ending", { details: params });
      return endView(ctx, rec);
    },
  });
}

function listEnds(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "get",
    path: "/v1/agreement-ends",
    summary: "List agreement ends (staff; ?status=running|waiting|failed|done)",
    tags: ["agreements"],
    roles: [...STAFF_READ],
    write: false,
    query: z.object({ status: z.enum(["running", "waiting", "failed", "done"]).optional() }).strict(),
    response: z.object({ ends: z.array(z.unknown()) }),
    handler: async ({ query }) => {
      const ends = await ctx.store.agreementEnds.listEnds({ status: query.status });
      return { ends: await Promise.all(ends.map((e) => endView(ctx, e))) };
    },
  });
}

function advanceEndRoute(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/:agreementId/end/advance",
    summary: "Advance an agreement's end now (officer; the job does it every interval)",
    tags: ["agreements"],
    roles: [...OFFICERS],
    write: true,
    action: "agreement.end.advance",
    params: AgreementParams,
    response: z.unknown(),
    handler: async ({ params }) => endView(ctx, await advanceEnd(workflow(ctx), params.agreementId)),
  });
}

function retryEndRoute(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/:agreementId/end/retry",
    summary: "Retry the failed step of an agreement's end (officer)",
    tags: ["agreements"],
    roles: [...OFFICERS],
    write: true,
    action: "agreement.end.retry",
    params: AgreementParams,
    response: z.unknown(),
    handler: async ({ params }) => endView(ctx, await retryEnd(workflow(ctx), params.agreementId)),
  });
}

function bankConfirmation(ctx: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/agreements/:agreementId/end/bank-confirmation",
    summary: "Hand in the custodian bank's confirmation (camt.054 or CSV) of the client's payout (operator)",
    tags: ["agreements"],
    roles: ["operator"],
    write: true,
    action: "agreement.end.bank",
    params: AgreementParams,
    body: z.object({ format: z.enum(["camt054", "csv"]), content: z.string().min(1).max(1_000_000) }).strict(),
    response: z.unknown(),
    handler: async ({ params, body }) =>
      endView(ctx, await legalCall(() => recordBankConfirmation(workflow(ctx), params.agreementId, body))),
  });
}
