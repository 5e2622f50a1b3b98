import type { ErrorCode } from "../shared/errors";

/** The one place error codes become HTTP statuses. Unknown codes are 500. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  CHAIN_REVERTED: 422,
  ORDER_REJECTED: 422,
  CHAIN_UNAVAILABLE: 503,
  NOT_LEADER: 503,
  NOT_READY: 503,
  CONFIG_INVALID: 500,
  STORE_FAILED: 500,
  INTERNAL: 500,
};

export function httpStatusOf(code: string): number {
  return HTTP_STATUS[code as ErrorCode] ?? 500;
}
