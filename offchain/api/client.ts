import { randomHex } from "../shared/crypto";
import { signedHeaders } from "./signing";
import { totpCode } from "./totp";

export interface ApiCredentials {
  keyId: string;
  secret: string;
  totpSecret?: string;
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small signing client for the API (tests, scripts, the CLI). */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly credentials?: ApiCredentials,
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    opts: { body?: unknown; idempotencyKey?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const body = opts.body === undefined ? "" : JSON.stringify(opts.body);
    const upper = method.toUpperCase();
    const writes = upper !== "GET" && upper !== "HEAD";
    const headers = this.credentials
      ? signedHeaders({
          keyId: this.credentials.keyId,
          secret: this.credentials.secret,
          method: upper,
          path,
          body,
          totp: this.credentials.totpSecret ? totpCode(this.credentials.totpSecret) : undefined,
          idempotencyKey: writes ? (opts.idempotencyKey ?? `idem-${randomHex(8)}`) : undefined,
        })
      : body
        ? { "content-type": "application/json" }
        : {};
    const res = await fetch(this.baseUrl + path, {
      method: upper,
      headers: { ...headers, ...opts.headers },
      body: body || undefined,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (e.g. /metrics)
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = unknown>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>("GET", path);
  }

  post<T = unknown>(path: string, body?: unknown, idempotencyKey?: string): Promise<ApiResponse<T>> {
    return this.request<T>("POST", path, { body, idempotencyKey });
  }
}
