import { EventEmitter } from "node:events";
import { open, randomHex, seal } from "../shared/crypto";
import { AppError } from "../shared/errors";
import type { Repositories } from "../store";
import { STAFF_ROLES, type Role } from "./roles";
import { newTotpSecret } from "./totp";

export interface NewApiKey {
  keyId: string;
  /** Shown once; the store keeps it sealed with AES-256-GCM under config.api.secretKey. */
  secret: string;
  role: Role;
  subject: string;
  totpSecret?: string;
}

export interface CreateKeyInput {
  role: Role;
  subject: string;
  label: string;
  /** Require a TOTP code on every request of this key (staff roles only). */
  totp?: boolean;
}

export async function createApiKey(
  repos: Pick<Repositories, "apiKeys">,
  secretKey: Buffer,
  input: CreateKeyInput,
): Promise<NewApiKey> {
  if (input.totp && !STAFF_ROLES.includes(input.role)) {
    throw new AppError("VALIDATION_FAILED", "totp is only available for operator and officer keys", {
      details: { field: "totp" },
    });
  }
  const keyId = `mbk_${randomHex(12)}`;
  const secret = randomHex(32);
  const totpSecret = input.totp ? newTotpSecret() : undefined;
  await repos.apiKeys.insert({
    id: keyId,
    role: input.role,
    subject: input.subject,
    label: input.label,
    secretSealed: seal(secretKey, secret, `api-key:${keyId}`),
    totpSealed: totpSecret ? seal(secretKey, totpSecret, `api-totp:${keyId}`) : null,
    createdAt: Date.now(),
    revokedAt: null,
  });
  return { keyId, secret, role: input.role, subject: input.subject, ...(totpSecret ? { totpSecret } : {}) };
}

/**
 * Revocations made by this process, announced at once to whatever holds a key open beyond one request (the
 * WebSocket endpoint closes the key's sockets). Other instances learn of a revocation from the store: every
 * subscription re-reads the key, and open sockets are re-checked periodically.
 */
export const keyRevocations = new EventEmitter<{ revoked: [keyId: string] }>();
keyRevocations.setMaxListeners(0);

/** Revokes an API key at once (every later request, subscription and open socket of it is refused). */
export async function revokeApiKey(repos: Pick<Repositories, "apiKeys">, keyId: string): Promise<boolean> {
  const revoked = await repos.apiKeys.revoke(keyId, Date.now());
  if (revoked) keyRevocations.emit("revoked", keyId);
  return revoked;
}

export interface LoadedKey {
  keyId: string;
  role: string;
  subject: string;
  secret: string;
  totpSecret: string | null;
}

export async function loadApiKey(
  repos: Pick<Repositories, "apiKeys">,
  secretKey: Buffer,
  keyId: string,
): Promise<LoadedKey | undefined> {
  const k = await repos.apiKeys.get(keyId);
  if (!k || k.revokedAt !== null) return undefined;
  return {
    keyId: k.id,
    role: k.role,
    subject: k.subject,
    secret: openCached(secretKey, k.secretSealed, `api-key:${keyId}`),
    totpSecret: k.totpSealed ? openCached(secretKey, k.totpSealed, `api-totp:${keyId}`) : null,
  };
}

/**
 * Every signed request reads its key row (so a revocation or rotation takes effect on the next request), but the
 * AES-GCM opening of an unchanged sealed secret is remembered: the cache is keyed by the sealed value itself, so
 * a rotated secret is opened afresh. Bounded: cleared when it reaches MAX_OPENED entries.
 */
const MAX_OPENED = 10_000;
const opened = new Map<string, string>();
function openCached(secretKey: Buffer, sealed: string, aad: string): string {
  const id = `${aad}|${sealed}`;
  const hit = opened.get(id);
  if (hit !== undefined) return hit;
  const plain = open(secretKey, sealed, aad);
  if (opened.size >= MAX_OPENED) opened.clear();
  opened.set(id, plain);
  return plain;
}
