import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import type { Notification, Override } from "../store";
import type { Keeper } from "./keeper";
import { pauseLiquidation, resumeLiquidation } from "./overrides";
import type { KeeperDeps } from "./ports";

const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address");
const Scope = z.enum(["account", "asset"]);
const OverrideView = z.object({
  scope: Scope,
  target: z.string(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.number(),
});
const NoticeView = z.object({
  id: z.number(),
  account: z.string(),
  kind: z.enum(["warning", "margin_call", "cured", "liquidated"]),
  deadline: z.number().nullable(),
  amountToCure: z.string().nullable().openapi({ description: "mbCNY base units (6 decimals)" }),
  equity: z.string().nullable(),
  maintenanceReq: z.string().nullable(),
  blockNumber: z.number().nullable(),
  txHash: z.string().nullable(),
  createdAt: z.number(),
  attempts: z.number(),
  deliveredAt: z.number().nullable(),
  lastError: z.string().nullable(),
});

const noticeView = (n: Notification): z.input<typeof NoticeView> => ({
  id: n.id,
  account: n.account,
  kind: n.kind,
  deadline: n.deadline,
  amountToCure: n.amountToCure?.toString() ?? null,
  equity: n.equity?.toString() ?? null,
  maintenanceReq: n.maintenanceReq?.toString() ?? null,
  blockNumber: n.blockNumber,
  txHash: n.txHash,
  createdAt: n.createdAt,
  attempts: n.attempts,
  deliveredAt: n.deliveredAt,
  lastError: n.lastError,
});

const overrideView = (o: Override): z.input<typeof OverrideView> => ({ ...o });

/** Keeper HTTP surface: overrides (risk officer), notices (console), status and metrics. */
export function keeperRoutes(deps: Pick<KeeperDeps, "store">, keeper?: Keeper): CapabilityRoutes {
  const store = deps.store;
  return {
    name: "keeper",
    routes: [
      defineRoute({
        method: "post",
        path: "/v1/keeper/overrides",
        summary: "Pause automatic liquidation of an account or of every account holding an asset (this keeper only)",
        tags: ["keeper"],
        roles: ["risk_officer"],
        write: true,
        body: z.object({ scope: Scope, target: Address, reason: z.string().min(3).max(500) }).strict(),
        response: OverrideView,
        status: 201,
        handler: async ({ body, caller }) =>
          overrideView(await pauseLiquidation(store, { ...body, actor: `${caller.role}:${caller.subject}` })),
      }),
      defineRoute({
        method: "delete",
        path: "/v1/keeper/overrides/:scope/:target",
        summary: "Resume automatic liquidation",
        tags: ["keeper"],
        roles: ["risk_officer"],
        write: true,
        params: z.object({ scope: Scope, target: Address }).strict(),
        response: z.object({ resumed: z.literal(true) }),
        handler: async ({ params }) => {
          await resumeLiquidation(store, params.scope, params.target);
          return { resumed: true as const };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/keeper/overrides",
        summary: "Active overrides",
        tags: ["keeper"],
        roles: ["risk_officer", "operator", "auditor"],
        write: false,
        response: z.object({ overrides: z.array(OverrideView) }),
        handler: async () => ({ overrides: (await store.keeper.overrides()).map(overrideView) }),
      }),
      defineRoute({
        method: "get",
        path: "/v1/keeper/notifications",
        summary: "Warning, margin-call, cure and liquidation notices (clients see their own account's)",
        tags: ["keeper"],
        roles: ["client", "risk_officer", "operator", "auditor"],
        write: false,
        query: z.object({ account: Address.optional() }).strict(),
        response: z.object({ notifications: z.array(NoticeView) }),
        handler: async ({ query, caller }) => {
          const account = caller.role === "client" ? caller.subject : query.account;
          return { notifications: (await store.keeper.notifications({ account })).map(noticeView) };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/keeper/status",
        summary: "Accounts per state, liquidations, bad debt, insurance coverage, intents",
        tags: ["keeper"],
        roles: ["risk_officer", "operator", "auditor"],
        write: false,
        response: z.object({ running: z.boolean(), metrics: z.record(z.unknown()), intents: z.record(z.number()) }),
        handler: async () => ({
          running: keeper !== undefined,
          metrics: keeper
            ? (JSON.parse(JSON.stringify(keeper.metrics, bigintToString)) as Record<string, unknown>)
            : {},
          intents: await store.keeper.intentCounts(),
        }),
      }),
    ],
  };
}

function bigintToString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
