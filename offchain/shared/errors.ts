/**
 * The one error type of the service. Every failure that crosses a capability boundary is an AppError with a
 * stable `code`; api/ maps codes to HTTP statuses in one place (offchain/api/errors.ts).
 */
export type ErrorCode =
  | "VALIDATION_FAILED"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "IDEMPOTENCY_KEY_REUSED"
  | "IDEMPOTENCY_IN_PROGRESS"
  | "RATE_LIMITED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "CHAIN_REVERTED"
  | "CHAIN_UNAVAILABLE"
  | "CONFIG_INVALID"
  | "STORE_FAILED"
  | "ORDER_REJECTED"
  | "NOT_LEADER"
  | "NOT_READY"
  | "INTERNAL";

export interface AppErrorOptions {
  /** Machine-readable facts about the failure (field paths, decoded revert arguments). Never personal data. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  override readonly name = "AppError";
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: AppErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.details = opts.details ?? {};
  }

  /** The chain of causes, outermost first, as short strings (for logs). */
  causeChain(): string[] {
    const out: string[] = [];
    let c: unknown = this.cause;
    for (let depth = 0; c !== undefined && c !== null && depth < 8; depth++) {
      out.push(c instanceof Error ? `${c.name}: ${c.message}` : String(c));
      c = c instanceof Error ? c.cause : undefined;
    }
    return out;
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(err: unknown, code: ErrorCode = "INTERNAL", message = "internal error"): AppError {
  if (err instanceof AppError) return err;
  return new AppError(code, message, { cause: err });
}
