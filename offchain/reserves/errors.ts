/** Why a reserves operation refused its input; `code` is stable, `details` carries the failing values. */
export type ReservesErrorCode =
  | "INVALID_INPUT"
  | "NEGATIVE_VALUE"
  | "VALUE_OUT_OF_RANGE"
  | "SUM_OVERFLOW"
  | "DUPLICATE_ACCOUNT"
  | "DUPLICATE_COMMITMENT"
  | "ASSET_MISMATCH"
  | "PROOF_INVALID"
  | "DATASET_INVALID";

export class ReservesError extends Error {
  readonly code: ReservesErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ReservesErrorCode, message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "ReservesError";
    this.code = code;
    this.details = details;
  }
}
