import { expect } from "chai";
import { ApiClient, signedHeaders, type NewApiKey } from "../../../offchain/api";
import { startTestApi, type TestApi } from "../../helpers/api";
import { createTestDatabase } from "../../helpers/postgres";

const PORT = 18114;

describe("API on PostgreSQL (the production engine)", function () {
  let t: TestApi | undefined;
  let drop: (() => Promise<void>) | undefined;

  before(async function () {
    const db = await createTestDatabase("mb_service_api");
    if ("skip" in db) {
      console.log(`    skipping: ${db.skip}`);
      this.skip();
    }
    drop = db.drop;
    t = await startTestApi({ port: PORT, postgresUrl: db.url });
  });
  after(async function () {
    await t?.close();
    await drop?.();
  });

  it("authenticates, refuses a replay, replays an idempotent write and keeps a verifiable audit chain", async function () {
    const api = t!;
    expect(api.store.engine).to.equal("postgres");
    const me = await api.client("auditor").get<{ role: string }>("/v1/me");
    expect(me.body.role).to.equal("auditor");
    const op = api.keys.operator;
    const h = signedHeaders({ keyId: op.keyId, secret: op.secret, method: "GET", path: "/v1/me" });
    expect((await fetch(api.running.url + "/v1/me", { headers: h })).status).to.equal(200);
    expect((await fetch(api.running.url + "/v1/me", { headers: h })).status).to.equal(401);
    const body = { role: "client", subject: "0xabc", label: "pg" };
    const writes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api.client("operator").post<NewApiKey>("/v1/admin/api-keys", { ...body, label: `pg-${i}` }),
      ),
    );
    expect(writes.map((w) => w.status)).to.deep.equal(Array(8).fill(201));
    const first = await api.client("operator").post<NewApiKey>("/v1/admin/api-keys", body, "pg-idem");
    const again = await api.client("operator").post<NewApiKey>("/v1/admin/api-keys", body, "pg-idem");
    expect(again.body).to.deep.equal(first.body);
    expect((await new ApiClient(api.running.url, first.body).get("/v1/me")).status).to.equal(200);
    const verify = await api.client("auditor").get<{ ok: boolean; entries: number }>("/v1/audit/verify");
    expect(verify.body).to.include({ ok: true, entries: 9 });
  });
});
