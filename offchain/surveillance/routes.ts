import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import { AppError } from "../shared/errors";
import type { BehaviourTierEvent, BehaviourTierRecord, Store } from "../store";
import { REASON_CODES, STANDARD_TIER, clearTier, setTier, tierOf } from "./behaviourTiers";

const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address");
const Reason = z.enum(REASON_CODES);
const Note = z.string().trim().min(3).max(1_000);
const TierRecord = z.object({
  account: z.string(),
  tier: z.string(),
  reasonCode: z.string(),
  note: z.string(),
  setBy: z.string(),
  setAt: z.number(),
  until: z.number().nullable().openapi({ description: "Unix ms; the tier lapses back to standard after it" }),
  version: z.number(),
});
const TierEvent = z.object({
  account: z.string(),
  action: z.enum(["set", "clear"]),
  tier: z.string(),
  reasonCode: z.string(),
  note: z.string(),
  actor: z.string(),
  at: z.number(),
  until: z.number().nullable(),
  version: z.number(),
});
const record = (r: BehaviourTierRecord): z.input<typeof TierRecord> => ({ ...r });
const event = ({ id: _id, ...e }: BehaviourTierEvent): z.input<typeof TierEvent> => e;

/**
 * Behaviour tiers (issue 25): the risk officer flags, restricts and clears accounts, every change audited (the API
 * pipeline's audit log) and kept in the tier's own history with its reason. Pre-trade risk reads the tier on
 * every order, so a change applies to the account's next order. A client sees its own tier and why.
 */
export function surveillanceRoutes(store: Store, tiers: readonly string[]): CapabilityRoutes {
  return {
    name: "surveillance",
    routes: [
      defineRoute({
        method: "put",
        path: "/v1/surveillance/behaviour-tiers/:account",
        summary: "Set an account's behaviour tier (flag or restrict it), with the reason; applies to its next order",
        description:
          "tier is one of the pre-trade limits' tiers other than standard (flagged: 1× leverage and one order a " +
          "second; restricted: it may only sell). expectedVersion (the version read) makes it a compare-and-swap: " +
          "a change made meanwhile answers 409 with the current record.",
        tags: ["surveillance"],
        roles: ["risk_officer"],
        write: true,
        action: "surveillance.tier.set",
        params: z.object({ account: Address }).strict(),
        body: z
          .object({
            tier: z.string().min(1).max(32),
            reasonCode: Reason,
            note: Note,
            until: z.number().int().positive().optional(),
            expectedVersion: z.number().int().min(0).optional(),
          })
          .strict(),
        response: TierRecord,
        handler: async ({ params, body, caller }) =>
          record(
            await setTier(store, tiers, {
              ...body,
              account: params.account,
              actor: `${caller.role}:${caller.subject}`,
            }),
          ),
      }),
      defineRoute({
        method: "post",
        path: "/v1/surveillance/behaviour-tiers/:account/clear",
        summary: "Clear an account back to the standard tier, with the reason",
        tags: ["surveillance"],
        roles: ["risk_officer"],
        write: true,
        action: "surveillance.tier.clear",
        params: z.object({ account: Address }).strict(),
        body: z
          .object({ reasonCode: Reason, note: Note, expectedVersion: z.number().int().min(0).optional() })
          .strict(),
        response: TierEvent,
        handler: async ({ params, body, caller }) =>
          event(
            await clearTier(store, { ...body, account: params.account, actor: `${caller.role}:${caller.subject}` }),
          ),
      }),
      defineRoute({
        method: "get",
        path: "/v1/surveillance/behaviour-tiers",
        summary: "Every account with a behaviour tier other than standard (lapsed ones marked)",
        tags: ["surveillance"],
        roles: ["risk_officer", "operator", "auditor"],
        write: false,
        response: z.object({
          tiers: z.array(TierRecord.extend({ effective: z.boolean() })),
          available: z.array(z.string()),
        }),
        handler: async () => {
          const now = Date.now();
          return {
            tiers: (await store.surveillance.tiers()).map((r) => ({
              ...record(r),
              effective: r.until === null || r.until > now,
            })),
            available: [...tiers],
          };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/surveillance/behaviour-tiers/:account",
        summary: "An account's behaviour tier now, its record and its history (a client: its own, without notes)",
        tags: ["surveillance"],
        roles: ["client", "risk_officer", "operator", "auditor"],
        write: false,
        params: z.object({ account: Address }).strict(),
        response: z.object({
          account: z.string(),
          tier: z.string(),
          record: TierRecord.nullable(),
          history: z.array(TierEvent),
        }),
        handler: async ({ params, caller }) => {
          const account = params.account.toLowerCase();
          const client = caller.role === "client";
          if (client && caller.subject.toLowerCase() !== account)
            throw new AppError("FORBIDDEN", "a client sees its own account's tier only");
          const current = await store.surveillance.tier(account);
          const tier = await tierOf(store, account);
          // a client reads its tier, the reason code and until when; the officers' notes and names stay inside
          const forClient = <T extends { note: string }>(x: T): T => (client ? { ...x, note: "" } : x);
          return {
            account,
            tier,
            record: current && tier !== STANDARD_TIER ? forClient(record(current)) : null,
            history: (await store.surveillance.history(account))
              .map(event)
              .map((e) => (client ? { ...forClient(e), actor: e.actor.split(":")[0] } : e)),
          };
        },
      }),
    ],
  };
}
