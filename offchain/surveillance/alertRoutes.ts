import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import { AppError } from "../shared/errors";
import type { AlertRecord, CaseRecord, Store } from "../store";
import { addCaseNote, decideAlert } from "./alerts";

const Id = z.object({ id: z.coerce.number().int().positive() }).strict();
const Note = z.string().trim().min(3).max(2_000);
const Version = z.number().int().min(1);
const STAFF = ["risk_officer", "operator", "auditor"] as const;

const Alert = z.object({
  id: z.number(),
  kind: z.enum(["order-flow", "aml", "sanctions"]),
  rule: z.string(),
  account: z.string(),
  instrument: z.string().nullable(),
  windowStart: z.number().openapi({ description: "order flow: Unix ms; AML: block number" }),
  windowEnd: z.number(),
  reasonCode: z.string(),
  proposedTier: z.string(),
  summary: z.string(),
  evidence: z.record(z.unknown()).openapi({
    description: "orderIds, tradeIds (or the chain movements), figures and the thresholds they crossed",
  }),
  amount: z.string().nullable().openapi({ description: "AML: base units" }),
  status: z.enum(["open", "accepted", "dismissed"]),
  raisedAt: z.number(),
  decidedBy: z.string().nullable(),
  decidedAt: z.number().nullable(),
  decisionNote: z.string().nullable(),
  version: z.number(),
  caseId: z.number().nullable(),
});
const Case = z.object({
  id: z.number(),
  alertId: z.number(),
  account: z.string(),
  status: z.enum(["open", "investigating", "reported", "closed"]),
  openedAt: z.number(),
  updatedAt: z.number(),
  version: z.number(),
});
const CaseNote = z.object({ author: z.string(), note: z.string(), status: z.string(), at: z.number() });

function alertOut(a: AlertRecord, caseId: number | null): z.input<typeof Alert> {
  const { dedupeKey: _key, amount, ...rest } = a;
  return { ...rest, amount: amount === null ? null : amount.toString(), caseId };
}
const caseOut = (c: CaseRecord): z.input<typeof Case> => ({ ...c });
const actor = (c: { role: string; subject: string }): string => `${c.role}:${c.subject}`;

async function alertWithCase(store: Store, a: AlertRecord): Promise<z.input<typeof Alert>> {
  return alertOut(a, (await store.alerts.caseOfAlert(a.id))?.id ?? null);
}

/**
 * Surveillance alerts and AML case files (issue 25): the risk officer reads an alert with its evidence, accepts it
 * (the account's behaviour tier is set through the registry) or dismisses it, compare-and-swap on the alert's
 * version; appends notes to a case and moves its status. Every write is audited by the API pipeline.
 */
export function alertRoutes(store: Store, tiers: readonly string[]): CapabilityRoutes {
  return {
    name: "surveillance-alerts",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/surveillance/alerts",
        summary: "Surveillance and AML alerts, newest first (filter by status, kind, account)",
        tags: ["surveillance"],
        roles: [...STAFF],
        write: false,
        query: z
          .object({
            status: z.enum(["open", "accepted", "dismissed"]).optional(),
            kind: z.enum(["order-flow", "aml", "sanctions"]).optional(),
            account: z
              .string()
              .regex(/^0x[0-9a-fA-F]{40}$/)
              .optional(),
          })
          .strict(),
        response: z.object({ alerts: z.array(Alert) }),
        handler: async ({ query }) => {
          const list = await store.alerts.list(query);
          const cases = new Map((await store.alerts.cases()).map((c) => [c.alertId, c.id]));
          return { alerts: list.map((a) => alertOut(a, cases.get(a.id) ?? null)) };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/surveillance/alerts/:id",
        summary: "One alert with its evidence (order ids, trade ids, figures against the thresholds)",
        tags: ["surveillance"],
        roles: [...STAFF],
        write: false,
        params: Id,
        response: Alert,
        handler: async ({ params }) => {
          const a = await store.alerts.get(params.id);
          if (a === undefined) throw new AppError("NOT_FOUND", `no alert ${params.id}`);
          return alertWithCase(store, a);
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/surveillance/alerts/:id/accept",
        summary: "Accept an alert: the account's behaviour tier is set (the proposed one, or `tier`), with the reason",
        description:
          "expectedVersion is the alert's version read: an alert decided or changed meanwhile answers 409 with the " +
          "current one, and nothing is written.",
        tags: ["surveillance"],
        roles: ["risk_officer"],
        write: true,
        action: "surveillance.alert.accept",
        params: Id,
        body: z
          .object({
            note: Note,
            tier: z.string().min(1).max(32).optional(),
            until: z.number().int().positive().optional(),
            expectedVersion: Version,
          })
          .strict(),
        response: Alert,
        handler: async ({ params, body, caller }) =>
          alertWithCase(
            store,
            await decideAlert(store, tiers, { ...body, id: params.id, action: "accept", actor: actor(caller) }),
          ),
      }),
      defineRoute({
        method: "post",
        path: "/v1/surveillance/alerts/:id/dismiss",
        summary: "Dismiss an alert, with the reason; the account's tier is not touched",
        tags: ["surveillance"],
        roles: ["risk_officer"],
        write: true,
        action: "surveillance.alert.dismiss",
        params: Id,
        body: z.object({ note: Note, expectedVersion: Version }).strict(),
        response: Alert,
        handler: async ({ params, body, caller }) =>
          alertWithCase(
            store,
            await decideAlert(store, tiers, { ...body, id: params.id, action: "dismiss", actor: actor(caller) }),
          ),
      }),
      defineRoute({
        method: "get",
        path: "/v1/surveillance/cases",
        summary: "AML and sanctions case files, newest first",
        tags: ["surveillance"],
        roles: [...STAFF],
        write: false,
        query: z.object({ status: z.enum(["open", "investigating", "reported", "closed"]).optional() }).strict(),
        response: z.object({ cases: z.array(Case) }),
        handler: async ({ query }) => ({ cases: (await store.alerts.cases(query.status)).map(caseOut) }),
      }),
      defineRoute({
        method: "get",
        path: "/v1/surveillance/cases/:id",
        summary: "A case file: its alert with the evidence, its status and every note",
        tags: ["surveillance"],
        roles: [...STAFF],
        write: false,
        params: Id,
        response: z.object({ case: Case, alert: Alert, notes: z.array(CaseNote) }),
        handler: async ({ params }) => {
          const c = await store.alerts.case(params.id);
          if (c === undefined) throw new AppError("NOT_FOUND", `no case ${params.id}`);
          return {
            case: caseOut(c),
            alert: alertOut((await store.alerts.get(c.alertId))!, c.id),
            notes: (await store.alerts.notes(c.id)).map(({ author, note, status, at }) => ({
              author,
              note,
              status,
              at,
            })),
          };
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/surveillance/cases/:id/notes",
        summary: "Append a note to a case file, optionally moving its status",
        description: "expectedVersion is the case's version read (compare-and-swap: 409 when it changed meanwhile).",
        tags: ["surveillance"],
        roles: ["risk_officer"],
        write: true,
        action: "surveillance.case.note",
        params: Id,
        body: z
          .object({
            note: Note,
            status: z.enum(["open", "investigating", "reported", "closed"]).optional(),
            expectedVersion: Version,
          })
          .strict(),
        response: z.object({ case: Case, notes: z.array(CaseNote) }),
        handler: async ({ params, body, caller }) => {
          const r = await addCaseNote(store, { ...body, caseId: params.id, actor: actor(caller) });
          return {
            case: caseOut(r.case),
            notes: r.notes.map(({ author, note, status, at }) => ({ author, note, status, at })),
          };
        },
      }),
    ],
  };
}
