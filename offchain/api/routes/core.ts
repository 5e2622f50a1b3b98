import { z } from "zod";
import { AppError } from "../../shared/errors";
import { verifyAuditChain, type Store } from "../../store";
import { createApiKey, revokeApiKey } from "../keys";
import { ROLES } from "../roles";
import { defineRoute, type CapabilityRoutes } from "../route";

export interface CoreRouteDeps {
  store: Store;
  secretKey: Buffer;
  /** Extra facts for /v1/health and /v1/chain/status (indexer position…). */
  status?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The chain's health for readiness (chain/health.ts); without it readiness checks the store only. */
  chainHealth?: () => Promise<{ ok: boolean; lagBlocks: number | null }>;
  /** Readiness fails when the indexer trails the chain's head by more blocks than this (default 50). */
  readyMaxLagBlocks?: number;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, unknown>;
}

const ReadinessSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  live: z.literal(true),
  ready: z.boolean(),
  store: z.string(),
  checks: z.record(z.unknown()),
});

const AuditEntrySchema = z.object({
  seq: z.number(),
  at: z.string(),
  actor: z.string(),
  role: z.string(),
  action: z.string(),
  requestId: z.string(),
  details: z.record(z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

/** The foundation's own routes: health, identity of the caller, API keys, the audit log. */
export function coreRoutes(deps: CoreRouteDeps): CapabilityRoutes {
  // Ready: the store answers, the chain answers in time, the indexer keeps up with its head.
  const readiness = async (): Promise<Readiness> => {
    const [store, chain] = await Promise.all([storeCheck(deps.store), deps.chainHealth?.()]);
    const keepsUp = !chain || chain.lagBlocks === null || chain.lagBlocks <= (deps.readyMaxLagBlocks ?? 50);
    return {
      ready: store.ok && (!chain || (chain.ok && keepsUp)),
      checks: { store, ...(chain ? { chain } : {}) },
    };
  };
  return {
    name: "core",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/health",
        summary: "Liveness (always 200 while the process serves) with readiness and the chain's lag",
        description:
          "status is ok when ready, degraded otherwise; checks name the store, the chain (head, latency, block age) " +
          "and the indexer (last block, lag in blocks). Load balancers route on /v1/health/ready.",
        tags: ["service"],
        roles: "public",
        write: false,
        response: ReadinessSchema,
        handler: async () => {
          const r = await readiness();
          return {
            status: r.ready ? ("ok" as const) : ("degraded" as const),
            live: true as const,
            ready: r.ready,
            store: deps.store.engine,
            checks: r.checks,
          };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/health/live",
        summary: "Liveness: 200 while the process serves requests (no dependency is asked)",
        tags: ["service"],
        roles: "public",
        write: false,
        response: z.object({ status: z.literal("live") }),
        handler: async () => ({ status: "live" as const }),
      }),
      defineRoute({
        method: "get",
        path: "/v1/health/ready",
        summary:
          "Readiness: 200 when the store and the chain answer and the indexer keeps up, else 503 with the checks",
        tags: ["service"],
        roles: "public",
        write: false,
        response: ReadinessSchema,
        handler: async () => {
          const r = await readiness();
          if (!r.ready)
            throw new AppError("NOT_READY", "not ready: see details.checks", {
              details: { ready: false, checks: r.checks },
            });
          return {
            status: "ok" as const,
            live: true as const,
            ready: true,
            store: deps.store.engine,
            checks: r.checks,
          };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/me",
        summary: "The calling key's role and subject",
        tags: ["service"],
        roles: ROLES,
        write: false,
        response: z.object({ keyId: z.string(), role: z.string(), subject: z.string() }),
        handler: async ({ caller }) => ({ keyId: caller.keyId, role: caller.role, subject: caller.subject }),
      }),
      defineRoute({
        method: "get",
        path: "/v1/status",
        summary: "Service internals (indexer position, chain head, this instance, each singleton's lease holder)",
        tags: ["service"],
        roles: ["operator", "auditor", "risk_officer"],
        write: false,
        response: z.record(z.unknown()),
        handler: async () => (await deps.status?.()) ?? {},
      }),
      defineRoute({
        method: "post",
        path: "/v1/admin/api-keys",
        summary: "Create an API key (the secret is returned once)",
        tags: ["admin"],
        roles: ["operator"],
        write: true,
        action: "admin.apiKey.create",
        status: 201,
        body: z
          .object({
            role: z.enum(ROLES),
            subject: z.string().min(1).max(128),
            label: z.string().min(1).max(128),
            totp: z.boolean().optional(),
          })
          .strict(),
        response: z.object({
          keyId: z.string(),
          secret: z.string(),
          role: z.enum(ROLES),
          subject: z.string(),
          totpSecret: z.string().optional(),
        }),
        handler: async ({ body }) => createApiKey(deps.store, deps.secretKey, body),
      }),
      defineRoute({
        method: "post",
        path: "/v1/admin/api-keys/:keyId/revoke",
        summary: "Revoke an API key at once (its open WebSockets are closed)",
        tags: ["admin"],
        roles: ["operator"],
        write: true,
        action: "admin.apiKey.revoke",
        params: z.object({ keyId: z.string().regex(/^mbk_[0-9a-f]{24}$/, "must be an API key id") }).strict(),
        response: z.object({ keyId: z.string(), revoked: z.literal(true) }),
        handler: async ({ params }) => {
          if (!(await revokeApiKey(deps.store, params.keyId))) {
            throw new AppError("NOT_FOUND", "no active API key with this id", { details: { keyId: params.keyId } });
          }
          return { keyId: params.keyId, revoked: true as const };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/audit",
        summary: "Audit log entries from a sequence number",
        tags: ["audit"],
        roles: ["auditor", "operator"],
        write: false,
        query: z
          .object({
            fromSeq: z.coerce.number().int().min(1).default(1),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
          })
          .strict(),
        response: z.object({ entries: z.array(AuditEntrySchema) }),
        handler: async ({ query }) => ({ entries: await deps.store.audit.list(query.fromSeq, query.limit) }),
      }),
      defineRoute({
        method: "get",
        path: "/v1/audit/verify",
        summary: "Recompute the audit log's hash chain",
        tags: ["audit"],
        roles: ["auditor", "operator"],
        write: false,
        response: z.object({
          ok: z.boolean(),
          entries: z.number(),
          headHash: z.string(),
          brokenAt: z.object({ seq: z.number(), reason: z.string() }).optional(),
        }),
        handler: async () => verifyAuditChain(deps.store),
      }),
    ],
  };
}

/** The store answers a trivial read (a broken pool or a locked file shows here). */
export async function storeCheck(store: Store): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
  const started = performance.now();
  try {
    await store.chain.cursor("main");
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  }
}
