import fc from "fast-check";
import { signedHeaders } from "../../offchain/api";

/**
 * Malformed requests generated from an OpenAPI 3.0 document (the service's own /openapi.json), so that every
 * route the service declares is fuzzed without anyone listing it. Every request carries at least one defect the
 * document itself says is invalid (a wrong type, a missing required field, an unknown field of a closed object, a
 * pattern, length or range violation, a path parameter off its pattern, a body where none is taken, JSON nested too
 * deep or with a repeated key, no Idempotency-Key on a write, a wrong role, a broken signature), so the service must
 * refuse each one with a 4xx before its handler runs: nothing may change.
 */

/** The subset of JSON Schema that zod-to-openapi emits. */
export interface Schema {
  type?: "object" | "array" | "string" | "number" | "integer" | "boolean";
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  nullable?: boolean;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
}

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema?: Schema;
}

export interface Operation {
  method: string;
  /** Express-style path with `{name}` placeholders. */
  path: string;
  roles: string[];
  write: boolean;
  params: Parameter[];
  query: Parameter[];
  body?: Schema;
}

export interface FuzzKey {
  keyId: string;
  secret: string;
  role: string;
}

export interface FuzzRequest {
  op: Operation;
  defect: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface OpenApiDoc {
  paths: Record<string, Record<string, OpenApiOperation>>;
}
interface OpenApiOperation {
  "x-mb-roles"?: string[];
  description?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

/** A document without x-mb-roles (an older service) names the roles in prose: "Roles: client, operator." */
function rolesFromDescription(description = ""): string[] {
  const m = /Roles: ([a-z_, ]+)\./.exec(description);
  return m ? m[1].split(",").map((r) => r.trim()) : [];
}

/** Every operation of the document, with its allow-list (x-mb-roles) and its input schemas. */
export function operationsOf(doc: OpenApiDoc): Operation[] {
  const out: Operation[] = [];
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const parameters = op.parameters ?? [];
      out.push({
        method: method.toUpperCase(),
        path: p,
        roles: op["x-mb-roles"] ?? rolesFromDescription(op.description),
        // a write requires the key; routes that only accept one (the order routes) are not writes
        write: parameters.some((x) => x.in === "header" && x.name === "idempotency-key" && x.required === true),
        params: parameters.filter((x) => x.in === "path"),
        query: parameters.filter((x) => x.in === "query"),
        body: op.requestBody?.content?.["application/json"]?.schema,
      });
    }
  }
  return out;
}

/**
 * Where a request schema leaves input unchecked: a schema with no type, an object that accepts unknown fields, an
 * open additionalProperties. "Every route validates its input" means this list is empty.
 */
export function openSchemas(ops: Operation[]): string[] {
  const found: string[] = [];
  const visit = (s: Schema | undefined, where: string): void => {
    if (!s) return;
    const branches = s.oneOf ?? s.anyOf ?? s.allOf;
    if (branches) return branches.forEach((b, i) => visit(b, `${where}|${i}`));
    if (s.enum) return;
    if (!s.type) return void found.push(`${where}: no type`);
    if (s.type === "object") {
      const ap = s.additionalProperties;
      if (s.properties && ap !== false) found.push(`${where}: accepts unknown fields`);
      if (!s.properties && (ap === undefined || ap === true || (typeof ap === "object" && !ap.type && !ap.enum)))
        found.push(`${where}: open object`);
      for (const [k, v] of Object.entries(s.properties ?? {})) visit(v, `${where}.${k}`);
      if (typeof ap === "object") visit(ap, `${where}.*`);
    }
    if (s.type === "array") {
      if (!s.items) found.push(`${where}: array of anything`);
      visit(s.items, `${where}[]`);
      if (s.maxItems === undefined) found.push(`${where}: unbounded array`);
    }
  };
  for (const op of ops) {
    const name = `${op.method} ${op.path}`;
    for (const p of [...op.params, ...op.query]) visit(p.schema, `${name} ${p.in}.${p.name}`);
    visit(op.body, `${name} body`);
  }
  return found;
}

/** A deterministic PRNG (mulberry32) so a failure reproduces from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A value that violates `s` for certain, or undefined when `s` accepts everything of every type. */
function violating(s: Schema, rnd: () => number): Json | undefined {
  const candidates: Json[] = [];
  const types = typesOf(s);
  if (s.enum) candidates.push(`not-in-enum-${Math.floor(rnd() * 1e6)}`, 987654321);
  for (const v of [12345, "fuzz", true, [1], { fuzz: 1 }, 1.5] as Json[]) {
    const t = jsonType(v);
    if (!types.has(t) && !(t === "integer" && types.has("number"))) candidates.push(v);
  }
  if (!s.nullable && !types.has("null")) candidates.push(null);
  if (types.has("string") && !s.enum) {
    const re = s.pattern ? new RegExp(s.pattern) : undefined;
    for (const str of ["", " ", "~!", "Ω", "a".repeat(Math.max(300, (s.maxLength ?? 0) + 1)), "0x", "-1", "1e3"]) {
      const tooShort = s.minLength !== undefined && str.length < s.minLength;
      const tooLong = s.maxLength !== undefined && str.length > s.maxLength;
      if (tooShort || tooLong || (re && !re.test(str))) candidates.push(str);
    }
  }
  if (types.has("integer") || types.has("number")) {
    if (typeof s.maximum === "number") candidates.push(s.maximum + 1);
    if (typeof s.minimum === "number") candidates.push(s.minimum - 1);
    if (types.has("integer") && !types.has("number")) candidates.push(2.5);
  }
  return candidates.length ? candidates[Math.floor(rnd() * candidates.length)] : undefined;
}

/**
 * A text that `s` refuses once the service coerces it (path and query values are strings; zod coerces numbers),
 * or undefined when every text is acceptable.
 */
function violatingText(s: Schema, rnd: () => number): string | undefined {
  const types = typesOf(s);
  const candidates: string[] = [];
  if (s.enum) candidates.push(`not-in-enum-${Math.floor(rnd() * 1e6)}`);
  else if (types.has("integer") || types.has("number")) {
    candidates.push("abc", "1e400x", "0x");
    if (typeof s.maximum === "number") candidates.push(String(s.maximum + 1));
    if (typeof s.minimum === "number") candidates.push(String(s.minimum - 1));
    if (!types.has("number") || s.type === "integer") candidates.push("2.5");
  } else if (types.has("boolean")) candidates.push("maybe");
  else if (types.has("string")) {
    const re = s.pattern ? new RegExp(s.pattern) : undefined;
    for (const str of [" ", "~!", "Ω", "a".repeat(Math.max(300, (s.maxLength ?? 0) + 1)), "0x", "-1"]) {
      const tooShort = s.minLength !== undefined && str.length < s.minLength;
      const tooLong = s.maxLength !== undefined && str.length > s.maxLength;
      if (tooShort || tooLong || (re && !re.test(str))) candidates.push(str);
    }
  }
  return candidates.length ? candidates[Math.floor(rnd() * candidates.length)] : undefined;
}

function typesOf(s: Schema): Set<string> {
  const out = new Set<string>();
  const branches = s.oneOf ?? s.anyOf ?? s.allOf;
  if (branches) for (const b of branches) for (const t of typesOf(b)) out.add(t);
  if (s.type) out.add(s.type);
  if (s.enum) for (const v of s.enum) out.add(jsonType(v as Json));
  if (!s.type && !branches && !s.enum) for (const t of ["object", "array", "string", "number", "boolean"]) out.add(t);
  if (out.has("number")) out.add("integer");
  return out;
}

function jsonType(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Builds instances of a schema (valid where it is easy, no promise otherwise) and remembers every site. */
class InstanceBuilder {
  private readonly patternSamples = new Map<string, string[]>();
  constructor(
    private readonly rnd: () => number,
    private readonly seed: number,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }

  private matching(pattern: string): string {
    let pool = this.patternSamples.get(pattern);
    if (!pool) {
      pool = fc.sample(fc.stringMatching(new RegExp(pattern)), { numRuns: 20, seed: this.seed });
      this.patternSamples.set(pattern, pool);
    }
    return this.pick(pool);
  }

  build(s: Schema, depth = 0): Json {
    const branches = s.oneOf ?? s.anyOf;
    if (branches) return this.build(this.pick(branches), depth);
    if (s.allOf) return this.build(s.allOf[0], depth);
    if (s.enum) return this.pick(s.enum as Json[]);
    switch (s.type) {
      case "string":
        if (s.pattern) return this.matching(s.pattern);
        return "x".repeat(Math.max(1, s.minLength ?? 1));
      case "integer":
      case "number": {
        const lo = typeof s.minimum === "number" ? s.minimum : 0;
        const hi = typeof s.maximum === "number" ? s.maximum : lo + 1000;
        return Math.min(hi, lo + Math.floor(this.rnd() * 10));
      }
      case "boolean":
        return this.rnd() < 0.5;
      case "array": {
        if (depth > 8 || !s.items) return [];
        const n = Math.max(s.minItems ?? 0, Math.floor(this.rnd() * 2));
        return Array.from({ length: n }, () => this.build(s.items!, depth + 1));
      }
      case "object": {
        const out: { [k: string]: Json } = {};
        for (const [k, v] of Object.entries(s.properties ?? {})) {
          if ((s.required ?? []).includes(k) || this.rnd() < 0.5) out[k] = this.build(v, depth + 1);
        }
        if (typeof s.additionalProperties === "object" && depth < 8)
          out[this.rnd() < 0.5 ? "mbBANK" : "COMMISSION"] = this.build(s.additionalProperties, depth + 1);
        return out;
      }
      default:
        // No schema at all: anything goes (a route that does not validate this part).
        return this.pick([{}, [], "x", 1, null, { terms: { client: 1 } }, [[[]]]] as Json[]);
    }
  }
}

/** One site of an instance: where it is, its schema, and how to replace it. */
interface Site {
  schema: Schema;
  value: Json;
  set(v: Json | undefined): void;
}

function sitesOf(s: Schema, value: Json, set: (v: Json | undefined) => void, out: Site[]): void {
  out.push({ schema: s, value, set });
  const branches = s.oneOf ?? s.anyOf;
  if (branches) return; // mutate the union as a whole: a part of one branch may be valid in another
  if (s.type === "object" && value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      const sub =
        s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
      if (sub)
        sitesOf(
          sub,
          v,
          (nv) => {
            if (nv === undefined) delete value[k];
            else value[k] = nv;
          },
          out,
        );
    }
  }
  if (s.type === "array" && Array.isArray(value) && s.items) {
    value.forEach((v, i) => sitesOf(s.items!, v, (nv) => (value[i] = nv === undefined ? null : nv), out));
  }
}

/** Applies one defect the schema forbids to a random site of `value`; false when none could be applied. */
function invalidate(s: Schema, root: { v: Json }, rnd: () => number): boolean {
  const sites: Site[] = [];
  sitesOf(s, root.v, (v) => (root.v = v === undefined ? null : v), sites);
  for (let attempt = 0; attempt < 8; attempt++) {
    const site = sites[Math.floor(rnd() * sites.length)];
    const sc = site.schema;
    const kind = Math.floor(rnd() * 3);
    const obj = site.value && typeof site.value === "object" && !Array.isArray(site.value) ? site.value : undefined;
    if (kind === 0 && obj && sc.type === "object" && sc.additionalProperties === false) {
      obj[`fuzz_${Math.floor(rnd() * 1e6)}`] = 1;
      return true;
    }
    if (kind === 1 && obj && sc.required?.length) {
      const k = sc.required[Math.floor(rnd() * sc.required.length)];
      if (k in obj) {
        delete obj[k];
        return true;
      }
    }
    if (sc.type === "array" && sc.maxItems !== undefined && sc.maxItems < 64 && Array.isArray(site.value) && sc.items) {
      if (kind === 1) {
        site.set(Array.from({ length: sc.maxItems + 1 }, () => (site.value as Json[])[0] ?? null));
        return true;
      }
    }
    const bad = violating(sc, rnd);
    if (bad !== undefined) {
      site.set(bad);
      return true;
    }
  }
  return false;
}

function nested(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

export interface GeneratorOptions {
  seed: number;
  /** Keys by role, for signed requests. */
  keys: Record<string, FuzzKey>;
  /** The service's JSON nesting limit (a body one deeper must be refused). */
  maxDepth: number;
  /** The methods the document defines on each path. */
  methodsByPath: Map<string, Set<string>>;
}

/** Generates malformed requests for `op`, one defect class chosen at random among those that apply. */
export class RequestGenerator {
  private readonly rnd: () => number;
  private readonly builder: InstanceBuilder;
  private counter = 0;

  constructor(private readonly opts: GeneratorOptions) {
    this.rnd = prng(opts.seed);
    this.builder = new InstanceBuilder(this.rnd, opts.seed);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }

  /** A concrete path: each parameter valid-looking, or (badParam) one of them violating its schema. */
  private pathOf(op: Operation, badParam?: string): string | undefined {
    let out = op.path;
    for (const p of op.params) {
      let v: Json;
      if (p.name === badParam) {
        const bad = p.schema ? violatingText(p.schema, this.rnd) : undefined;
        if (bad === undefined) return undefined;
        v = bad;
      } else v = p.schema ? this.builder.build(p.schema) : "x";
      out = out.replace(`{${p.name}}`, encodeURIComponent(String(v)));
    }
    return out;
  }

  private validQuery(op: Operation): string[] {
    const parts: string[] = [];
    for (const q of op.query) {
      if (!q.required && this.rnd() < 0.6) continue;
      const v = q.schema ? this.builder.build(q.schema) : "1";
      parts.push(`${q.name}=${encodeURIComponent(String(v))}`);
    }
    return parts;
  }

  private bodyOf(op: Operation): { v: Json } {
    return { v: op.body ? this.builder.build(op.body) : {} };
  }

  private sign(key: FuzzKey, method: string, path: string, body: string | undefined, write: boolean) {
    return signedHeaders({
      keyId: key.keyId,
      secret: key.secret,
      method,
      path,
      body,
      ...(write ? { idempotencyKey: `fz-${this.opts.seed}-${++this.counter}` } : {}),
    });
  }

  /** The defect classes that apply to `op`. */
  defects(op: Operation): string[] {
    const d: string[] = ["query-unknown"];
    if (op.roles.length) d.push("unsigned", "bad-signature");
    if (op.roles.length && op.roles.length < Object.keys(this.opts.keys).length) d.push("wrong-role");
    if (op.params.some((p) => p.schema && violatingText(p.schema, () => 0) !== undefined)) d.push("bad-param");
    if (op.query.some((q) => q.schema && violatingText(q.schema, () => 0) !== undefined)) d.push("bad-query");
    if (op.body) d.push("bad-body", "bad-body", "bad-body", "not-json", "too-deep", "duplicate-key", "media-type");
    else if (op.method !== "GET") d.push("unexpected-body");
    if (this.otherMethods(op).length) d.push("wrong-method");
    if (op.write) d.push("no-idempotency-key");
    return d;
  }

  /** The instance with a nesting bomb in one of its objects (deep inside, where only a recursive decoder looks). */
  private deepBody(op: Operation, root: { v: Json }): string {
    const sites: Site[] = [];
    sitesOf(op.body!, root.v, (v) => (root.v = v === undefined ? null : v), sites);
    const objects = sites.filter((x) => x.value && typeof x.value === "object" && !Array.isArray(x.value));
    const bomb = nested(this.opts.maxDepth + 1 + Math.floor(this.rnd() * 5000));
    if (!objects.length) return `{"deep":${bomb}}`;
    const target = objects[Math.floor(this.rnd() * objects.length)].value as { [k: string]: Json };
    const names = Object.keys(target);
    target[names.length && this.rnd() < 0.5 ? names[0] : "mbBANK"] = "__DEEP__";
    return JSON.stringify(root.v).replace('"__DEEP__"', bomb);
  }

  /** Methods the document does not define on this path (a request with one must match no route). */
  private otherMethods(op: Operation): string[] {
    const defined = this.opts.methodsByPath.get(op.path) ?? new Set([op.method]);
    return ["PUT", "PATCH", "DELETE", "POST"].filter((m) => !defined.has(m));
  }

  generate(op: Operation): FuzzRequest {
    const defect = this.pick(this.defects(op));
    const allowed = op.roles.length ? op.roles : Object.keys(this.opts.keys);
    const key = this.opts.keys[this.pick(allowed)];
    let method = op.method;
    let path = this.pathOf(op) ?? op.path;
    let query = this.validQuery(op);
    const root = this.bodyOf(op);
    let body: string | undefined = op.body ? JSON.stringify(root.v) : undefined;
    let signer = key;
    let write = op.write;
    let contentType = "application/json";
    switch (defect) {
      case "query-unknown":
        query.push(`fuzz${Math.floor(this.rnd() * 1000)}=1`);
        break;
      case "wrong-method":
        method = this.pick(this.otherMethods(op));
        break;
      case "wrong-role": {
        const others = Object.keys(this.opts.keys).filter((r) => !op.roles.includes(r));
        signer = this.opts.keys[this.pick(others)];
        break;
      }
      case "bad-param": {
        const candidates = op.params.filter((p) => p.schema && violatingText(p.schema, () => 0) !== undefined);
        path = this.pathOf(op, this.pick(candidates).name) ?? `${op.path}/%ZZ`;
        break;
      }
      case "bad-query": {
        const q = this.pick(op.query.filter((x) => x.schema && violatingText(x.schema, () => 0) !== undefined));
        query = query.filter((p) => !p.startsWith(`${q.name}=`));
        query.push(
          this.rnd() < 0.2
            ? `${q.name}=1&${q.name}=2`
            : `${q.name}=${encodeURIComponent(violatingText(q.schema!, this.rnd)!)}`,
        );
        break;
      }
      case "bad-body":
        if (!invalidate(op.body!, root, this.rnd)) root.v = 12345;
        body = JSON.stringify(root.v);
        break;
      case "not-json":
        body = this.pick(["{", "{'a':1}", '{"a":1,}', "nul", '{"a":"\\x"}', "\u0000", JSON.stringify(root.v) + "}"]);
        break;
      case "too-deep":
        body = this.deepBody(op, root);
        break;
      case "duplicate-key": {
        const text = JSON.stringify(root.v);
        const m = /^\{"([^"]+)":/.exec(text);
        body = m ? `{"${m[1]}":null,${text.slice(1)}` : `{"a":1,"a":2}`;
        break;
      }
      case "media-type":
        contentType = this.pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]);
        break;
      case "unexpected-body":
        body = JSON.stringify(this.pick([{}, { a: 1 }, [1], "x"]));
        break;
      case "no-idempotency-key":
        write = false;
        break;
    }
    const full = query.length ? `${path}?${query.join("&")}` : path;
    const headers: Record<string, string> =
      defect === "unsigned" || !op.roles.length ? {} : this.sign(signer, method, full, body, write);
    if (defect === "unsigned" && this.rnd() < 0.5) headers["x-mb-key"] = "mbk_" + "0".repeat(24);
    if (defect === "bad-signature") {
      const field = this.pick(["x-mb-key", "x-mb-timestamp", "x-mb-nonce", "x-mb-signature"]);
      headers[field] = this.pick([headers[field].slice(1), headers[field] + "0", "", "-1", "9".repeat(20)]);
    }
    if (!op.roles.length && write) headers["idempotency-key"] = `fz-${this.opts.seed}-${++this.counter}`;
    if (body !== undefined) headers["content-type"] = contentType;
    return { op, defect, method, path: full, headers, body };
  }
}
