/**
 * The service's one logger: one JSON object per line with fixed fields (time, level, msg, then context).
 * Values under personal-data or secret keys are replaced by "[redacted]" before anything is written.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. { component: "indexer" } or { requestId }). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass a collector. */
  sink?: (line: string) => void;
  base?: LogFields;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * Keys whose values never reach a log line: secrets, credentials and personal data. Matched case-insensitively
 * against the whole key after removing "_" and "-".
 */
const REDACTED_KEYS = new Set(
  [
    "secret",
    "apisecret",
    "password",
    "passphrase",
    "privatekey",
    "encryptionkey",
    "signature",
    "authorization",
    "totp",
    "totpsecret",
    "totpcode",
    "identity",
    "fullname",
    "firstname",
    "lastname",
    "name",
    "dateofbirth",
    "dob",
    "documentnumber",
    "nationalid",
    "email",
    "phone",
    "homeaddress",
    "xmbsignature",
    "xmbtotp",
    "cookie",
    "mnemonic",
  ].map((k) => k.toLowerCase()),
);

export const REDACTED = "[redacted]";

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return "[depth]";
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; details?: unknown };
    return {
      name: e.name,
      message: e.message,
      ...(e.code !== undefined ? { code: e.code } : {}),
      ...(e.details !== undefined ? { details: redact(e.details, depth + 1) } : {}),
      ...(e.cause !== undefined ? { cause: redact(e.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = REDACTED_KEYS.has(k.replace(/[-_]/g, "").toLowerCase()) ? REDACTED : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const threshold = ORDER[opts.level ?? "info"];
  const sink = opts.sink ?? ((line: string) => process.stdout.write(line + "\n"));
  const base = opts.base ?? {};
  const write = (level: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields): void => {
    if (ORDER[level] < threshold) return;
    const ctx = redact({ ...base, ...(fields ?? {}) }) as LogFields;
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...ctx }));
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ level: opts.level, sink, base: { ...base, ...fields } }),
  };
}

/** A logger that writes nothing (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ level: "silent" });
