/** The risk capability's error: a stable code, a short message and the values that caused it. */
export class RiskError extends Error {
  override readonly name = "RiskError";

  constructor(
    readonly code:
      "RISK_UNKNOWN_ASSET" | "RISK_NO_PRICE" | "RISK_INVALID_INPUT" | "RISK_INVALID_CORRELATION" | "RISK_EMPTY_SAMPLE",
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
