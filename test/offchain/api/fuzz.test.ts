import { expect } from "chai";
import fc from "fast-check";
import { Pool, errors as undiciErrors } from "undici";
import { signedHeaders } from "../../../offchain/api";
import { openSqlite } from "../../../offchain/store/sqlite";
import { startTestApi, type TestApi } from "../../helpers/api";

const PORT = 18112;
const REQUESTS = 10_000;
const CONCURRENCY = 32;
const TABLES = [
  "api_keys",
  "api_nonces",
  "idempotency_records",
  "audit_log",
  "kyc_applicants",
  "kyc_status_history",
  "chain_events",
];

/** A deterministic PRNG (mulberry32) so a failure reproduces from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

describe("API fuzz: random malformed requests", function () {
  let t: TestApi;

  before(async function () {
    t = await startTestApi({ port: PORT });
  });
  after(async function () {
    await t?.close();
  });

  async function counts(): Promise<Record<string, number>> {
    const db = openSqlite(t.sqliteFile);
    try {
      const out: Record<string, number> = {};
      for (const table of TABLES) out[table] = Number((await db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
      return out;
    } finally {
      await db.close();
    }
  }

  it(`answers ${REQUESTS} malformed requests with 4xx only and changes no state`, async function () {
    const seed = 20261123;
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const jsonValues = fc.sample(fc.jsonValue({ maxDepth: 3 }), { numRuns: 500, seed });
    const strings = fc.sample(fc.string({ unit: "binary", maxLength: 40 }), { numRuns: 500, seed: seed + 1 });
    const op = t.keys.operator;
    const client = t.keys.client;
    const valid = { role: "client", subject: "0xabc", label: "fuzz" };
    const paths = [
      "/v1/me",
      "/v1/audit",
      "/v1/audit/verify",
      "/v1/status",
      "/v1/admin/api-keys",
      "/v1/admin/api-keys/mbk_000000000000000000000000/revoke",
      "/v1/admin/api-keys/%E0%A4%A/revoke",
      "/v1/%ZZ",
      "/v1/admin/api-keys/" + "a".repeat(300) + "/revoke",
    ];

    /** A create-key body that is wrong by construction: one mutation of a valid one, or not an object at all. */
    const malformedBody = (): string => {
      const b: Record<string, unknown> = { ...valid };
      switch (Math.floor(rnd() * 8)) {
        case 0:
          delete b[pick(["role", "subject", "label"])];
          break;
        case 1:
          b[pick(["role", "subject", "label", "totp"])] =
            pick(jsonValues.filter((v) => typeof v !== "string" && typeof v !== "boolean") as unknown[]) ?? 1;
          break;
        case 2:
          b.role = pick(
            strings.filter(
              (s) => !["client", "capital_provider", "auditor", "operator", "risk_officer", "kyc_officer"].includes(s),
            ),
          );
          break;
        case 3:
          b[`x${Math.floor(rnd() * 1e6)}`] = pick(jsonValues);
          break;
        case 4:
          b.subject = "";
          break;
        case 5:
          b.label = "l".repeat(129 + Math.floor(rnd() * 200));
          break;
        case 6:
          return JSON.stringify(
            pick(jsonValues.filter((v) => v === null || typeof v !== "object" || Array.isArray(v))) ?? null,
          );
        default:
          return pick(strings) + "{";
      }
      return JSON.stringify(b);
    };

    const gen = (): FuzzRequest => {
      const kind = Math.floor(rnd() * 10);
      const path = pick(paths);
      const method = pick(["GET", "POST", "PUT", "DELETE", "PATCH"]);
      if (kind === 0) {
        // unsigned, random headers
        return {
          method,
          path,
          headers: { "x-mb-key": pick(strings).replace(/[^\x20-\x7e]/g, ""), "x-mb-signature": "zz" },
        };
      }
      if (kind === 1) {
        // signed by one key, then one auth field corrupted
        const h = signedHeaders({ keyId: op.keyId, secret: op.secret, method: "GET", path: "/v1/me" });
        const field = pick(["x-mb-key", "x-mb-timestamp", "x-mb-nonce", "x-mb-signature"]);
        h[field] = pick([
          h[field].slice(1),
          h[field] + "0",
          "",
          "-1",
          "9".repeat(20),
          pick(strings).replace(/[^\x20-\x7e]/g, ""),
        ]);
        return { method: "GET", path: "/v1/me", headers: h };
      }
      if (kind === 2) {
        // a client key calling operator routes
        const body = JSON.stringify(valid);
        return {
          method: "POST",
          path: "/v1/admin/api-keys",
          body,
          headers: signedHeaders({
            keyId: client.keyId,
            secret: client.secret,
            method: "POST",
            path: "/v1/admin/api-keys",
            body,
            idempotencyKey: `f${rnd()}`,
          }),
        };
      }
      if (kind === 3) {
        // signed GET with a malformed query
        const q = pick([
          "limit=abc",
          "limit=0",
          "limit=100000",
          "fromSeq=-1",
          "limit=1&limit=2",
          "evil=1",
          "fromSeq=1.5",
          `limit=${encodeURIComponent(pick(strings))}`,
        ]);
        const p = `/v1/audit?${q}`;
        return {
          method: "GET",
          path: p,
          headers: signedHeaders({ keyId: op.keyId, secret: op.secret, method: "GET", path: p }),
        };
      }
      if (kind === 4) {
        // valid body, but no or a malformed Idempotency-Key
        const body = JSON.stringify(valid);
        const h = signedHeaders({
          keyId: op.keyId,
          secret: op.secret,
          method: "POST",
          path: "/v1/admin/api-keys",
          body,
        });
        if (rnd() < 0.5)
          h["idempotency-key"] = pick(["", " ", "a".repeat(129), "bad key!", "ü"]).replace(/[^\x20-\x7e]/g, "?");
        return { method: "POST", path: "/v1/admin/api-keys", body, headers: h };
      }
      if (kind === 5) {
        // right content, wrong content type
        const body = JSON.stringify(valid);
        const h = signedHeaders({
          keyId: op.keyId,
          secret: op.secret,
          method: "POST",
          path: "/v1/admin/api-keys",
          body,
          idempotencyKey: `f${rnd()}`,
        });
        h["content-type"] = pick([
          "text/plain",
          "application/xml",
          "application/x-www-form-urlencoded",
          "multipart/form-data",
        ]);
        return { method: "POST", path: "/v1/admin/api-keys", body, headers: h };
      }
      if (kind === 6) {
        // a body on a route that takes none
        const body = JSON.stringify(pick(jsonValues)) ?? "1";
        return {
          method: "POST",
          path: "/v1/admin/api-keys/mbk_000000000000000000000000/revoke",
          body,
          headers: signedHeaders({
            keyId: op.keyId,
            secret: op.secret,
            method: "POST",
            path: "/v1/admin/api-keys/mbk_000000000000000000000000/revoke",
            body,
            idempotencyKey: `f${rnd()}`,
          }),
        };
      }
      // kinds 7-9: correctly signed operator writes with malformed bodies
      const body = malformedBody();
      return {
        method: "POST",
        path: "/v1/admin/api-keys",
        body,
        headers: signedHeaders({
          keyId: op.keyId,
          secret: op.secret,
          method: "POST",
          path: "/v1/admin/api-keys",
          body,
          idempotencyKey: `f${rnd()}`,
        }),
      };
    };

    const before = await counts();
    const pool = new Pool(t.running.url, { connections: CONCURRENCY });
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const started = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < REQUESTS) {
        next++;
        const r = gen();
        let status: number;
        try {
          const res = await pool.request({
            path: r.path,
            method: r.method as "GET",
            headers: r.headers,
            body: r.method === "GET" ? undefined : r.body,
          });
          await res.body.arrayBuffer();
          status = res.statusCode;
        } catch (err) {
          // Requests the client itself refuses to send (invalid header bytes) never reach the server.
          if (err instanceof undiciErrors.InvalidArgumentError) continue;
          throw err;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500 || status < 400)
          failures.push(`${status} ${r.method} ${r.path} ${r.body?.slice(0, 80) ?? ""}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await pool.close();
    const elapsed = Date.now() - started;
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(
      `    ${total} requests in ${elapsed} ms (${Math.round((total / elapsed) * 1000)}/s); statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(failures.slice(0, 10)).to.deep.equal([]);
    expect(total).to.be.greaterThanOrEqual(REQUESTS * 0.95);
    expect(await counts()).to.deep.equal(before);
  });
});
