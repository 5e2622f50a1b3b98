import type { Request, Response } from "express";
import { z, type ZodError, type ZodTypeAny } from "zod";
import { canonicalJson, equalHex, open, randomHex, seal, sha256Hex } from "../shared/crypto";
import { AppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import type { IdempotencyOwner, Store } from "../store";
import { httpStatusOf } from "./errors";
import { loadApiKey } from "./keys";
import { loadSession, sessionCookie } from "./sessions";
import type { RateLimiter } from "./ratelimit";
import { isRole } from "./roles";
import type { Caller, Route } from "./route";
import { HEADER, signature } from "./signing";
import { verifyTotp } from "./totp";
import { parseJsonBody } from "./json";

export interface PipelineDeps {
  store: Store;
  secretKey: Buffer;
  timestampWindowMs: number;
  limiter: RateLimiter;
  log: Logger;
  /**
   * The process claiming idempotency keys (its instance and epoch): a key whose claiming process is gone is free
   * to retry. Without it, a pending key stays pending until its request ends.
   */
  owner?: () => IdempotencyOwner | undefined;
}

const NONCE = /^[A-Za-z0-9_-]{8,64}$/;
const KEY_ID = /^mbk_[0-9a-f]{24}$/;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

export const ANONYMOUS: Caller = { keyId: "anonymous", role: "anonymous", subject: "" };

export function errorBody(err: AppError, requestId: string): { error: Record<string, unknown> } {
  return { error: { code: err.code, message: err.message, details: err.details, requestId } };
}

function unauthenticated(reason: string, message: string): AppError {
  return new AppError("UNAUTHENTICATED", message, { details: { reason } });
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === "string" ? v : undefined;
}

interface Authenticated {
  caller: Caller;
  /** A signed request's nonce and timestamp (absent for a wallet session, which is not signed per request). */
  nonce?: string;
  timestamp?: number;
}

/**
 * A signed request (API key) when it carries the key header; otherwise the wallet session of its cookie. A session
 * is not signed per request: the cookie is HttpOnly and SameSite=Strict (no other site's page sends it) and every
 * write needs an Idempotency-Key header, which a cross-site form cannot set.
 */
async function authenticate(req: Request, raw: Buffer, deps: PipelineDeps): Promise<Authenticated> {
  const token = header(req, HEADER.key) === undefined ? sessionCookie(header(req, "cookie")) : undefined;
  if (token !== undefined) {
    const session = await loadSession(deps.store, token);
    if (!session || !isRole(session.role))
      throw unauthenticated("session_ended", "the wallet session is unknown, expired or revoked: sign in again");
    return { caller: { keyId: session.keyId, role: session.role, subject: session.subject } };
  }
  return authenticateSigned(req, raw, deps);
}

/** Checks the signature, timestamp window and TOTP. Records nothing: the nonce is consumed later. */
async function authenticateSigned(req: Request, raw: Buffer, deps: PipelineDeps): Promise<Authenticated> {
  const keyId = header(req, HEADER.key);
  const ts = header(req, HEADER.timestamp);
  const nonce = header(req, HEADER.nonce);
  const sig = header(req, HEADER.signature);
  if (!keyId || !ts || !nonce || !sig) {
    throw unauthenticated(
      "missing_headers",
      `signed requests need ${HEADER.key}, ${HEADER.timestamp}, ${HEADER.nonce} and ${HEADER.signature}`,
    );
  }
  if (!KEY_ID.test(keyId)) throw unauthenticated("unknown_key", "unknown or revoked API key");
  if (!/^[0-9]{1,16}$/.test(ts))
    throw unauthenticated("bad_timestamp", `${HEADER.timestamp} must be unix milliseconds`);
  if (!NONCE.test(nonce)) throw unauthenticated("bad_nonce", `${HEADER.nonce} must be 8-64 characters [A-Za-z0-9_-]`);
  if (!/^[0-9a-f]{64}$/.test(sig)) throw unauthenticated("bad_signature", "signature does not match the request");
  const key = await loadApiKey(deps.store, deps.secretKey, keyId);
  if (!key || !isRole(key.role)) throw unauthenticated("unknown_key", "unknown or revoked API key");
  if (!equalHex(signature(key.secret, req.method, req.originalUrl, raw, ts, nonce), sig)) {
    throw unauthenticated("bad_signature", "signature does not match the request");
  }
  const timestamp = Number(ts);
  if (Math.abs(Date.now() - timestamp) > deps.timestampWindowMs) {
    throw unauthenticated("stale_timestamp", `timestamp is outside the ${deps.timestampWindowMs / 1000} s window`);
  }
  if (key.totpSecret) {
    const code = header(req, HEADER.totp);
    if (!code) throw unauthenticated("totp_required", `this key requires a TOTP code in ${HEADER.totp}`);
    if (!verifyTotp(key.totpSecret, code)) throw unauthenticated("bad_totp", "TOTP code is not valid");
  }
  return { caller: { keyId, role: key.role, subject: key.subject }, nonce, timestamp };
}

function validationError(location: string, err: ZodError): AppError {
  const issues = err.issues.map((i) => ({ field: [location, ...i.path].join("."), message: i.message }));
  return new AppError("VALIDATION_FAILED", `${issues[0].field}: ${issues[0].message}`, { details: { issues } });
}

const NOTHING = z.object({}).strict();

function parsePart<S extends ZodTypeAny>(schema: S | undefined, value: unknown, location: string): unknown {
  const s = schema ?? NOTHING;
  const r = s.safeParse(value);
  if (!r.success) throw validationError(location, r.error);
  return r.data;
}

/** Route params or query: a part the route declares no schema for must be empty (checked without zod when it is). */
function parseFields(schema: ZodTypeAny | undefined, fields: object, location: string): unknown {
  if (schema === undefined && isEmpty(fields)) return {};
  return parsePart(schema, { ...fields }, location);
}

function isEmpty(fields: object): boolean {
  for (const _ in fields) return false;
  return true;
}

function parseBody(route: Route, req: Request, raw: Buffer): unknown {
  if (!route.body) {
    if (raw.length > 0)
      throw new AppError("VALIDATION_FAILED", "body: this operation takes no body", {
        details: { issues: [{ field: "body", message: "unexpected" }] },
      });
    return undefined;
  }
  const type = header(req, "content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "body must be application/json");
  }
  return parsePart(route.body, parseJsonBody(raw.toString("utf8")), "body");
}

/**
 * Builds the express handler of one route: authenticate → authorise → rate-limit → validate → consume the
 * nonce → (writes) claim the idempotency key → run → (writes) store the result and append the audit entry.
 * Nothing is written to the store before the request is known to be authentic, allowed and well-formed.
 */
export function routeHandler(route: Route, deps: PipelineDeps) {
  const action = route.action ?? `${route.method.toUpperCase()} ${route.path}`;
  return async (req: Request, res: Response): Promise<void> => {
    const requestId = res.locals.requestId as string;
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let caller = ANONYMOUS;
    let auth: Authenticated | undefined;
    if (route.roles !== "public") {
      auth = await authenticate(req, raw, deps);
      caller = auth.caller;
      if (!(route.roles as readonly string[]).includes(caller.role)) {
        throw new AppError("FORBIDDEN", `role ${caller.role} may not ${action}`, {
          details: { role: caller.role, allowed: route.roles },
        });
      }
      const wait = deps.limiter.take(caller.keyId);
      if (wait > 0) {
        res.setHeader("retry-after", String(wait));
        throw new AppError("RATE_LIMITED", "too many requests for this API key", {
          details: { retryAfterSeconds: wait },
        });
      }
    }
    const params = parseFields(route.params, req.params, "params");
    const query = parseFields(route.query, req.query as object, "query");
    const body = parseBody(route, req, raw);
    const idemKey = header(req, HEADER.idempotencyKey);
    const keyed = route.write || (route.idempotent === "optional" && idemKey !== undefined);
    if (keyed && (!idemKey || !IDEMPOTENCY_KEY.test(idemKey))) {
      throw new AppError(
        "VALIDATION_FAILED",
        `${HEADER.idempotencyKey}: ${route.write ? "every write needs" : "when given, it must be"} a key of 1-128 characters [A-Za-z0-9_.:-]`,
        {
          details: {
            issues: [{ field: `headers.${HEADER.idempotencyKey}`, message: route.write ? "required" : "malformed" }],
          },
        },
      );
    }
    if (auth?.nonce !== undefined && auth.timestamp !== undefined) {
      const fresh = await deps.store.nonces.use(caller.keyId, auth.nonce, auth.timestamp + deps.timestampWindowMs);
      if (!fresh) throw unauthenticated("replayed_nonce", "nonce was already used");
    }
    let log: Logger | undefined;
    const ctx = {
      params,
      query,
      body,
      caller,
      requestId,
      http: {
        host: header(req, "host"),
        secure: req.secure,
        setCookie: (value: string) => void res.append("set-cookie", value),
      },
      // built on first use: most handlers never log
      get log(): Logger {
        return (log ??= deps.log.child({ requestId, keyId: caller.keyId, route: action }));
      },
    };
    if (!keyed) {
      const out = await route.handler(ctx);
      if (route.audited) {
        await deps.store.transaction((tx) =>
          tx.audit.append({
            actor: caller.keyId,
            role: caller.role,
            action,
            requestId,
            details: {
              subject: caller.subject,
              method: req.method,
              path: req.path,
              params: params as Record<string, unknown>,
              status: route.status ?? 200,
            },
          }),
        );
      }
      if (route.contentType)
        res
          .status(route.status ?? 200)
          .type(route.contentType)
          .send(String(out));
      else res.status(route.status ?? 200).json(out);
      return;
    }

    const requestHash = sha256Hex([req.method, req.originalUrl, sha256Hex(raw)].join("\n"));
    const aad = `idem:${caller.keyId}:${idemKey}`;
    const owner = deps.owner?.();
    const claim = await deps.store.idempotency.begin(caller.keyId, idemKey!, requestHash, Date.now(), owner);
    if (claim.kind === "conflict") {
      throw new AppError("IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with a different request", {
        details: { idempotencyKey: idemKey },
      });
    }
    if (claim.kind === "in_progress") {
      throw new AppError("IDEMPOTENCY_IN_PROGRESS", "a request with this Idempotency-Key is still running", {
        details: { idempotencyKey: idemKey },
      });
    }
    if (claim.kind === "replay") {
      res.setHeader("idempotent-replayed", "true");
      res.status(claim.status).json(JSON.parse(open(deps.secretKey, String(claim.body), aad)));
      return;
    }
    if (claim.reclaimed)
      ctx.log.warn("idempotency key taken over from a process that is gone; running the request again", {
        idempotencyKey: idemKey,
      });
    let status: number;
    let payload: unknown;
    try {
      payload = await route.handler(ctx);
      status = route.status ?? 200;
    } catch (err) {
      const appErr = err instanceof AppError ? err : undefined;
      if (!appErr || httpStatusOf(appErr.code) >= 500) {
        await deps.store.idempotency.abandon(caller.keyId, idemKey!, owner).catch(() => undefined);
        throw err;
      }
      status = httpStatusOf(appErr.code);
      payload = errorBody(appErr, requestId);
    }
    // Responses may carry secrets (a new API key), so the stored copy is sealed like every secret at rest.
    const canonical = canonicalJson(payload ?? null);
    const sealed = seal(deps.secretKey, canonical, aad);
    const stored = await deps.store.transaction(async (tx) => {
      const done = await tx.idempotency.complete(caller.keyId, idemKey!, status, sealed, owner);
      if (!route.write) return done;
      await tx.audit.append({
        actor: caller.keyId,
        role: caller.role,
        action,
        requestId,
        details: {
          subject: caller.subject,
          method: req.method,
          path: req.path,
          params: params as Record<string, unknown>,
          status,
          idempotencyKey: idemKey,
          bodySha256: sha256Hex(raw),
        },
      });
      return done;
    });
    if (!stored)
      ctx.log.warn("idempotency key was taken over while this request ran; its response is not the stored one", {
        idempotencyKey: idemKey,
      });
    res.status(status).json(JSON.parse(canonical));
  };
}

/** A unique request id: a random per-process prefix and a counter (no entropy drawn per request). */
const REQUEST_PREFIX = `req_${randomHex(6)}`;
let requestCounter = 0;
export function newRequestId(): string {
  return `${REQUEST_PREFIX}${(++requestCounter).toString(36).padStart(6, "0")}`;
}
