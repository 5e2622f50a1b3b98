/** One price for one symbol, as a source saw it. */
export interface PriceQuote {
  symbol: string;
  /** Price of one whole token in the quote currency, in feed decimals (8): 10.25 CNY → 1_025_000_000n. */
  price: bigint;
  /** Unix seconds at which the source observed it. */
  observedAt: number;
}

/** Where reporters get prices: a file or HTTP JSON document, a market simulator, an exchange adapter. */
export interface PriceSource {
  readonly name: string;
  /** Quotes for the symbols the source knows (others are omitted). Called once per tick per source. */
  read(symbols: string[], now: number): Promise<PriceQuote[]>;
}

/** Structural subset of the service's JSON logger (offchain/shared/logger.ts); any such object fits. */
export interface ReporterLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const noopLogger: ReporterLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Feed decimals of every MarginBridge price feed. */
export const FEED_DECIMALS = 8;

/** Failures the reporter reports with a stable code. */
export type OracleErrorCode = "SOURCE_INVALID" | "SOURCE_UNAVAILABLE" | "QUORUM_UNAVAILABLE" | "CHAIN_UNAVAILABLE";

export class OracleReporterError extends Error {
  readonly code: OracleErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(
    code: OracleErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "OracleReporterError";
    this.code = code;
    this.details = opts.details;
  }
}
