import type { z, AnyZodObject, ZodTypeAny } from "zod";
import type { Logger } from "../shared/logger";
import type { Role } from "./roles";

export interface Caller {
  keyId: string;
  role: Role | "anonymous";
  /** Client keys: the account address the key acts for; staff keys: a person or system name. */
  subject: string;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  caller: Caller;
  requestId: string;
  log: Logger;
  /** The HTTP exchange, for the few routes that need more than JSON (wallet sign-in sets its session cookie). */
  http: { host: string | undefined; secure: boolean; setCookie(value: string): void };
}

/**
 * One HTTP operation of a capability. The zod schemas validate input at the edge (unknown fields refused) and
 * generate the OpenAPI document; `roles` is the complete allow-list; `write` routes need an Idempotency-Key
 * and are written to the audit log.
 */
export interface RouteSpec<P extends AnyZodObject, Q extends AnyZodObject, B extends ZodTypeAny, R extends ZodTypeAny> {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** Express-style path, e.g. "/v1/kyc/applications/:id". */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  roles: readonly Role[] | "public";
  write: boolean;
  /**
   * A route that is not `write` may still take an Idempotency-Key when the client sends one ("optional"): a retry
   * with the same key and body gets the first answer (a signed order, whose own hash already makes it
   * idempotent, gains a definitive answer for a request whose response was lost). Not audited per request.
   */
  idempotent?: "optional";
  /** Also audit this read (an admin action such as viewing personal data). Writes are always audited. */
  audited?: boolean;
  /** Audit action name; defaults to "<METHOD> <path>". */
  action?: string;
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  /** Success status (200 unless given). */
  status?: number;
  /** The handler returns text sent with this content type instead of JSON (e.g. Prometheus' exposition format). */
  contentType?: string;
  handler(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<z.input<R>>;
}

// The registry stores routes with their generics erased; defineRoute keeps them checked at the definition.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Route = RouteSpec<any, any, any, any>;

export function defineRoute<
  P extends AnyZodObject = AnyZodObject,
  Q extends AnyZodObject = AnyZodObject,
  B extends ZodTypeAny = ZodTypeAny,
  R extends ZodTypeAny = ZodTypeAny,
>(spec: RouteSpec<P, Q, B, R>): Route {
  return spec as Route;
}

/** What each capability exports for the API: its routes (and, later, its WebSocket streams). */
export interface CapabilityRoutes {
  name: string;
  routes: Route[];
}
