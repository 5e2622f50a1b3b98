import { z } from "zod";
import { defineRoute, type Route } from "../../api";
import type { Dispute } from "../legal";
import { legalCall, toWire } from "../wire";
import { AnyJson, DisputeParams, Hex32, OFFICERS, STAFF_READ, actorOf, type SettlementRouteContext } from "./common";

/** Disputes on a trade, statement or liquidation, with their evidence bundles. */
export function disputeRoutes(ctx: SettlementRouteContext): Route[] {
  return [openDispute(ctx), moveDispute(ctx), readDispute(ctx)];
}

/** Open a dispute on a trade, statement or liquidation (a client on its own, or an officer). */
function openDispute({ disputes }: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/disputes",
    summary: "Open a dispute on a trade, statement or liquidation (a client on its own, or an officer)",
    description:
      "A client disputes only a subject it is a party to (a trade it bought or sold, its own statement or " +
      "liquidation), under its own account; anything else is 404. An officer names any party of the subject.",
    tags: ["disputes"],
    roles: ["client", ...OFFICERS],
    write: true,
    action: "dispute.open",
    status: 201,
    body: z
      .object({
        subject: z
          .object({
            kind: z.enum(["trade", "statement", "liquidation"]),
            ref: z.string().min(1).max(200),
            account: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
            agreementId: Hex32.optional(),
          })
          .strict(),
        reason: z.string().min(1).max(2000),
      })
      .strict(),
    response: AnyJson,
    handler: async ({ body, caller }) =>
      toWire(await legalCall(() => disputes.open(actorOf(caller), body.subject, body.reason))),
  });
}

/** Move a dispute: collect evidence, start review, resolve (officers) or withdraw (its client). */
function moveDispute({ disputes }: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/disputes/:disputeId/actions",
    summary: "Move a dispute: collect evidence, start review, resolve (officers) or withdraw (its client)",
    tags: ["disputes"],
    roles: ["client", ...OFFICERS],
    write: true,
    action: "dispute.update",
    params: DisputeParams,
    body: z.discriminatedUnion("action", [
      z.object({ action: z.literal("collect-evidence") }).strict(),
      z.object({ action: z.literal("start-review"), note: z.string().max(2000).optional() }).strict(),
      z
        .object({
          action: z.literal("resolve"),
          decision: z.enum(["upheld", "partially-upheld", "rejected"]),
          summary: z.string().min(1).max(2000),
          adjustment: z.string().regex(/^(0|[1-9][0-9]*)$/, "cash base units as a decimal string"),
        })
        .strict(),
      z.object({ action: z.literal("withdraw"), note: z.string().max(2000).optional() }).strict(),
    ]),
    response: AnyJson,
    handler: async ({ params, body, caller }) => {
      const by = actorOf(caller);
      const id = params.disputeId;
      const result: Dispute = await legalCall(async () => {
        switch (body.action) {
          case "collect-evidence":
            await disputes.collectEvidence(by, id);
            return disputes.view(by, id);
          case "start-review":
            return disputes.startReview(by, id, body.note);
          case "resolve":
            return disputes.resolve(by, id, {
              decision: body.decision,
              summary: body.summary,
              adjustment: BigInt(body.adjustment),
            });
          case "withdraw":
            return disputes.withdraw(by, id, body.note);
        }
      });
      return toWire(result);
    },
  });
}

/** Read a dispute and its evidence bundle (verifiable with the verify-evidence CLI). */
function readDispute({ disputes }: SettlementRouteContext): Route {
  return defineRoute({
    method: "get",
    path: "/v1/disputes/:disputeId",
    summary: "Read a dispute and its evidence bundle (verifiable with the verify-evidence CLI)",
    description:
      "Staff see the whole bundle. The client of the dispute sees its own side: items carrying another " +
      "account's data (the counterparty's signed order) come as {kind, id, redacted: true}; the manifest still " +
      "commits to them, so the root and every proof verify.",
    tags: ["disputes"],
    roles: ["client", ...STAFF_READ],
    write: false,
    params: DisputeParams,
    response: z.object({ dispute: AnyJson, evidence: AnyJson }),
    handler: async ({ params, caller }) => {
      const by = actorOf(caller);
      const d = await legalCall(() => disputes.view(by, params.disputeId));
      // A client sees its own side: the other party's signed order is redacted (still committed by the root).
      const bundle = await legalCall(() => disputes.evidenceFor(by, d.id));
      return { dispute: toWire(d), evidence: bundle ? toWire(bundle) : null };
    },
  });
}
