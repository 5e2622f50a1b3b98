import { expect } from "chai";
import WebSocket from "ws";
import { z } from "zod";
import {
  ApiClient,
  createApi,
  createMetrics,
  createApiKey,
  defineRoute,
  serveMetrics,
  signedHeaders,
  signedWsQuery,
  totpCode,
  type NewApiKey,
  type Route,
} from "../../../offchain/api";
import { silentLogger } from "../../../offchain/shared/logger";
import { startTestApi, TEST_SECRET_KEY, type TestApi } from "../../helpers/api";

const PORT = 18110;

type ErrorBody = { error: { code: string; message: string; details: Record<string, unknown> } };

describe("API foundation", function () {
  let t: TestApi;

  before(async function () {
    t = await startTestApi({ port: PORT });
  });
  after(async function () {
    await t?.close();
  });

  async function raw(method: string, path: string, headers: Record<string, string>, body?: string) {
    const res = await fetch(t.running.url + path, { method, headers, body });
    return { status: res.status, body: (await res.json()) as ErrorBody, headers: res.headers };
  }
  const op = (): NewApiKey => t.keys.operator;

  describe("authentication", function () {
    it("refuses a request without signature headers", async function () {
      const r = await t.anonymous.get("/v1/me");
      expect(r.status).to.equal(401);
      expect((r.body as ErrorBody).error.details).to.deep.equal({ reason: "missing_headers" });
    });

    it("refuses an unknown key", async function () {
      const r = await raw(
        "GET",
        "/v1/me",
        signedHeaders({ keyId: "mbk_" + "0".repeat(24), secret: "x", method: "GET", path: "/v1/me" }),
      );
      expect(r.status).to.equal(401);
      expect(r.body.error.details.reason).to.equal("unknown_key");
    });

    it("refuses a bad signature, including a body changed after signing", async function () {
      const wrongSecret = signedHeaders({ keyId: op().keyId, secret: "0".repeat(64), method: "GET", path: "/v1/me" });
      expect((await raw("GET", "/v1/me", wrongSecret)).body.error.details.reason).to.equal("bad_signature");
      const body = JSON.stringify({ role: "client", subject: "a", label: "b" });
      const h = signedHeaders({
        keyId: op().keyId,
        secret: op().secret,
        method: "POST",
        path: "/v1/admin/api-keys",
        body,
        idempotencyKey: "k-tamper",
      });
      const r = await raw("POST", "/v1/admin/api-keys", h, body.replace('"client"', '"operator"'));
      expect(r.status).to.equal(401);
      expect(r.body.error.details.reason).to.equal("bad_signature");
      const otherPath = await raw(
        "GET",
        "/v1/audit",
        signedHeaders({ keyId: op().keyId, secret: op().secret, method: "GET", path: "/v1/me" }),
      );
      expect(otherPath.body.error.details.reason).to.equal("bad_signature");
    });

    it("refuses a timestamp outside the window", async function () {
      const h = signedHeaders({
        keyId: op().keyId,
        secret: op().secret,
        method: "GET",
        path: "/v1/me",
        timestamp: Date.now() - 61_000,
      });
      const r = await raw("GET", "/v1/me", h);
      expect(r.status).to.equal(401);
      expect(r.body.error.details.reason).to.equal("stale_timestamp");
    });

    it("refuses a replayed nonce", async function () {
      const h = signedHeaders({ keyId: op().keyId, secret: op().secret, method: "GET", path: "/v1/me" });
      expect((await raw("GET", "/v1/me", h)).status).to.equal(200);
      const again = await raw("GET", "/v1/me", h);
      expect(again.status).to.equal(401);
      expect(again.body.error.details.reason).to.equal("replayed_nonce");
    });

    it("refuses a role the route does not allow (least privilege)", async function () {
      const r = await t.client("client").get("/v1/audit");
      expect(r.status).to.equal(403);
      expect((r.body as ErrorBody).error.code).to.equal("FORBIDDEN");
      const keyByAuditor = await t
        .client("auditor")
        .post("/v1/admin/api-keys", { role: "client", subject: "x", label: "y" });
      expect(keyByAuditor.status).to.equal(403);
      expect((await t.client("auditor").get("/v1/audit")).status).to.equal(200);
    });

    it("refuses a revoked key", async function () {
      const made = await t
        .client("operator")
        .post<NewApiKey>("/v1/admin/api-keys", { role: "client", subject: "0xabc", label: "soon revoked" });
      expect(made.status).to.equal(201);
      const c = new ApiClient(t.running.url, made.body);
      expect((await c.get("/v1/me")).status).to.equal(200);
      expect((await t.client("operator").post(`/v1/admin/api-keys/${made.body.keyId}/revoke`)).status).to.equal(200);
      const after = await c.get("/v1/me");
      expect(after.status).to.equal(401);
      expect((after.body as ErrorBody).error.details.reason).to.equal("unknown_key");
    });

    it("requires a valid TOTP code from staff keys that enabled it", async function () {
      const key = await createApiKey(t.store, TEST_SECRET_KEY, {
        role: "kyc_officer",
        subject: "officer-2fa",
        label: "2fa",
        totp: true,
      });
      const without = await new ApiClient(t.running.url, { keyId: key.keyId, secret: key.secret }).get("/v1/me");
      expect((without.body as ErrorBody).error.details.reason).to.equal("totp_required");
      const h = signedHeaders({
        keyId: key.keyId,
        secret: key.secret,
        method: "GET",
        path: "/v1/me",
        totp: totpCode(key.totpSecret!, Date.now() - 600_000),
      });
      expect((await raw("GET", "/v1/me", h)).body.error.details.reason).to.equal("bad_totp");
      const ok = await new ApiClient(t.running.url, key).get("/v1/me");
      expect(ok.status).to.equal(200);
      expect(ok.body).to.deep.equal({ keyId: key.keyId, role: "kyc_officer", subject: "officer-2fa" });
      const clientTotp = await t
        .client("operator")
        .post("/v1/admin/api-keys", { role: "client", subject: "c", label: "l", totp: true });
      expect(clientTotp.status).to.equal(400);
    });
  });

  describe("idempotency", function () {
    it("returns the first result for the same key and body, and 409 for another body", async function () {
      const c = t.client("operator");
      const body = { role: "capital_provider", subject: "fund-1", label: "fund one" };
      const first = await c.post<NewApiKey>("/v1/admin/api-keys", body, "idem-create-1");
      const second = await c.post<NewApiKey>("/v1/admin/api-keys", body, "idem-create-1");
      expect(first.status).to.equal(201);
      expect(second.status).to.equal(201);
      expect(second.body).to.deep.equal(first.body);
      expect(second.headers.get("idempotent-replayed")).to.equal("true");
      const other = await c.post("/v1/admin/api-keys", { ...body, label: "another" }, "idem-create-1");
      expect(other.status).to.equal(409);
      expect((other.body as ErrorBody).error.code).to.equal("IDEMPOTENCY_KEY_REUSED");
    });

    it("requires an Idempotency-Key on every write", async function () {
      const body = JSON.stringify({ role: "client", subject: "s", label: "l" });
      const h = signedHeaders({
        keyId: op().keyId,
        secret: op().secret,
        method: "POST",
        path: "/v1/admin/api-keys",
        body,
      });
      const r = await raw("POST", "/v1/admin/api-keys", h, body);
      expect(r.status).to.equal(400);
      expect(r.body.error.message).to.match(/^idempotency-key:/);
    });

    it("replays a business error as the same error", async function () {
      const c = t.client("operator");
      const missing = "/v1/admin/api-keys/mbk_" + "f".repeat(24) + "/revoke";
      const a = await c.post(missing, undefined, "idem-revoke-missing");
      const b = await c.post(missing, undefined, "idem-revoke-missing");
      expect(a.status).to.equal(404);
      expect(b.status).to.equal(404);
      expect((b.body as ErrorBody).error.code).to.equal("NOT_FOUND");
    });
  });

  describe("validation", function () {
    it("names the field of a wrong value, an unknown field and a bad query", async function () {
      const c = t.client("operator");
      const badEnum = await c.post("/v1/admin/api-keys", { role: "superuser", subject: "s", label: "l" });
      expect(badEnum.status).to.equal(400);
      expect((badEnum.body as ErrorBody).error.message).to.match(/^body\.role:/);
      const extra = await c.post("/v1/admin/api-keys", { role: "client", subject: "s", label: "l", admin: true });
      expect((extra.body as ErrorBody).error.message).to.match(/^body: Unrecognized key\(s\) in object: 'admin'/);
      const q = await c.get("/v1/audit?limit=abc");
      expect(q.status).to.equal(400);
      expect((q.body as ErrorBody).error.message).to.match(/^query\.limit:/);
      const p = await c.post("/v1/admin/api-keys/not-a-key/revoke");
      expect((p.body as ErrorBody).error.message).to.match(/^params\.keyId: must be an API key id/);
    });

    it("answers malformed JSON with 400, a wrong content type with 415 and an oversized body with 413", async function () {
      const send = async (body: string, contentType: string) => {
        const h = signedHeaders({
          keyId: op().keyId,
          secret: op().secret,
          method: "POST",
          path: "/v1/admin/api-keys",
          body,
          idempotencyKey: `i-${Math.random()}`,
        });
        return raw("POST", "/v1/admin/api-keys", { ...h, "content-type": contentType }, body);
      };
      expect((await send("{not json", "application/json")).status).to.equal(400);
      expect((await send('{"role":"client"}', "text/plain")).status).to.equal(415);
      expect(
        (await send(JSON.stringify({ role: "client", subject: "x".repeat(20_000), label: "l" }), "application/json"))
          .status,
      ).to.equal(413);
    });

    it("refuses JSON nested deeper than 32 levels and a key repeated in one object, naming the problem", async function () {
      const send = async (body: string) => {
        const h = signedHeaders({
          keyId: op().keyId,
          secret: op().secret,
          method: "POST",
          path: "/v1/admin/api-keys",
          body,
          idempotencyKey: `i-${Math.random()}`,
        });
        return raw("POST", "/v1/admin/api-keys", { ...h, "content-type": "application/json" }, body);
      };
      const before = (await t.store.audit.list(1, 100_000)).length;
      const deep = await send(`{"role":"client","subject":"s","label":${"[".repeat(5_000)}${"]".repeat(5_000)}}`);
      expect(deep.status).to.equal(400);
      expect(deep.body.error.message).to.equal("body: JSON nested deeper than 32 levels");
      // The last "role" would win in JSON.parse: an operator key smuggled past a reviewer of the first.
      const twice = await send('{"role":"client","subject":"s","label":"l","r\u006fle":"operator"}');
      expect(twice.status).to.equal(400);
      expect(twice.body.error.message).to.equal('body: duplicate key "role"');
      const nested = await send('{"role":"client","subject":"s","label":"l","x":{"a":1,"a":2}}');
      expect(nested.body.error.message).to.equal('body.x: duplicate key "a"');
      // 32 levels are fine (then refused by the schema, not the parser).
      const ok = await send(`{"role":"client","subject":"s","label":${"[".repeat(31)}${"]".repeat(31)}}`);
      expect(ok.body.error.message).to.match(/^body\.label:/);
      expect((await t.store.audit.list(1, 100_000)).length).to.equal(before);
    });
  });

  describe("limits, headers, documents, metrics, audit, websocket", function () {
    it("rate-limits each key separately", async function () {
      const limited = await startTestApi({ port: PORT + 1, rateLimitPerMinute: 3 });
      try {
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await limited.client("client").get("/v1/me")).status);
        expect(statuses).to.deep.equal([200, 200, 200, 429]);
        expect((await limited.client("auditor").get("/v1/me")).status).to.equal(200);
      } finally {
        await limited.close();
      }
    });

    it("refuses to mount a route without roles, a public write or a duplicate route", function () {
      const mk = (routes: Route[]) => () =>
        createApi({
          store: t.store,
          log: silentLogger,
          secretKey: TEST_SECRET_KEY,
          timestampWindowMs: 1000,
          rateLimitPerMinute: 1,
          bodyLimitBytes: 1024,
          capabilities: [{ name: "x", routes }],
        });
      const base = {
        method: "get" as const,
        path: "/x",
        summary: "x",
        write: false,
        response: z.object({}),
        handler: async () => ({}),
      };
      expect(mk([defineRoute({ ...base, roles: [] })])).to.throw(/must name the roles/);
      expect(mk([defineRoute({ ...base, method: "post", roles: "public", write: true })])).to.throw(
        /writes cannot be public/,
      );
      expect(mk([defineRoute({ ...base, roles: ["client"] }), defineRoute({ ...base, roles: ["auditor"] })])).to.throw(
        /registered twice/,
      );
    });

    it("sends security headers", async function () {
      const r = await t.anonymous.get("/v1/health");
      expect(r.headers.get("x-content-type-options")).to.equal("nosniff");
      expect(r.headers.get("content-security-policy")).to.contain("default-src 'self'");
      expect(r.headers.get("strict-transport-security")).to.be.a("string");
      expect(r.headers.get("x-powered-by")).to.equal(null);
    });

    it("serves an OpenAPI 3 document generated from the route schemas, and a docs page", async function () {
      const doc = (await t.anonymous.get("/openapi.json")).body as {
        openapi: string;
        paths: Record<string, Record<string, { requestBody?: unknown }>>;
      };
      expect(doc.openapi).to.match(/^3\./);
      expect(doc.paths).to.have.property("/v1/admin/api-keys/{keyId}/revoke");
      expect(JSON.stringify(doc.paths["/v1/admin/api-keys"].post.requestBody)).to.contain("capital_provider");
      const page = await fetch(t.running.url + "/docs");
      expect(page.status).to.equal(200);
      expect(await page.text()).to.contain("/openapi.json");
    });

    it("serves Prometheus metrics to operator keys, or on a separate listener, never publicly", async function () {
      expect((await t.anonymous.get("/metrics")).status).to.equal(404);
      expect((await t.anonymous.get("/v1/metrics")).status).to.equal(401);
      expect((await t.client("auditor").get("/v1/metrics")).status).to.equal(403);
      expect((await t.client("client").get("/v1/metrics")).status).to.equal(403);
      const m = await t.client("operator").get<string>("/v1/metrics");
      expect(m.status).to.equal(200);
      expect(m.headers.get("content-type")).to.match(/^text\/plain/);
      expect(m.body).to.match(/mb_http_requests_total\{method="GET",route="\/v1\/me",status="200"\} \d+/);
      const separate = await serveMetrics(createMetrics(), { host: "127.0.0.1", port: 0 });
      try {
        const text = await (await fetch(separate.url)).text();
        expect(text).to.contain("mb_http_requests_total");
        expect((await fetch(separate.url.replace("/metrics", "/v1/me"))).status).to.equal(404);
      } finally {
        await separate.close();
      }
    });

    it("hash-chains every write into the audit log and verifies it", async function () {
      const entries = (
        await t
          .client("auditor")
          .get<{ entries: { action: string; prevHash: string; hash: string }[] }>("/v1/audit?limit=1000")
      ).body.entries;
      expect(entries.length).to.be.greaterThan(3);
      expect(entries.map((e) => e.action)).to.include.members(["admin.apiKey.create", "admin.apiKey.revoke"]);
      for (let i = 1; i < entries.length; i++) expect(entries[i].prevHash).to.equal(entries[i - 1].hash);
      const v = await t.client("auditor").get<{ ok: boolean; entries: number }>("/v1/audit/verify");
      expect(v.body).to.include({ ok: true, entries: entries.length });
    });

    it("accepts a signed WebSocket upgrade and refuses an unsigned one", async function () {
      const wsUrl = t.running.url.replace("http", "ws") + "/v1/ws";
      const hello = await new Promise<unknown>((resolve, reject) => {
        const ws = new WebSocket(`${wsUrl}?${signedWsQuery(op().keyId, op().secret)}`);
        ws.once("message", (m) => {
          ws.close();
          resolve(JSON.parse(String(m)));
        });
        ws.once("error", reject);
      });
      expect(hello).to.deep.include({ type: "hello", role: "operator" });
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(wsUrl);
        ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.once("error", () => resolve(-1));
      });
      expect(refused).to.equal(401);
    });
  });
});
