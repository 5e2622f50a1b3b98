import { AppError } from "../shared/errors";

/** Deepest nesting of objects and arrays a request body may have (the legal inputs need about 6). */
export const MAX_JSON_DEPTH = 32;

interface Frame {
  object: boolean;
  /** Object frames: the next string is a member name. */
  expectKey: boolean;
  keys?: Set<string>;
  lastKey?: string;
}

function refused(message: string, field = "body"): AppError {
  return new AppError("VALIDATION_FAILED", `${field}: ${message}`, { details: { issues: [{ field, message }] } });
}

/**
 * Parses a request body as JSON, refusing what JSON.parse would silently accept: nesting deeper than `maxDepth`
 * (a deep document costs every recursive consumer its stack) and a member name repeated within one object (the
 * last one would win, so a signed or audited body could mean two things). One linear scan before JSON.parse, so
 * nothing deep is ever handed to a recursive parser.
 */
export function parseJsonBody(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        const raw = text.slice(start, i + 1);
        const key = escaped ? decodeKey(raw) : raw.slice(1, -1);
        top.keys ??= new Set();
        if (top.keys.has(key)) throw refused(`duplicate key ${JSON.stringify(key)}`, pathOf(stack, "body"));
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) throw refused(`JSON nested deeper than ${maxDepth} levels`);
      stack.push({ object: c === 0x7b, expectKey: c === 0x7b });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw refused("not valid JSON");
  }
}

/** A member name with escapes; malformed ones are left to JSON.parse's own refusal. */
function decodeKey(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw;
  }
}

/** body.a.b: the member names of the enclosing objects (arrays shown as []). */
function pathOf(stack: Frame[], root: string): string {
  const parts = [root];
  for (const f of stack.slice(0, -1)) parts.push(f.object ? (f.lastKey ?? "?") : "[]");
  return parts.join(".");
}
