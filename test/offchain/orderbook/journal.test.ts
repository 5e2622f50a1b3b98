import { expect } from "chai";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BookService,
  FileJournal,
  FileSnapshotStore,
  InMemoryRiskState,
  type InstrumentSpec,
  JournalCorruptError,
  JournalFailedError,
  MarginState,
  type OrderEvent,
  PreTradeRisk,
  type PublicMessage,
  RejectCode,
  Side,
  type StampedCommand,
  TimeInForce,
} from "../../../offchain/orderbook";

const limit = (seq: number, id = seq): StampedCommand => ({
  seq,
  ts: 1_000 + seq,
  cmd: { kind: "limit", id, account: "a", side: Side.Buy, price: 100 + (seq % 7), qty: 1, tif: TimeInForce.GTC },
});

describe("orderbook: file journal, snapshots and the book service", function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "mb-orderbook-journal-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe("FileJournal", function () {
    it("gathers concurrent appends into groups: one write + fdatasync acknowledges many entries", async function () {
      const j = await FileJournal.open(dir);
      await Promise.all(Array.from({ length: 500 }, (_, i) => j.append([limit(i + 1)])));
      expect(j.lastSeq()).to.equal(500);
      expect(j.entries).to.equal(500);
      expect(j.groups).to.be.below(50);
      expect((await j.read(490)).map((e) => e.seq)).to.deep.equal([491, 492, 493, 494, 495, 496, 497, 498, 499, 500]);
      await j.close();
    });

    it("refuses an append that does not continue the sequence", async function () {
      const j = await FileJournal.open(dir);
      await j.append([limit(1)]);
      let err: unknown;
      await j.append([limit(3)]).catch((e: unknown) => (err = e));
      expect(String(err)).to.contain("expected 2, got 3");
      await j.close();
    });

    it("truncates a record torn by a crash at the end of the journal, keeping everything before it", async function () {
      const j = await FileJournal.open(dir);
      await j.append([limit(1), limit(2), limit(3)]);
      await j.close();
      const [seg] = readdirSync(dir);
      const full = readFileSync(path.join(dir, seg));
      // half of a fourth record: the process died inside write()
      const fourth = Buffer.alloc(20, 7);
      fourth.writeUInt32LE(200, 0);
      appendFileSync(path.join(dir, seg), fourth);
      const reopened = await FileJournal.open(dir);
      expect(reopened.lastSeq()).to.equal(3);
      expect(readFileSync(path.join(dir, seg)).length).to.equal(full.length);
      await reopened.append([limit(4)]);
      expect((await reopened.read(0)).map((e) => e.seq)).to.deep.equal([1, 2, 3, 4]);
      await reopened.close();
    });

    it("reports corruption inside the journal instead of silently skipping acknowledged commands", async function () {
      const j = await FileJournal.open(dir);
      await j.append([limit(1), limit(2), limit(3)]);
      await j.compact(0); // rotate: later appends go to a second segment
      await j.append([limit(4), limit(5)]);
      await j.close();
      const [first, second] = readdirSync(dir).sort();
      const flip = (name: string) => {
        const buf = readFileSync(path.join(dir, name));
        buf[12] ^= 0xff; // a payload byte of the segment's first record
        writeFileSync(path.join(dir, name), buf);
      };
      flip(second); // damaged last segment, valid records after the damage: open refuses
      let err: unknown;
      await FileJournal.open(dir).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(JournalCorruptError);
      flip(second); // repair it, damage an older segment instead: read refuses
      flip(first);
      const reopened = await FileJournal.open(dir);
      err = undefined;
      await reopened.read(0).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(JournalCorruptError);
      expect((err as JournalCorruptError).detail).to.equal("checksum mismatch");
      await reopened.close();
    });

    it("compaction starts a new segment and deletes segments a snapshot covers", async function () {
      const j = await FileJournal.open(dir);
      await j.append([limit(1), limit(2)]);
      await j.compact(0);
      await j.append([limit(3), limit(4)]);
      await j.compact(2);
      expect(readdirSync(dir).sort()).to.deep.equal(["journal-0000000000000003.mbj", "journal-0000000000000005.mbj"]);
      expect((await j.read(2)).map((e) => e.seq)).to.deep.equal([3, 4]);
      await j.append([limit(5)]);
      await j.close();
      const reopened = await FileJournal.open(dir);
      expect(reopened.lastSeq()).to.equal(5);
      await reopened.close();
    });
  });

  describe("BookService", function () {
    const SPEC: InstrumentSpec = {
      id: "BANK",
      base: "mbBANK",
      baseDecimals: 0,
      quote: "mbCNY",
      quoteDecimals: 6,
      tickSize: 10_000n,
      lotSize: 100n,
    };

    async function open(risk?: PreTradeRisk, snapshotEvery = 0) {
      return BookService.open({
        instrument: "BANK",
        journal: await FileJournal.open(path.join(dir, "journal")),
        snapshots: new FileSnapshotStore(path.join(dir, "snapshots")),
        risk,
        snapshotEvery,
        now: () => 1_000,
      });
    }

    it("journals commands before acknowledging them, and a reopened service replays them to the same book", async function () {
      const svc = await open(undefined, 10);
      for (let i = 1; i <= 25; i++) {
        const ack = await svc.submit(limit(i).cmd);
        expect(ack.seq).to.equal(i);
        expect(ack.accepted).to.equal(true);
      }
      const cross = await svc.submit({ kind: "market", id: 100, account: "b", side: Side.Sell, qty: 3 });
      expect(cross.fills.map((f) => f.qty)).to.deep.equal([1, 1, 1]);
      const hash = svc.engine.hash();
      await svc.close();
      expect(readdirSync(path.join(dir, "snapshots")).length).to.be.at.least(1);
      const again = await open();
      expect(again.engine.seq).to.equal(26);
      expect(again.engine.hash()).to.equal(hash);
      await again.close();
    });

    it("stops acknowledging anything once a journal write fails (fail-stop)", async function () {
      const journal = await FileJournal.open(path.join(dir, "journal"));
      const svc = await BookService.open({
        instrument: "BANK",
        journal,
        snapshots: new FileSnapshotStore(path.join(dir, "snapshots")),
        now: () => 1_000,
      });
      expect((await svc.submit(limit(1).cmd)).seq).to.equal(1);
      // the disk goes away under the journal: close its file descriptor behind its back
      await (journal as unknown as { handle: { close(): Promise<void> } }).handle.close();
      const results = await Promise.allSettled([svc.submit(limit(2).cmd), svc.submit(limit(3).cmd)]);
      expect(results.map((r) => r.status)).to.deep.equal(["rejected", "rejected"]);
      expect(String((results[0] as PromiseRejectedResult).reason)).to.contain("the journal failed");
      let err: unknown;
      await svc.submit(limit(4).cmd).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(JournalFailedError);
      // what was acknowledged is still there
      const reopened = await FileJournal.open(path.join(dir, "journal"));
      expect(reopened.lastSeq()).to.equal(1);
      await reopened.close();
    });

    it("does not journal orders refused by pre-trade risk; the book's own refusals are journaled", async function () {
      const state = new InMemoryRiskState();
      state.setInstrument("BANK", { spec: SPEC, sector: "fin", initialMargin: 2n * 10n ** 17n, oraclePrice: 1_000 });
      state.setAccount("a", {
        kycVerified: false,
        kycExpiresAt: 0,
        maxLeverage: 2n * 10n ** 18n,
        marginState: MarginState.Healthy,
        tier: "standard",
        chain: { cash: 10n ** 12n, debt: 0n, positions: new Map() },
        unsettled: { cash: 0n, positions: new Map() },
      });
      const risk = new PreTradeRisk(state, {
        priceBandBps: 1_000,
        maxInstrumentExposure: 10n ** 15n,
        maxSectorExposure: 10n ** 15n,
        maxAccountExposure: 10n ** 15n,
        tiers: {
          standard: {
            maxLeverage: 10n ** 19n,
            maxOrdersPerSecond: 1e6,
            maxOrdersPerDay: 1e6,
            maxNotionalPerDay: 10n ** 18n,
          },
        },
      });
      const svc = await open(risk);
      const order = {
        kind: "limit",
        id: 1,
        account: "a",
        side: Side.Buy,
        price: 1_000,
        qty: 1,
        tif: TimeInForce.GTC,
      } as const;
      const refused = await svc.submit(order);
      expect(refused).to.include({ seq: 0, accepted: false, reject: RejectCode.KycNotVerified });
      expect(svc.engine.seq).to.equal(0);
      state.setAccount("a", {
        ...(state.account("a") as NonNullable<ReturnType<typeof state.account>>),
        kycVerified: true,
      });
      expect((await svc.submit(order)).seq).to.equal(1);
      const dup = await svc.submit(order);
      expect(dup).to.include({ seq: 2, accepted: false, reject: RejectCode.DuplicateOrderId });
      await svc.close();
    });

    it("publishes market data only after the command is durable, and a snapshot plus updates rebuild the depth", async function () {
      const svc = await open();
      const seen: PublicMessage[] = [];
      const mine: OrderEvent[] = [];
      svc.marketData.subscribePublic((m) => seen.push(m));
      svc.marketData.subscribeAccount("b", (e) => mine.push(e));
      const p = svc.submit(limit(1).cmd);
      expect(seen).to.have.length(0); // applied, not yet durable
      await p;
      expect(seen.map((m) => m.type)).to.deep.equal(["depthUpdate"]);
      const snap = svc.marketData.snapshot();
      for (let i = 2; i <= 6; i++) await svc.submit(limit(i).cmd);
      await svc.submit({ kind: "market", id: 50, account: "b", side: Side.Sell, qty: 2 });
      await svc.submit({ kind: "cancel", id: 3, account: "a" });
      // a client that started from `snap` and applied every later update sees the same depth as the book
      const bids = new Map(snap.bids.map((l) => [l[0], l]));
      for (const m of seen) {
        if (m.type !== "depthUpdate" || m.seq <= snap.seq) continue;
        for (const l of m.bids) {
          if (l[1] === 0) bids.delete(l[0]);
          else bids.set(l[0], l);
        }
      }
      expect([...bids.values()].sort((a, b) => b[0] - a[0])).to.deep.equal(svc.engine.book.depth(Side.Buy));
      const trades = seen.filter((m) => m.type === "trade");
      expect(trades.map((t) => [t.tradeId, t.qty, t.takerSide])).to.deep.equal([
        ["BANK:7-1", 1, "sell"],
        ["BANK:7-2", 1, "sell"],
      ]);
      // "b" sees its own order's events, and only those
      expect(mine.map((e) => e.event)).to.deep.equal(["accepted", "fill", "fill"]);
      expect(mine.every((e) => e.account === "b")).to.equal(true);
      await svc.close();
    });

    it("reports a level's new total when a fill removes one of several orders at that price", async function () {
      const svc = await open();
      const seen: PublicMessage[] = [];
      svc.marketData.subscribePublic((m) => seen.push(m));
      const bid = (id: number, qty: number) =>
        svc.submit({ kind: "limit", id, account: "a", side: Side.Buy, price: 100, qty, tif: TimeInForce.GTC });
      await bid(1, 5);
      await bid(2, 7);
      await svc.submit({ kind: "market", id: 3, account: "b", side: Side.Sell, qty: 5 });
      const last = seen.filter((m) => m.type === "depthUpdate").pop();
      expect(last?.bids).to.deep.equal([[100, 7, 1]]);
      expect(svc.marketData.snapshot().bids).to.deep.equal([[100, 7, 1]]);
      await svc.close();
    });

    it("a subscriber joining while commands are in flight rebuilds the depth from its snapshot and later updates", async function () {
      const svc = await open();
      for (let i = 1; i <= 4; i++) await svc.submit(limit(i).cmd);
      const inflight = [5, 6, 7].map((i) => svc.submit(limit(i).cmd));
      inflight.push(svc.submit({ kind: "cancel", id: 2, account: "a" }));
      const seen: PublicMessage[] = [];
      svc.marketData.subscribePublic((m) => seen.push(m));
      const snap = svc.marketData.snapshot();
      expect(snap.seq).to.equal(4); // only what is durable
      await Promise.all(inflight);
      const bids = new Map(snap.bids.map((l) => [l[0], l]));
      for (const m of seen) {
        if (m.type !== "depthUpdate" || m.seq <= snap.seq) continue;
        for (const l of m.bids) {
          if (l[1] === 0) bids.delete(l[0]);
          else bids.set(l[0], l);
        }
      }
      expect(seen.map((m) => m.seq)).to.deep.equal([5, 6, 7, 8]);
      expect([...bids.values()].sort((a, b) => b[0] - a[0])).to.deep.equal(svc.engine.book.depth(Side.Buy));
      await svc.close();
    });
  });
});
