import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BookService,
  InstrumentEngine,
  Side,
  type StampedCommand,
  StoreJournal,
  StoreSnapshotStore,
  storeTradeSink,
  TimeInForce,
} from "../../../offchain/orderbook";
import { openStore, type Store, type StoreOptions } from "../../../offchain/store";
import { createTestDatabase } from "../../helpers/postgres";

const limit = (seq: number, id = seq): StampedCommand => ({
  seq,
  ts: 1_000 + seq,
  cmd: { kind: "limit", id, account: "a", side: Side.Buy, price: 100 + (seq % 7), qty: 1, tif: TimeInForce.GTC },
});

let sqliteDir = "";
let pgDrop: (() => Promise<void>) | undefined;

const ENGINES: Array<{ name: string; setup(): Promise<StoreOptions | { skip: string }>; teardown(): Promise<void> }> = [
  {
    name: "SQLite",
    async setup() {
      sqliteDir = mkdtempSync(path.join(tmpdir(), "mb-book-store-"));
      return { engine: "sqlite", path: path.join(sqliteDir, "store.sqlite") };
    },
    async teardown() {
      rmSync(sqliteDir, { recursive: true, force: true });
    },
  },
  {
    name: "PostgreSQL",
    async setup() {
      const db = await createTestDatabase("mb_book_journal");
      if ("skip" in db) return db;
      pgDrop = db.drop;
      return { engine: "postgres", url: db.url, poolSize: 4 };
    },
    async teardown() {
      await pgDrop?.();
    },
  },
];

for (const engine of ENGINES) {
  describe(`orderbook: store journal and snapshots on ${engine.name}`, function () {
    this.timeout(30_000);
    let opts: StoreOptions;
    let store: Store;
    let n = 0;
    let instrument = "";

    before(async function () {
      const o = await engine.setup();
      if ("skip" in o) {
        console.log(`    skipping ${engine.name}: ${o.skip}`);
        this.skip();
      }
      opts = o;
      store = await openStore(opts);
    });
    after(async () => {
      await store?.close();
      await engine.teardown();
    });
    // each test its own instrument: journals are per instrument in one table
    beforeEach(() => {
      instrument = `I${++n}`;
    });

    it("gathers concurrent appends into groups: one transaction acknowledges many entries", async function () {
      const j = await StoreJournal.open(store, instrument);
      await Promise.all(Array.from({ length: 500 }, (_, i) => j.append([limit(i + 1)])));
      expect(j.lastSeq()).to.equal(500);
      expect(j.entries).to.equal(500);
      expect(j.groups).to.be.below(50);
      expect((await j.read(490)).map((e) => e.seq)).to.deep.equal([491, 492, 493, 494, 495, 496, 497, 498, 499, 500]);
      expect((await j.read(0))[41]).to.deep.equal(limit(42));
      await j.close();
    });

    it("resolves an append only once it is committed: a second connection sees it", async function () {
      const j = await StoreJournal.open(store, instrument);
      await j.append([limit(1), limit(2)]);
      const other = await openStore(opts);
      try {
        expect((await other.orderbook.readJournal(instrument, 0)).map((r) => r.seq)).to.deep.equal([1, 2]);
      } finally {
        await other.close();
      }
    });

    it("refuses an append that does not continue the sequence", async function () {
      const j = await StoreJournal.open(store, instrument);
      await j.append([limit(1)]);
      let err: unknown;
      await j.append([limit(3)]).catch((e: unknown) => (err = e));
      expect(String(err)).to.contain("expected 2, got 3");
    });

    it("stops acknowledging once a commit fails (fail-stop), keeping what was committed", async function () {
      const j = await StoreJournal.open(store, instrument);
      await j.append([limit(1)]);
      // another writer took seq 2 behind the journal's back: the next group's commit fails on the primary key
      await store.orderbook.appendJournal(instrument, [{ seq: 2, entry: JSON.stringify(limit(2)) }]);
      const results = await Promise.allSettled([j.append([limit(2)]), j.append([limit(3)])]);
      expect(results.map((r) => r.status)).to.deep.equal(["rejected", "rejected"]);
      let err: unknown;
      await j.append([limit(4)]).catch((e: unknown) => (err = e));
      expect(err).to.not.equal(undefined);
      expect((await StoreJournal.open(store, instrument)).lastSeq()).to.equal(2);
    });

    it("compaction drops covered entries; the reopened journal continues after the snapshot", async function () {
      const j = await StoreJournal.open(store, instrument);
      await j.append([limit(1), limit(2), limit(3), limit(4)]);
      const snaps = new StoreSnapshotStore(store, instrument);
      await j.compact(4);
      expect((await store.orderbook.readJournal(instrument, 0)).map((r) => r.seq)).to.deep.equal([4]);
      expect(await j.read(4)).to.deep.equal([]);
      await j.append([limit(5)]);
      expect((await j.read(4)).map((e) => e.seq)).to.deep.equal([5]);
      expect((await StoreJournal.open(store, instrument)).lastSeq()).to.equal(5);
      expect(await snaps.latest()).to.equal(undefined);
    });

    it("keeps the newest snapshots and returns the latest", async function () {
      const snaps = new StoreSnapshotStore(store, instrument, 2);
      for (const seq of [10, 20, 30]) {
        await snaps.save({ ...new InstrumentEngine(instrument).snapshot(), seq });
      }
      expect((await snaps.latest())?.seq).to.equal(30);
      expect(await store.orderbook.lastSeq(instrument)).to.equal(30);
      expect(await store.orderbook.latestSnapshot(instrument)).to.be.a("string");
    });

    it("the fallback trade sink stores each trade once by id, amounts as decimal strings", async function () {
      const sink = storeTradeSink(store);
      const leg = {
        order: {
          account: "0x" + "11".repeat(20),
          instrument: "0x" + "22".repeat(20),
          side: 0 as const,
          expiry: 1n,
          limitPrice: 10n ** 30n,
          quantity: 5n,
          nonce: 7n,
        },
        sig: { r: "0x" + "33".repeat(32), vs: "0x" + "44".repeat(32) },
      };
      const trade = {
        tradeId: "3-1",
        sequence: 3,
        instrument: "0x" + "22".repeat(20),
        buy: leg,
        sell: leg,
        quantity: 5n,
        price: 10n ** 30n,
      };
      await sink.enqueue(trade);
      await sink.enqueue(trade); // a replay hands the same trade again
      const rows = await store.orderbook.trades(trade.instrument);
      expect(rows.map((r) => [r.tradeId, r.seq])).to.deep.equal([["3-1", 3]]);
      expect(JSON.parse(rows[0].body)).to.deep.include({ price: (10n ** 30n).toString(), quantity: "5" });
    });

    it("a BookService on the store journal recovers the identical book (hash) from snapshot + journal", async function () {
      const open = async (snapshotEvery = 0) =>
        BookService.open({
          instrument,
          journal: await StoreJournal.open(store, instrument),
          snapshots: new StoreSnapshotStore(store, instrument),
          snapshotEvery,
          now: () => 1_000,
        });
      const svc = await open(10);
      await Promise.all(Array.from({ length: 25 }, (_, i) => svc.submit(limit(i + 1).cmd)));
      const cross = await svc.submit({ kind: "market", id: 100, account: "b", side: Side.Sell, qty: 3 });
      expect(cross.fills.map((f) => f.qty)).to.deep.equal([1, 1, 1]);
      const hash = svc.engine.hash();
      await svc.close();
      expect((await new StoreSnapshotStore(store, instrument).latest())?.seq).to.be.at.least(10);
      const again = await open();
      expect(again.engine.seq).to.equal(26);
      expect(again.engine.hash()).to.equal(hash);
      await again.close();
    });
  });
}
