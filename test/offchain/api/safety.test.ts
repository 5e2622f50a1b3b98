import { expect } from "chai";
import WebSocket from "ws";
import { signedWsQuery, type NewApiKey, type WsStreams } from "../../../offchain/api";
import { sha256Hex } from "../../../offchain/shared/crypto";
import { startTestApi, type TestApi } from "../../helpers/api";
import { createTestDatabase } from "../../helpers/postgres";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A test channel: `ticks` of one instrument, published by the test; `firehose` sends 16 KiB messages nonstop. */
function testStreams() {
  const ticks = new Map<string, Set<(m: unknown) => void>>();
  const firehose = { sent: 0, running: false, stopped: false };
  const streams: WsStreams = {
    channels: ["ticks", "firehose"],
    subscribe(req, _caller, send) {
      if (req.channel === "ticks") {
        const key = req.instrument ?? "";
        const set = ticks.get(key) ?? new Set();
        ticks.set(key, set);
        set.add(send);
        return () => set.delete(send);
      }
      if (req.channel === "firehose") {
        const blob = "x".repeat(16 * 1024);
        firehose.running = true;
        let on = true;
        const pump = (): void => {
          // bounded, so that a server which never drops the consumer cannot exhaust the test's memory
          for (let i = 0; i < 32 && on && firehose.sent < 4_000; i++) send({ type: "blob", n: firehose.sent++, blob });
          if (on && firehose.sent < 4_000) setTimeout(pump, 1);
        };
        pump();
        return () => {
          on = false;
          firehose.stopped = true;
        };
      }
      return `unknown channel ${req.channel}`;
    },
  };
  const publish = (instrument: string): void => {
    for (const send of ticks.get(instrument) ?? []) send({ type: "tick", instrument });
  };
  return { streams, publish, firehose };
}

/** An open socket of `key` with every message it received and its close code. */
async function socket(api: TestApi, key: NewApiKey) {
  const ws = new WebSocket(`${api.running.url.replace("http", "ws")}/v1/ws?${signedWsQuery(key.keyId, key.secret)}`);
  const got: Array<{ type: string; message?: string; already?: boolean }> = [];
  ws.on("message", (d: Buffer) => got.push(JSON.parse(d.toString()) as { type: string }));
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.once("close", (code, reason) => r({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const subscribe = (instrument: string, channel = "ticks") =>
    ws.send(JSON.stringify({ type: "subscribe", channel, instrument }));
  const count = (type: string) => got.filter((m) => m.type === type).length;
  return { ws, got, closed, subscribe, count };
}

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("WebSocket: revocation and limits", function () {
  this.timeout(60_000);
  let api: TestApi;
  const t = testStreams();

  before(async () => {
    api = await startTestApi({
      port: 18116,
      setup: async () => ({ streams: t.streams }),
      wsLimits: { keyRecheckMs: 300, maxBufferedBytes: 256 * 1024, maxSocketsPerKey: 8 },
    });
  });
  after(async () => {
    await api?.close();
  });

  const newClientKey = async (label: string): Promise<NewApiKey> => {
    const made = await api
      .client("operator")
      .post<NewApiKey>("/v1/admin/api-keys", { role: "client", subject: "0xabc", label });
    expect(made.status).to.equal(201);
    return made.body;
  };

  it("closes a revoked key's open socket at once: no event reaches it after the revocation", async () => {
    const key = await newClientKey("revoked-live");
    const s = await socket(api, key);
    s.subscribe("A");
    await until("subscribed", () => s.count("subscribed") === 1);
    t.publish("A");
    await until("first tick", () => s.count("tick") === 1);
    const revokedAt = Date.now();
    expect((await api.client("operator").post(`/v1/admin/api-keys/${key.keyId}/revoke`)).status).to.equal(200);
    const closed = await s.closed;
    expect(closed).to.deep.equal({ code: 1008, reason: "API key revoked" });
    expect(Date.now() - revokedAt).to.be.below(1_000);
    t.publish("A");
    await sleep(50);
    expect(s.count("tick")).to.equal(1);
  });

  it("re-reads the key on every subscription and periodically: a key revoked by another instance loses its sockets", async () => {
    // revoked in the store directly, as another instance's request would: this process hears no event
    const a = await newClientKey("revoked-elsewhere-a");
    const sa = await socket(api, a);
    sa.subscribe("B");
    await until("subscribed", () => sa.count("subscribed") === 1);
    await api.store.apiKeys.revoke(a.keyId, Date.now());
    const periodic = Date.now();
    expect((await sa.closed).code).to.equal(1008);
    expect(Date.now() - periodic).to.be.below(2_000);

    const b = await newClientKey("revoked-elsewhere-b");
    const sb = await socket(api, b);
    await api.store.apiKeys.revoke(b.keyId, Date.now());
    sb.subscribe("B");
    expect((await sb.closed).code).to.equal(1008);
    expect(sb.count("subscribed"), "the subscription after the revocation was refused").to.equal(0);
  });

  it("de-duplicates subscriptions, caps them per socket, and sends each change once per distinct subscription", async () => {
    const key = await newClientKey("subscriber");
    const s = await socket(api, key);
    for (let i = 0; i < 5; i++) s.subscribe("C");
    for (let i = 0; i < 40; i++) s.subscribe(`I${i}`);
    await until("every answer", () => s.count("subscribed") + s.count("error") === 45);
    expect(s.got.filter((m) => m.type === "subscribed" && m.already).length).to.equal(4);
    expect(s.count("error")).to.equal(45 - 32 - 4);
    expect(s.got.find((m) => m.type === "error")?.message).to.equal("at most 32 subscriptions per socket");
    t.publish("C");
    for (let i = 0; i < 40; i++) t.publish(`I${i}`);
    await until("ticks", () => s.count("tick") >= 32);
    await sleep(50);
    expect(s.count("tick")).to.equal(32);
    s.ws.close();
  });

  it("refuses a ninth socket of one key, a frame over 4 KiB, and a flood of messages", async () => {
    const key = await newClientKey("many-sockets");
    const open = await Promise.all(Array.from({ length: 8 }, () => socket(api, key)));
    const ninth = await socket(api, key).then(
      () => "opened",
      (err: Error) => err.message,
    );
    expect(ninth).to.match(/429/);
    open[0].ws.send("x".repeat(8 * 1024));
    expect((await open[0].closed).code).to.equal(1009);
    for (let i = 0; i < 200; i++)
      open[1].ws.send(JSON.stringify({ type: "subscribe", channel: "ticks", instrument: "F" }));
    expect(await open[1].closed).to.deep.equal({ code: 1008, reason: "more than 50 messages per second" });
    for (const s of open.slice(2)) s.ws.close();
    await Promise.all(open.map((s) => s.closed));
    // closed sockets no longer count
    (await socket(api, key)).ws.close();
  });

  it("drops a consumer that stops reading instead of buffering for it", async () => {
    const key = await newClientKey("slow");
    const s = await socket(api, key);
    s.ws.pause();
    s.subscribe("", "firehose");
    const started = Date.now();
    await until("the server to drop the consumer", () => t.firehose.stopped, 10_000);
    console.log(`      slow consumer dropped ${Date.now() - started} ms after its subscription (limit 256 KiB queued)`);
    s.ws.resume();
    expect([1013, 1006]).to.include((await s.closed).code);
  });
});

for (const engine of ["SQLite", "PostgreSQL"] as const) {
  describe(`idempotency keys across a crash (${engine})`, function () {
    this.timeout(30_000);
    let api: TestApi;
    let drop: (() => Promise<void>) | undefined;
    const TTL = 1_000;
    const body = (label: string) => ({ role: "client", subject: "0xabc", label });
    const hashOf = (b: unknown) =>
      sha256Hex(["POST", "/v1/admin/api-keys", sha256Hex(Buffer.from(JSON.stringify(b)))].join("\n"));
    before(async function () {
      let postgresUrl: string | undefined;
      if (engine === "PostgreSQL") {
        const db = await createTestDatabase("mb_api_idempotency");
        if ("skip" in db) {
          console.log(`    skipping: ${db.skip}`);
          this.skip();
        }
        postgresUrl = db.url;
        drop = db.drop;
      }
      api = await startTestApi({
        port: engine === "SQLite" ? 18117 : 18118,
        postgresUrl,
        instanceId: "api-test-instance",
        instanceTtlMs: TTL,
      });
    });
    after(async () => {
      await api?.close();
      await drop?.();
    });

    /** Records a pending claim of the operator's key `idem` for `b` as process (instance, epoch) would. */
    const claimAs = (idem: string, b: unknown, instance: string, epoch: number) =>
      api.store.idempotency.begin(api.keys.operator.keyId, idem, hashOf(b), Date.now(), {
        instance,
        epoch,
        staleAfterMs: TTL,
      });
    /** Keys created so far (the audit log has one entry per request that ran; a replay appends none). */
    const created = async (): Promise<number> =>
      (await api.store.audit.list(1, 10_000)).filter(
        (e) => e.action === "admin.apiKey.create" && e.details.status === 201,
      ).length;

    it("a key claimed by this instance's killed predecessor (an older epoch) is free at once", async () => {
      const b = body("after-restart");
      const { id, epoch } = api.instance!;
      expect((await claimAs("k-restart", b, id, epoch - 1)).kind).to.equal("new");
      const r = await api.client("operator").post<NewApiKey>("/v1/admin/api-keys", b, "k-restart");
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      const again = await api.client("operator").post<NewApiKey>("/v1/admin/api-keys", b, "k-restart");
      expect(again.status).to.equal(201);
      expect(again.headers.get("idempotent-replayed")).to.equal("true");
      expect(again.body).to.deep.equal(r.body);
    });

    it("a key claimed by a live process of another instance stays in progress; once it stops beating, it is free", async () => {
      const b = body("other-instance");
      const epoch = await api.store.instances.register("other-instance", "host-b", 4242);
      expect((await claimAs("k-other", b, "other-instance", epoch)).kind).to.equal("new");
      const busy = await api.client("operator").post<{ error: { code: string } }>("/v1/admin/api-keys", b, "k-other");
      expect([busy.status, busy.body.error.code]).to.deep.equal([409, "IDEMPOTENCY_IN_PROGRESS"]);
      await sleep(TTL + 200); // no heartbeat for a lease time: that process is gone
      const free = await api.client("operator").post<NewApiKey>("/v1/admin/api-keys", b, "k-other");
      expect(free.status, JSON.stringify(free.body)).to.equal(201);
    });

    it("two retries at once of a dead process's key run the request once", async () => {
      const start = await created();
      const b = body("raced");
      const { id, epoch } = api.instance!;
      await claimAs("k-race", b, id, epoch - 1);
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => api.client("operator").post<NewApiKey>("/v1/admin/api-keys", b, "k-race")),
      );
      const ran = answers.filter((a) => a.status === 201 && a.headers.get("idempotent-replayed") !== "true");
      expect(ran.length).to.equal(1);
      for (const a of answers) expect([201, 409]).to.include(a.status);
      expect((await created()) - start).to.equal(1);
    });
  });
}
