import { keccak256, toUtf8Bytes } from "ethers";
import { LegalError } from "./errors";

/**
 * Canonical JSON (the bytes every legal hash is taken over):
 * - object keys sorted by UTF-16 code unit order (JavaScript's default sort), no whitespace anywhere;
 * - every integer (bigint or safe-integer number) is written as a JSON *string* of its decimal digits, so that
 *   amounts larger than 2^53 survive any JSON parser; non-integer numbers, NaN and Infinity are refused;
 * - strings are escaped exactly as JSON.stringify escapes them; booleans and null as in JSON;
 * - `undefined` values and functions are refused (not silently dropped) so that two parties cannot disagree about
 *   whether an optional field was present; Date objects are refused (use unix seconds or ISO strings).
 */
export function canonicalize(value: unknown): string {
  return write(value, "$");
}

/** keccak256 of the UTF-8 bytes of the canonical JSON, as 0x-prefixed hex. */
export function canonicalHash(value: unknown): string {
  return keccak256(toUtf8Bytes(canonicalize(value)));
}

/** keccak256 of a UTF-8 string (documents, CSV, XML). */
export function textHash(text: string): string {
  return keccak256(toUtf8Bytes(text));
}

function write(value: unknown, path: string): string {
  switch (typeof value) {
    case "bigint":
      return `"${value.toString()}"`;
    case "number":
      if (!Number.isSafeInteger(value)) {
        throw new LegalError("LEGAL_NOT_CANONICAL", "only integers are allowed in canonical JSON", { path, value });
      }
      return `"${Object.is(value, -0) ? 0 : value}"`;
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map((v, i) => write(v, `${path}[${i}]`)).join(",")}]`;
      if (value instanceof Date) {
        throw new LegalError("LEGAL_NOT_CANONICAL", "dates must be unix seconds or ISO strings", { path });
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], `${path}.${k}`)}`).join(",")}}`;
    }
    default:
      throw new LegalError("LEGAL_NOT_CANONICAL", `a ${typeof value} cannot be written as canonical JSON`, { path });
  }
}
