import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import { AppError } from "../shared/errors";
import type { Store } from "../store";
import { groupsOf, normalAccount, setBeneficialOwner, type GroupView } from "./groups";
import { REVIEW_REASONS, decideReview, reviewJson, type KycTierWriter } from "./reviews";

const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address");
const Note = z.string().trim().min(3).max(1_000);
const Amount = z.string().openapi({ description: "cash base units, decimal string" });

/** What the order books count of a group's limits now (the leader's pre-trade risk); undefined: not known here. */
export type GroupUsage = (members: readonly string[]) =>
  | {
      notionalToday: bigint;
      exposure: bigint;
      limits: { maxExposure: bigint; maxNotionalPerDay: bigint } | undefined;
    }
  | undefined;

const Group = z.object({
  id: z.string(),
  members: z.array(z.string()),
  links: z.array(z.object({ key: z.string(), accounts: z.array(z.string()) })),
  usage: z
    .object({
      notionalToday: Amount,
      exposure: Amount,
      maxNotionalPerDay: Amount.nullable(),
      maxExposure: Amount.nullable(),
    })
    .nullable(),
});
const Owner = z.object({
  account: z.string(),
  owner: z.string(),
  note: z.string(),
  setBy: z.string(),
  setAt: z.number(),
  version: z.number(),
});
const Review = z.object({
  id: z.number(),
  account: z.string(),
  reason: z.string(),
  figure: z.string().openapi({ description: "leverage and loss share: 18 decimals; margin calls: a count" }),
  threshold: z.string(),
  evidence: z.record(z.unknown()),
  status: z.enum(["open", "lowered", "dismissed"]),
  openedAt: z.number(),
  decidedBy: z.string().nullable(),
  decidedAt: z.number().nullable(),
  action: z.string().nullable(),
  tier: z.string().nullable(),
  note: z.string().nullable(),
  kycTier: z.number().nullable(),
  kycTx: z.string().nullable(),
  kycError: z.string().nullable(),
  version: z.number(),
});

function withUsage(g: GroupView, usage: GroupUsage): z.input<typeof Group> {
  const u = usage(g.members);
  return {
    id: g.id,
    members: [...g.members],
    links: g.links,
    usage:
      u === undefined
        ? null
        : {
            notionalToday: u.notionalToday.toString(),
            exposure: u.exposure.toString(),
            maxNotionalPerDay: u.limits?.maxNotionalPerDay.toString() ?? null,
            maxExposure: u.limits?.maxExposure.toString() ?? null,
          },
  };
}

/**
 * Linked accounts and review queues (issue 25): the groups (accounts sharing a KYC identity hash or a declared
 * beneficial owner) with what they use of the group limits, the beneficial owner a risk or KYC officer declares,
 * and the review queue a risk officer decides (`lower-tier` through the behaviour registry, or `dismiss`).
 */
export function groupRoutes(
  store: Store,
  tiers: readonly string[],
  opts: {
    usage: GroupUsage;
    selfTrade: "refuse" | "flag";
    /** KycRegistry writes with the KYC officer's key (absent: the service holds none) and the claims' ttl. */
    kyc?: { writer: KycTierWriter | undefined; claimTtlMs: number };
  },
): CapabilityRoutes {
  const staff = ["risk_officer", "kyc_officer", "operator", "auditor"] as const;
  return {
    name: "surveillance-groups",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/surveillance/groups",
        summary: "Linked-account groups: members, what links them, and what they use of the group limits",
        tags: ["surveillance"],
        roles: [...staff],
        write: false,
        response: z.object({ groups: z.array(Group), selfTrade: z.enum(["refuse", "flag"]) }),
        handler: async () => ({
          groups: groupsOf(await store.groups.edges()).map((g) => withUsage(g, opts.usage)),
          selfTrade: opts.selfTrade,
        }),
      }),
      defineRoute({
        method: "get",
        path: "/v1/surveillance/groups/:groupId",
        summary: "One group (by any member's address) with its members' declared beneficial owners",
        tags: ["surveillance"],
        roles: [...staff],
        write: false,
        params: z.object({ groupId: Address }).strict(),
        response: Group.extend({ owners: z.array(Owner) }),
        handler: async ({ params }) => {
          const members = new Set(await store.groups.connected(normalAccount(params.groupId)));
          const g = groupsOf((await store.groups.edges()).filter((e) => members.has(e.account)))[0];
          if (g === undefined || !g.members.includes(normalAccount(params.groupId)))
            throw new AppError("NOT_FOUND", "the account is in no group", { details: { groupId: params.groupId } });
          const owners = (await Promise.all(g.members.map((m) => store.groups.owner(m)))).filter(
            (o) => o !== undefined,
          );
          return { ...withUsage(g, opts.usage), owners };
        },
      }),
      defineRoute({
        method: "put",
        path: "/v1/surveillance/accounts/:account/beneficial-owner",
        summary: "Declare an account's beneficial owner: accounts with the same owner form one group",
        description:
          "owner is the officer's identifier of the person or entity (a client number, an LEI). expectedVersion (0: " +
          "none declared yet) makes it a compare-and-swap: a change made meanwhile answers 409. Applies to the next " +
          "order of every member (group limits, self-trade prevention).",
        tags: ["surveillance"],
        roles: ["risk_officer", "kyc_officer"],
        write: true,
        action: "surveillance.owner.set",
        params: z.object({ account: Address }).strict(),
        body: z
          .object({
            owner: z.string().trim().min(1).max(128),
            note: Note,
            expectedVersion: z.number().int().min(0).optional(),
          })
          .strict(),
        response: Owner,
        handler: async ({ params, body, caller }) =>
          setBeneficialOwner(store, { ...body, account: params.account, actor: `${caller.role}:${caller.subject}` }),
      }),
      defineRoute({
        method: "get",
        path: "/v1/surveillance/reviews",
        summary: "The review queue: accounts whose leverage, margin calls or losses crossed a threshold",
        tags: ["surveillance"],
        roles: ["risk_officer", "operator", "auditor"],
        write: false,
        query: z
          .object({
            status: z.enum(["open", "lowered", "dismissed"]).optional(),
            account: Address.optional(),
          })
          .strict(),
        response: z.object({ reviews: z.array(Review), reasons: z.array(z.string()), tiers: z.array(z.string()) }),
        handler: async ({ query }) => ({
          reviews: (await store.groups.reviews(query)).map(reviewJson),
          reasons: [...REVIEW_REASONS],
          tiers: [...tiers],
        }),
      }),
      defineRoute({
        method: "post",
        path: "/v1/surveillance/reviews/:id/decide",
        summary: "Decide a review: lower the account's behaviour tier, or dismiss it, with a note",
        description:
          "expectedVersion is the review's version read: a review decided meanwhile answers 409 with its state. " +
          "lower-tier sets the behaviour tier (pre-trade risk applies it to the next order); with kycTier it also " +
          "lowers the account's KYC tier on KycRegistry (setIdentity with the same identity at that tier), when the " +
          "service holds the KYC officer key (409 otherwise).",
        tags: ["surveillance"],
        roles: ["risk_officer"],
        write: true,
        action: "surveillance.review.decide",
        params: z.object({ id: z.coerce.number().int().positive() }).strict(),
        body: z
          .object({
            action: z.enum(["lower-tier", "dismiss"]),
            tier: z.string().min(1).max(32).optional(),
            kycTier: z.number().int().min(0).max(255).optional(),
            note: Note,
            expectedVersion: z.number().int().min(1),
          })
          .strict(),
        response: Review,
        handler: async ({ params, body, caller }) =>
          reviewJson(
            await decideReview(
              store,
              tiers,
              { ...body, id: params.id, actor: `${caller.role}:${caller.subject}` },
              opts.kyc,
            ),
          ),
      }),
    ],
  };
}
