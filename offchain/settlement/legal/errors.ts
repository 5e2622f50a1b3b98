/**
 * The legal capability's error: a stable code, a short message and the failing values. The service maps codes to
 * HTTP statuses (offchain/shared/errors.ts once it exists); nothing here knows about HTTP.
 */
export type LegalErrorCode =
  | "LEGAL_INVALID_TERMS"
  | "LEGAL_INVALID_INPUT"
  | "LEGAL_NOT_CANONICAL"
  | "LEGAL_BAD_SIGNATURE"
  | "LEGAL_NOT_FOUND"
  | "LEGAL_FORBIDDEN"
  | "LEGAL_CONFLICT"
  | "LEGAL_BAD_TRANSITION"
  | "LEGAL_XML";

export class LegalError extends Error {
  override readonly name = "LegalError";
  constructor(
    readonly code: LegalErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function legalAssert(
  condition: unknown,
  code: LegalErrorCode,
  message: string,
  details?: Record<string, unknown>,
): asserts condition {
  if (!condition) throw new LegalError(code, message, details);
}
