import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ALL_MIGRATIONS, openStore, verifyAuditChain, type Store, type StoreOptions } from "../../../offchain/store";
import { openSqlite } from "../../../offchain/store/sqlite";
import { openPostgres } from "../../../offchain/store/postgres";
import type { SqlEngine } from "../../../offchain/store/engine";
import { createTestDatabase } from "../../helpers/postgres";

interface EngineUnderTest {
  name: string;
  /** Options for a store on this engine, or a reason to skip. */
  setup(): Promise<StoreOptions | { skip: string }>;
  raw(opts: StoreOptions): SqlEngine;
  teardown(): Promise<void>;
}

let sqliteDir = "";
let pgDrop: (() => Promise<void>) | undefined;

const ENGINES: EngineUnderTest[] = [
  {
    name: "SQLite",
    async setup() {
      sqliteDir = mkdtempSync(path.join(tmpdir(), "mb-store-"));
      return { engine: "sqlite", path: path.join(sqliteDir, "store.sqlite") };
    },
    raw: (o) => openSqlite((o as { path: string }).path),
    async teardown() {
      rmSync(sqliteDir, { recursive: true, force: true });
    },
  },
  {
    name: "PostgreSQL",
    async setup() {
      const db = await createTestDatabase("mb_service_store");
      if ("skip" in db) return db;
      pgDrop = db.drop;
      return { engine: "postgres", url: db.url, poolSize: 5 };
    },
    raw: (o) => openPostgres((o as { url: string }).url, 2),
    async teardown() {
      await pgDrop?.();
    },
  },
];

for (const engine of ENGINES) {
  describe(`store on ${engine.name}`, function () {
    let opts: StoreOptions;
    let store: Store;

    before(async function () {
      const o = await engine.setup();
      if ("skip" in o) {
        console.log(`    skipping ${engine.name} store tests: ${o.skip}`);
        this.skip();
      }
      opts = o;
      store = await openStore(opts);
    });

    after(async function () {
      await store?.close();
      await engine.teardown();
    });

    it("applies each migration once: reopening the store changes nothing and keeps data", async function () {
      await store.nonces.use("k", "persisted", Date.now() + 60_000);
      const again = await openStore(opts);
      try {
        expect(await again.nonces.use("k", "persisted", Date.now() + 60_000)).to.equal(false);
      } finally {
        await again.close();
      }
      const raw = engine.raw(opts);
      try {
        const rows = await raw.query("SELECT capability, version FROM schema_migrations ORDER BY capability, version");
        // Every capability's migrations, each applied exactly once.
        const expected = ALL_MIGRATIONS.map((m) => `${m.capability}#${m.version}`).sort();
        expect(rows.map((r) => `${r.capability}#${r.version}`).sort()).to.deep.equal(expected);
        expect(expected).to.include.members([
          "api#1",
          "chain#1",
          "kyc#1",
          "reserves#1",
          "settlement#1",
          "settlement#2",
        ]);
      } finally {
        await raw.close();
      }
    });

    it("keeps token amounts beyond 64 bits exactly (uint256 range)", async function () {
      const huge = 2n ** 255n + 12345n;
      await store.projections.addBalance("0xToken", "0xAlice", huge, 1);
      expect(await store.projections.addBalance("0xToken", "0xAlice", -12345n, 2)).to.equal(2n ** 255n);
      expect(await store.projections.balance("0xtoken", "0xalice")).to.equal(2n ** 255n);
    });

    it("sums an instrument's traded units since a time and lists the accounts that traded (concentration limits)", async function () {
      const fill = (tradeId: string, role: "maker" | "taker", account: string, quantity: bigint, seq: number) => ({
        tradeId,
        role,
        account,
        orderId: seq,
        instrument: "VOL",
        side: role === "taker" ? ("buy" as const) : ("sell" as const),
        price: 10_000_000n,
        quantity,
        seq,
        idx: 1,
      });
      expect(await store.orderbook.volumeSince("VOL", 0)).to.deep.equal({ units: 0n, firstAt: undefined });
      await store.orderbook.recordFills(
        [fill("v-1", "taker", "0xa1", 300n, 1), fill("v-1", "maker", "0xb1", 300n, 1)],
        1_000,
      );
      await store.orderbook.recordFills(
        [fill("v-2", "taker", "0xb1", 2n ** 70n, 2), fill("v-2", "maker", "0xc1", 2n ** 70n, 2)],
        5_000,
      );
      // one fill per trade (the taker's), amounts beyond 64 bits exactly, from the given time on
      expect(await store.orderbook.volumeSince("VOL", 0)).to.deep.equal({ units: 300n + 2n ** 70n, firstAt: 1_000 });
      expect(await store.orderbook.volumeSince("VOL", 2_000)).to.deep.equal({ units: 2n ** 70n, firstAt: 1_000 });
      expect(await store.orderbook.tradingAccounts()).to.include.members(["0xa1", "0xb1", "0xc1"]);
    });

    it("accepts a nonce once per key and refuses its replay", async function () {
      const exp = Date.now() + 60_000;
      expect(await store.nonces.use("key-a", "n-1", exp)).to.equal(true);
      expect(await store.nonces.use("key-a", "n-1", exp)).to.equal(false);
      expect(await store.nonces.use("key-b", "n-1", exp)).to.equal(true);
      expect(await store.nonces.prune(exp + 1)).to.be.greaterThanOrEqual(2);
    });

    it("commits concurrent writes and transactions with their own outcomes, durable once each resolves", async function () {
      const exp = Date.now() + 60_000;
      // issued in one turn of the event loop: on SQLite they share one transaction (group commit); on PostgreSQL
      // they race on the pool, so which of two conflicting writes wins is not fixed there
      const outcomes = await Promise.allSettled([
        store.nonces.use("group", "n-1", exp),
        store.nonces.use("group", "n-2", exp),
        store.nonces.use("group", "n-1", exp),
        store.orderbook.insertOrder({ orderId: 901, instrument: "X", account: "0xA", orderHash: "0xh1", body: "{}" }),
        // order_id is the primary key: one of these two statements fails, and only it
        store.orderbook.insertOrder({ orderId: 901, instrument: "X", account: "0xA", orderHash: "0xh2", body: "{}" }),
        store.nonces.use("group", "n-3", exp),
        // a transaction that throws leaves none of its writes behind; the other one commits
        store.transaction(async (tx) => {
          await tx.nonces.use("group", "t-1", exp);
          throw new Error("boom");
        }),
        store.transaction(
          async (tx) => (await tx.nonces.use("group", "t-2", exp)) && tx.nonces.use("group", "t-3", exp),
        ),
      ]);
      const seen = outcomes.map((o) => (o.status === "fulfilled" ? o.value : "failed"));
      expect([seen[0], seen[2]]).to.have.members([true, false]);
      expect([seen[1], seen[5], seen[6], seen[7]]).to.deep.equal([true, true, "failed", true]);
      expect([seen[3], seen[4]]).to.have.members([true, "failed"]);
      const reopened = await openStore(opts);
      try {
        for (const n of ["n-1", "n-2", "n-3", "t-2", "t-3"])
          expect(await reopened.nonces.use("group", n, exp)).to.equal(false);
        expect(await reopened.nonces.use("group", "t-1", exp)).to.equal(true);
        expect((await reopened.orderbook.order(901))?.orderHash).to.equal(seen[3] === true ? "0xh1" : "0xh2");
      } finally {
        await reopened.close();
      }
    });

    it("returns the first result for a repeated idempotency key and refuses another body under it", async function () {
      expect(await store.idempotency.begin("k", "idem-1", "h1", 1)).to.deep.equal({ kind: "new" });
      expect(await store.idempotency.begin("k", "idem-1", "h1", 2)).to.deep.equal({ kind: "in_progress" });
      await store.idempotency.complete("k", "idem-1", 201, { id: 7 });
      expect(await store.idempotency.begin("k", "idem-1", "h1", 3)).to.deep.equal({
        kind: "replay",
        status: 201,
        body: { id: 7 },
      });
      expect(await store.idempotency.begin("k", "idem-1", "h2", 4)).to.deep.equal({ kind: "conflict" });
      expect(await store.idempotency.begin("k", "idem-2", "h1", 5)).to.deep.equal({ kind: "new" });
      await store.idempotency.abandon("k", "idem-2");
      expect(await store.idempotency.begin("k", "idem-2", "h1", 6)).to.deep.equal({ kind: "new" });
    });

    it("chains concurrent audit appends into one verifiable sequence and detects tampering", async function () {
      await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          store.transaction((tx) =>
            tx.audit.append({
              actor: `key-${i}`,
              role: "operator",
              action: "test.write",
              requestId: `r-${i}`,
              details: { i },
            }),
          ),
        ),
      );
      const ok = await verifyAuditChain(store);
      expect(ok).to.include({ ok: true, entries: 25 });
      const raw = engine.raw(opts);
      try {
        await raw.run("UPDATE audit_log SET details = $1 WHERE seq = 7", ['{"i":999}']);
      } finally {
        await raw.close();
      }
      const broken = await verifyAuditChain(store);
      expect(broken.ok).to.equal(false);
      expect(broken.brokenAt).to.deep.equal({ seq: 7, reason: "entry hash does not match its content" });
    });

    it("keeps one audit chain and one job lease when two service instances share the database", async function () {
      // Several instances are a PostgreSQL deployment; SQLite is the embedded single-instance default (two
      // connections in one thread would block each other's busy wait, which two processes would not).
      if (engine.name === "SQLite") this.skip();
      const other = await openStore(opts);
      try {
        const start = (await store.audit.list(1, 100_000)).length;
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? store : other).transaction((tx) =>
              tx.audit.append({
                actor: `instance-${i % 2}`,
                role: "operator",
                action: "shared.write",
                requestId: `s-${i}`,
                details: {},
              }),
            ),
          ),
        );
        // The previous test tampered with an earlier entry, so check the new links directly.
        const fresh = await other.audit.list(start + 1, 100);
        expect(fresh).to.have.length(20);
        for (let i = 1; i < fresh.length; i++) expect(fresh[i].prevHash).to.equal(fresh[i - 1].hash);
        const [a, b] = await Promise.all([
          store.locks.tryAcquire("indexer:shared", "instance-a", 10_000),
          other.locks.tryAcquire("indexer:shared", "instance-b", 10_000),
        ]);
        expect([a, b].filter(Boolean)).to.have.length(1);
      } finally {
        await other.close();
      }
    });

    it("rolls a failed transaction back completely", async function () {
      const exp = Date.now() + 60_000;
      const failure = await store
        .transaction(async (tx) => {
          await tx.nonces.use("rollback", "n", exp);
          throw new Error("boom");
        })
        .catch((err: Error) => err);
      expect(failure).to.be.instanceOf(Error).with.property("message", "boom");
      expect(await store.nonces.use("rollback", "n", exp)).to.equal(true);
    });

    it("gives a job lease to one owner until it expires", async function () {
      expect(await store.locks.tryAcquire("job", "a", 1000, 0)).to.equal(true);
      expect(await store.locks.tryAcquire("job", "b", 1000, 500)).to.equal(false);
      expect(await store.locks.tryAcquire("job", "a", 1000, 600)).to.equal(true);
      expect(await store.locks.tryAcquire("job", "b", 1000, 1700)).to.equal(true);
      await store.locks.release("job", "b");
      expect(await store.locks.tryAcquire("job", "c", 1000, 1800)).to.equal(true);
    });

    it("gives each start of an instance the next epoch; that start takes its predecessor's leases at once, another instance waits for them to expire", async function () {
      const first = await store.instances.register("inst-a", "host", 1);
      const second = await store.instances.register("inst-a", "host", 2);
      expect(second).to.equal(first + 1);
      expect(await store.instances.heartbeat("inst-a", first), "the predecessor is superseded").to.equal(false);
      expect(await store.instances.heartbeat("inst-a", second)).to.equal(true);
      const claim = (epoch: number) => ({ instance: "inst-a", epoch });
      const now = Date.now();
      // the killed predecessor holds a lease and a job lease for another 60 s
      const held = await store.locks.acquireLease("role:t", "a#1", 60_000, now, claim(first));
      expect(await store.locks.tryAcquire("job:t", "a#1", 60_000, now, claim(first))).to.equal(true);
      // another instance must wait for the lease time
      expect(
        await store.locks.acquireLease("role:t", "b#1", 60_000, now + 1, { instance: "inst-b", epoch: 9 }),
      ).to.equal(undefined);
      expect(await store.locks.tryAcquire("job:t", "b#1", 60_000, now + 1, { instance: "inst-b", epoch: 9 })).to.equal(
        false,
      );
      // the restarted instance takes both at once, the lease with a new fencing epoch
      expect(await store.locks.acquireLease("role:t", "a#2", 60_000, now + 2, claim(second))).to.equal(held! + 1);
      expect(await store.locks.tryAcquire("job:t", "a#2", 60_000, now + 2, claim(second))).to.equal(true);
      expect(await store.locks.holdsLease("role:t", "a#1", held!)).to.equal(false);
      // and the predecessor cannot take them back
      expect(await store.locks.acquireLease("role:t", "a#1", 60_000, now + 3, claim(first))).to.equal(undefined);
      const rows = await store.locks.leases();
      expect(rows.find((r) => r.name === "role:t")).to.deep.include({ instance: "inst-a", instanceEpoch: second });
    });

    it("records indexer events and rewinds everything above a block", async function () {
      const ev = (block: number, logIndex: number) => ({
        blockNumber: block,
        logIndex,
        blockHash: `0xb${block}`,
        txHash: `0xt${block}`,
        contract: "KycRegistry",
        address: "0xabc",
        event: "IdentitySet",
        topics: ["0x01"],
        data: "0x",
        args: { tier: 2 },
      });
      expect(await store.chain.insertEvent("test", ev(10, 0))).to.equal(true);
      expect(await store.chain.insertEvent("test", ev(10, 0))).to.equal(false);
      await store.chain.insertEvent("test", ev(11, 0));
      await store.chain.insertEvent("test", ev(12, 3));
      for (const b of [10, 11, 12]) await store.chain.recordBlock("test", b, `0xb${b}`);
      // a block range (what the daily statements read)
      expect(
        (await store.chain.events("test", { fromBlock: 11, toBlock: 11 })).map((e) => e.blockNumber),
      ).to.deep.equal([11]);
      expect((await store.chain.events("test", { toBlock: 11 })).map((e) => e.blockNumber)).to.deep.equal([10, 11]);
      await store.chain.setCursor("test", { blockNumber: 12, blockHash: "0xb12" });
      expect(await store.chain.rewindAbove("test", 10)).to.equal(2);
      expect((await store.chain.events("test")).map((e) => e.blockNumber)).to.deep.equal([10]);
      expect(await store.chain.recentBlocks("test", 100, 10)).to.deep.equal([{ blockNumber: 10, blockHash: "0xb10" }]);
      expect(await store.chain.cursor("test")).to.deep.equal({ blockNumber: 12, blockHash: "0xb12" });
    });

    it("moves a KYC applicant only from an expected status and keeps its history", async function () {
      await store.kyc.insert({
        id: "app-1",
        account: "0xAbC",
        submittedBy: "key",
        status: "pending_review",
        identitySealed: "v1.x.y.z",
        identityHash: "0x" + "11".repeat(32),
        jurisdiction: 156,
        score: 70,
        tier: 4,
        maxLeverage: 4n * 10n ** 18n,
        screening: [],
        reviewReasons: ["tier above 3"],
        expiresAt: null,
        txHash: null,
        createdAt: 1,
        updatedAt: 1,
        suitability: null,
      });
      const approve = { status: "approved" as const, actor: "officer", reason: "ok", txHash: "0xt", at: 2 };
      expect(
        await store.kyc.transition("app-1", ["pending_review"], approve, { expiresAt: 99, txHash: "0xt" }),
      ).to.equal(true);
      expect(await store.kyc.transition("app-1", ["pending_review"], approve)).to.equal(false);
      const a = await store.kyc.get("app-1");
      expect(a).to.include({ status: "approved", account: "0xabc", expiresAt: 99, txHash: "0xt" });
      expect(a!.maxLeverage).to.equal(4n * 10n ** 18n);
      expect((await store.kyc.history("app-1")).map((h) => h.status)).to.deep.equal(["approved"]);
      expect((await store.kyc.dueForExpiry(100)).map((x) => x.id)).to.deep.equal(["app-1"]);
      expect(await store.kyc.list({ status: "pending_review" })).to.have.length(0);
    });

    it("keeps a KYC file's quiz result and each document acknowledgement once, even when sent at once", async function () {
      const suitability = {
        quizVersion: 1,
        answers: { "margin-call": "b" },
        score: 1,
        total: 7,
        correct: { "margin-call": true },
        quizTier: 1,
        riskTier: 3,
        tier: 1,
      };
      await store.kyc.insert({
        id: "app-ack",
        account: "0xDeF",
        submittedBy: "key",
        status: "approved",
        identitySealed: "v1.x.y.z",
        identityHash: "0x" + "22".repeat(32),
        jurisdiction: 156,
        score: 50,
        tier: 1,
        maxLeverage: 10n ** 18n,
        screening: [],
        reviewReasons: [],
        expiresAt: null,
        txHash: null,
        createdAt: 1,
        updatedAt: 1,
        suitability,
      });
      expect((await store.kyc.get("app-ack"))!.suitability).to.deep.equal(suitability);
      const ack = (signature: string) => ({
        applicationId: "app-ack",
        documentId: "financing-summary",
        version: 1,
        contentHash: "0x" + "33".repeat(32),
        language: "zh-CN",
        acknowledgedAt: 1_800_000_000,
        signature,
        signer: "0xdef",
        recordedAt: 5,
      });
      const raced = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.kyc.addAcknowledgement(ack(`0x${String(i).repeat(130)}`))),
      );
      expect(raced.filter(Boolean)).to.have.length(1);
      const kept = await store.kyc.acknowledgements("app-ack");
      expect(kept).to.have.length(1);
      expect(kept[0]).to.deep.include({
        documentId: "financing-summary",
        acknowledgedAt: 1_800_000_000,
        signer: "0xdef",
      });
      expect(await store.kyc.approvedAndAcknowledged("0xDEF", "financing-summary", 1)).to.equal(true);
      expect(await store.kyc.approvedAndAcknowledged("0xdef", "financing-summary", 2)).to.equal(false);
      expect(await store.kyc.approvedAndAcknowledged("0xdef", "risk-disclosure", 1)).to.equal(false);
    });
  });
}

describe("SQLite engine: WAL checkpoints on a worker thread", function () {
  this.timeout(30_000);

  it("copies committed pages into the database file while the writer goes on, and leaves no WAL after close", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "mb-wal-"));
    try {
      const file = path.join(dir, "wal.sqlite");
      const db = openSqlite(file);
      await db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
      const before = statSync(file).size;
      // ≈ 3 MB of rows in one commit (≈ 800 WAL frames): below SQLite's default automatic checkpoint (1,000 pages)
      // and far below the writer's backstop (10,000 pages), so only the worker can have copied them
      await db.transaction(async (tx) => {
        for (let i = 0; i < 3_000; i++) await tx.run("INSERT INTO t (v) VALUES ($1)", [`row ${i} `.padEnd(900, "x")]);
      });
      const deadline = Date.now() + 10_000;
      while (statSync(file).size < before + 2_000_000 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(statSync(file).size, "database file after the worker's checkpoints").to.be.above(before + 2_000_000);
      await db.close();
      expect(existsSync(`${file}-wal`), "WAL removed by the last connection to close").to.equal(false);
      const again = openSqlite(file);
      expect(await again.query<{ n: number }>("SELECT COUNT(*) AS n FROM t")).to.deep.equal([{ n: 3_000 }]);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
