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

/** Label of the development key of a role (how a restart finds the keys it issued before). */
export function demoKeyLabel(role: Role): string {
  return `demo ${role}`;
}

/**
 * The development keys, one per role, kept across restarts: a role's active demo key whose subject is still the
 * wanted one is reused (its sealed secret opened again); every other active demo key of the role — an older set, a
 * client key for another account, one sealed under another secret key — is revoked; a role without a usable key
 * gets a new one. So a restart never leaves the previous set working beside a new one.
 */
export async function ensureDemoKeys(
  repos: Pick<Repositories, "apiKeys">,
  secretKey: Buffer,
  subjects: Partial<Record<Role, string>>,
): Promise<Partial<Record<Role, NewApiKey>>> {
  const out: Partial<Record<Role, NewApiKey>> = {};
  for (const [role, subject] of Object.entries(subjects) as [Role, string][]) {
    for (const k of await repos.apiKeys.activeByLabel(demoKeyLabel(role))) {
      const loaded = out[role] || k.subject !== subject ? undefined : await openKey(repos, secretKey, k.id);
      if (loaded && loaded.role === role) out[role] = { keyId: loaded.keyId, secret: loaded.secret, role, subject };
      else await repos.apiKeys.revoke(k.id, Date.now());
    }
    out[role] ??= await createApiKey(repos, secretKey, { role, subject, label: demoKeyLabel(role) });
  }
  return out;
}

async function openKey(
  repos: Pick<Repositories, "apiKeys">,
  secretKey: Buffer,
  keyId: string,
): Promise<LoadedKey | undefined> {
  try {
    return await loadApiKey(repos, secretKey, keyId);
  } catch {
    return undefined; // sealed under another secret key: unusable, so revoked
  }
}
