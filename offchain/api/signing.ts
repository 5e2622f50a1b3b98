import { hmacSha256Hex, randomHex, sha256Hex } from "../shared/crypto";

/**
 * The request signature: hex HMAC-SHA256 under the key's secret of
 *   METHOD "\n" PATH_WITH_QUERY "\n" hex SHA-256(raw body) "\n" TIMESTAMP_MS "\n" NONCE
 * sent with the headers below. The same function signs on the client and verifies on the server.
 */
export const HEADER = {
  key: "x-mb-key",
  timestamp: "x-mb-timestamp",
  nonce: "x-mb-nonce",
  signature: "x-mb-signature",
  totp: "x-mb-totp",
  idempotencyKey: "idempotency-key",
  requestId: "x-request-id",
} as const;

export function signingString(
  method: string,
  pathWithQuery: string,
  body: string | Buffer,
  timestamp: string,
  nonce: string,
): string {
  return [method.toUpperCase(), pathWithQuery, sha256Hex(body), timestamp, nonce].join("\n");
}

export function signature(
  secret: string,
  method: string,
  pathWithQuery: string,
  body: string | Buffer,
  timestamp: string,
  nonce: string,
): string {
  return hmacSha256Hex(secret, signingString(method, pathWithQuery, body, timestamp, nonce));
}

export interface SignedRequestInput {
  keyId: string;
  secret: string;
  method: string;
  /** Path and query exactly as sent, e.g. "/v1/audit?limit=5". */
  path: string;
  body?: string;
  timestamp?: number;
  nonce?: string;
  totp?: string;
  idempotencyKey?: string;
}

/** Headers for a signed request (used by tests, the CLI and the web console). */
export function signedHeaders(r: SignedRequestInput): Record<string, string> {
  const timestamp = String(r.timestamp ?? Date.now());
  const nonce = r.nonce ?? randomHex(16);
  const body = r.body ?? "";
  const h: Record<string, string> = {
    [HEADER.key]: r.keyId,
    [HEADER.timestamp]: timestamp,
    [HEADER.nonce]: nonce,
    [HEADER.signature]: signature(r.secret, r.method, r.path, body, timestamp, nonce),
  };
  if (body) h["content-type"] = "application/json";
  if (r.totp) h[HEADER.totp] = r.totp;
  if (r.idempotencyKey) h[HEADER.idempotencyKey] = r.idempotencyKey;
  return h;
}
