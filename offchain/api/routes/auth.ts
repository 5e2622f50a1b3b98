import { z } from "zod";
import type { Store } from "../../store";
import { defineRoute, type CapabilityRoutes } from "../route";
import {
  issueSignInNonce,
  isSessionCaller,
  sessionSetCookie,
  signIn,
  SESSION_ROLE,
  type SessionSettings,
} from "../sessions";

export interface AuthRouteDeps {
  store: Store;
  settings: SessionSettings;
}

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");

/**
 * Wallet sign-in (EIP-4361): a nonce, the signed message verified into a session cookie, logout, and the operator's
 * revocation of an address's sessions. The sign-in routes are public (the signature is the credential); each
 * session opened is written to the audit log.
 */
export function authRoutes(deps: AuthRouteDeps): CapabilityRoutes {
  const { store, settings } = deps;
  return {
    name: "auth",
    routes: [
      defineRoute({
        method: "post",
        path: "/v1/auth/nonce",
        summary: "A single-use nonce for a Sign-In with Ethereum (EIP-4361) message",
        description:
          "The nonce is valid for a few minutes and opens at most one session. The message must name this service's " +
          "host as its domain, a URI on it, and the deployment's chain id.",
        tags: ["auth"],
        roles: "public",
        write: false,
        status: 201,
        response: z.object({ nonce: z.string(), expiresAt: z.number(), chainId: z.number() }),
        handler: async () => ({ ...(await issueSignInNonce(store, settings)), chainId: settings.chainId }),
      }),
      defineRoute({
        method: "post",
        path: "/v1/auth/siwe",
        summary: "Sign in with a wallet: a signed EIP-4361 message opens a short-lived client session",
        description:
          "The session is returned as an HttpOnly, SameSite=Strict cookie (mb_session), bound to the signed-in " +
          "address and the client role. Refused (401): a signature that is not the address's, another domain or " +
          "chain, an expired message, a nonce not issued here or already used.",
        tags: ["auth"],
        roles: "public",
        write: false,
        body: z
          .object({
            message: z.string().min(1).max(4096),
            signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "65-byte signature, 0x-prefixed hex"),
          })
          .strict(),
        response: z.object({ address, role: z.string(), sessionId: z.string(), expiresAt: z.number() }),
        handler: async ({ body, http, requestId }) => {
          const s = await signIn(store, settings, { ...body, host: http.host });
          http.setCookie(sessionSetCookie(s.token, Math.floor((s.expiresAt - Date.now()) / 1000), http.secure));
          await store.audit.append({
            actor: s.id,
            role: s.role,
            action: "auth.siwe.signIn",
            requestId,
            details: { subject: s.address.toLowerCase(), expiresAt: s.expiresAt, domain: s.message.domain },
          });
          return { address: s.address, role: s.role, sessionId: s.id, expiresAt: s.expiresAt };
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/auth/logout",
        summary: "End the caller's wallet session (its cookie is cleared and the session revoked at once)",
        tags: ["auth"],
        roles: [SESSION_ROLE],
        write: false,
        audited: true,
        action: "auth.logout",
        response: z.object({ sessionId: z.string().nullable(), revoked: z.boolean() }),
        handler: async ({ caller, http }) => {
          if (!isSessionCaller(caller)) return { sessionId: null, revoked: false };
          const revoked = await store.sessions.revoke(caller.keyId, Date.now());
          http.setCookie(sessionSetCookie("", 0, http.secure));
          return { sessionId: caller.keyId, revoked };
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/admin/sessions/revoke",
        summary: "Revoke every live wallet session of an address at once",
        tags: ["admin"],
        roles: ["operator"],
        write: true,
        action: "admin.sessions.revoke",
        body: z.object({ address }).strict(),
        response: z.object({ address, revoked: z.number() }),
        handler: async ({ body }) => ({
          address: body.address,
          revoked: await store.sessions.revokeAddress(body.address, Date.now()),
        }),
      }),
    ],
  };
}
