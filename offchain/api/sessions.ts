import { equalHex, randomHex, sha256Hex } from "../shared/crypto";
import { AppError } from "../shared/errors";
import type { Repositories, Store } from "../store";
import type { Role } from "./roles";
import type { Caller } from "./route";
import { verifySiwe, type SiweExpectation, type SiweMessage } from "./siwe";

/**
 * Wallet sessions: a client signs in with the wallet that signs its orders (EIP-4361) and gets a short-lived,
 * revocable session bound to its address and the client role, carried in an HttpOnly, SameSite=Strict cookie so
 * that no script on the page can read it (an API key's HMAC secret in the browser's storage could be). Programs keep
 * using API keys.
 */
export const SESSION_COOKIE = "mb_session";
/** The role a wallet session acts in: its subject is the signed-in account, like a client API key's. */
export const SESSION_ROLE: Role = "client";

const TOKEN = /^mbs_[0-9a-f]{64}$/;

export interface SessionSettings {
  ttlMs: number;
  nonceTtlMs: number;
  /** Authorities a sign-in message may name; empty: the request's own Host. */
  domains: readonly string[];
  chainId: number;
}

export interface OpenedSession {
  token: string;
  id: string;
  address: string;
  role: Role;
  expiresAt: number;
}

function sessionId(tokenHash: string): string {
  return `ses_${tokenHash.slice(0, 24)}`;
}

/** Issues a fresh sign-in nonce (alphanumeric, as EIP-4361 requires), valid for nonceTtlMs and usable once. */
export async function issueSignInNonce(
  repos: Pick<Repositories, "sessions">,
  settings: Pick<SessionSettings, "nonceTtlMs">,
  now = Date.now(),
): Promise<{ nonce: string; expiresAt: number }> {
  const nonce = randomHex(16);
  const expiresAt = now + settings.nonceTtlMs;
  await repos.sessions.issueNonce(nonce, now, expiresAt);
  return { nonce, expiresAt };
}

/**
 * Verifies a signed sign-in message and opens a session: the nonce is consumed in the same transaction that stores
 * the session, so a message is good for one session only (a replay finds the nonce used and opens nothing).
 */
export async function signIn(
  store: Store,
  settings: SessionSettings,
  input: { message: string; signature: string; host: string | undefined },
  now = Date.now(),
): Promise<OpenedSession & { message: SiweMessage }> {
  const domains = settings.domains.length > 0 ? settings.domains : input.host ? [input.host] : [];
  const expect: SiweExpectation = {
    domains,
    chainId: settings.chainId,
    now,
    maxSkewMs: 60_000,
    maxAgeMs: settings.nonceTtlMs,
  };
  const message = verifySiwe(input.message, input.signature, expect);
  const token = `mbs_${randomHex(32)}`;
  const tokenHash = sha256Hex(token);
  const id = sessionId(tokenHash);
  const until = message.expirationTime ? Date.parse(message.expirationTime) : Infinity;
  const expiresAt = Math.min(now + settings.ttlMs, until);
  const address = message.address.toLowerCase();
  await store.transaction(async (tx) => {
    if (!(await tx.sessions.useNonce(message.nonce, now)))
      throw new AppError("UNAUTHENTICATED", "sign-in refused: the nonce is unknown, expired or already used", {
        details: { reason: "replayed_nonce" },
      });
    await tx.sessions.insert({
      id,
      tokenHash,
      address,
      role: SESSION_ROLE,
      nonce: message.nonce,
      createdAt: now,
      expiresAt,
      revokedAt: null,
    });
  });
  return { token, id, address: message.address, role: SESSION_ROLE, expiresAt, message };
}

/** The caller of a session token, or undefined when it is malformed, unknown, expired or revoked. */
export async function loadSession(
  repos: Pick<Repositories, "sessions">,
  token: string,
  now = Date.now(),
): Promise<(Caller & { expiresAt: number }) | undefined> {
  if (!TOKEN.test(token)) return undefined;
  const hash = sha256Hex(token);
  const s = await repos.sessions.get(sessionId(hash));
  if (!s || !equalHex(s.tokenHash, hash) || s.revokedAt !== null || s.expiresAt <= now) return undefined;
  return { keyId: s.id, role: s.role as Role, subject: s.address, expiresAt: s.expiresAt };
}

/** Whether a caller is a wallet session (its key id is the session's id). */
export function isSessionCaller(caller: Caller): boolean {
  return caller.keyId.startsWith("ses_");
}

/** The session cookie's value in a Cookie header, if any. */
export function sessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value of a session (or, with maxAgeSeconds 0, of its removal). */
export function sessionSetCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    "Path=/",
    `Max-Age=${maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}
