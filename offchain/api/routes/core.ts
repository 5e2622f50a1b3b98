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
}

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
  return {
    name: "core",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/health",
        summary: "Liveness and store engine",
        tags: ["service"],
        roles: "public",
        write: false,
        response: z.object({ status: z.literal("ok"), store: z.string() }),
        handler: async () => ({ status: "ok" as const, store: deps.store.engine }),
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
