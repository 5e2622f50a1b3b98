import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import {
  OrderGateway,
  type InstrumentSpec,
  type OrderGatewayOptions,
  type SettlementTrade,
  type TradeSink,
} from "../../../offchain/orderbook";
import { settlementQueueSink } from "../../../offchain/settlement/orderbookSink";
import { settlementDomain, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import { AppError } from "../../../offchain/shared/errors";
import { openStore, type Store, type StoreOptions } from "../../../offchain/store";
import { createTestDatabase } from "../../helpers/postgres";

const HUB = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const BANK = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const TICK = 10_000n;
const SPEC: InstrumentSpec = {
  id: "mbBANK",
  base: BANK,
  baseDecimals: 0,
  quote: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  quoteDecimals: 6,
  tickSize: TICK,
  lotSize: 1n,
};
const domain = settlementDomain(31337, HUB);

let sqliteDir = "";
let pgDrop: (() => Promise<void>) | undefined;
const ENGINES: Array<{ name: string; setup(): Promise<StoreOptions | { skip: string }>; teardown(): Promise<void> }> = [
  {
    name: "SQLite",
    async setup() {
      sqliteDir = mkdtempSync(path.join(tmpdir(), "mb-handover-"));
      return { engine: "sqlite", path: path.join(sqliteDir, "store.sqlite") };
    },
    async teardown() {
      rmSync(sqliteDir, { recursive: true, force: true });
    },
  },
  {
    name: "PostgreSQL",
    async setup() {
      const db = await createTestDatabase("mb_book_handover");
      if ("skip" in db) return db;
      pgDrop = db.drop;
      return { engine: "postgres", url: db.url, poolSize: 4 };
    },
    async teardown() {
      await pgDrop?.();
    },
  },
];

/** `w` signs a GTC limit order on mbBANK (price in ticks) and places it through the gateway. */
async function placeLimit(g: OrderGateway, w: Wallet, side: 0 | 1, nonce: bigint, ticks: bigint, quantity: bigint) {
  const order: SignedOrderFields = {
    account: w.address,
    instrument: BANK,
    side,
    expiry: BigInt(Math.floor(Date.now() / 1000) + 3600),
    limitPrice: ticks * TICK,
    quantity,
    nonce,
  };
  const sig = await signOrder(w, domain, order);
  return g.place(w.address, { order, sig, type: "limit", tif: "GTC", postOnly: false });
}

/** The settlement queue, except that the process "dies" in the middle of the first hand-over it is given. */
function dyingSink(store: Store): TradeSink & { died: boolean } {
  const real = settlementQueueSink(store);
  return {
    died: false,
    async enqueue(t: SettlementTrade) {
      if (!this.died) {
        this.died = true;
        throw new Error("process killed between the journal and the settlement queue");
      }
      await real.enqueue(t);
    },
  };
}

for (const engine of ENGINES) {
  describe(`orderbook → settlement hand-over across a crash (${engine.name})`, function () {
    this.timeout(30_000);
    let store: Store;
    /** A gateway on the store, handing trades to the real settlement queue. */
    const openGateway = (options: Partial<OrderGatewayOptions> = {}): Promise<OrderGateway> =>
      OrderGateway.open({
        store,
        domain,
        instruments: [SPEC],
        sink: settlementQueueSink(store),
        snapshotEvery: 0,
        ...options,
      });

    before(async function () {
      const o = await engine.setup();
      if ("skip" in o) {
        console.log(`    skipping ${engine.name}: ${o.skip}`);
        this.skip();
      }
      store = await openStore(o);
    });
    after(async () => {
      await store?.close();
      await engine.teardown();
    });

    it("keeps a journaled trade that never reached the queue out of every snapshot, then queues it once after restart", async function () {
      const [maker, taker] = [0, 1].map(() => new Wallet(Wallet.createRandom().privateKey));
      const place = (g: OrderGateway, w: Wallet, side: 0 | 1, nonce: bigint) =>
        placeLimit(g, w, side, nonce, 1_000n, 5n);
      // A snapshot after every command: the tightest case (each snapshot compacts the journal behind it).
      const sink = dyingSink(store);
      const first = await openGateway({ sink, snapshotEvery: 1 });
      const resting = await place(first, maker, 1, 1n);
      expect(resting.ack.accepted).to.equal(true);
      await new Promise((r) => setTimeout(r, 200)); // the snapshot of seq 1 is saved; the next command's is due
      expect(JSON.parse((await store.orderbook.latestSnapshot(SPEC.id))!).seq).to.equal(1);
      let crossing: unknown;
      try {
        await place(first, taker, 0, 1n);
      } catch (err) {
        crossing = err;
      }
      expect(String(crossing)).to.contain("process killed");
      expect(sink.died).to.equal(true);
      expect(await store.settlement.pending(10)).to.deep.equal([]);
      // The crossing command (seq 2) is journaled; no snapshot may cover it while its trade is not queued.
      await new Promise((r) => setTimeout(r, 200));
      const snap = await store.orderbook.latestSnapshot(SPEC.id);
      expect(snap === undefined ? 0 : (JSON.parse(snap) as { seq: number }).seq).to.be.lessThan(2);
      expect(await store.orderbook.lastSeq(SPEC.id)).to.equal(2);

      // Restart (the first gateway is abandoned, as a killed process would be): replay re-derives the trade.
      const second = await openGateway({ snapshotEvery: 1 });
      const queued = await store.settlement.pending(10);
      expect(queued.map((t) => t.tradeId)).to.deep.equal(["mbBANK:2-1"]);
      expect(queued[0].quantity).to.equal(5n);
      expect(queued[0].price).to.equal(1_000n * TICK);
      expect(queued[0].buy.account).to.equal(taker.address);
      expect(queued[0].sell.account).to.equal(maker.address);

      // Once the trade is queued the snapshot may cover it; a further restart queues nothing twice.
      await second.service(SPEC.id).snapshotNow();
      const third = await openGateway({ snapshotEvery: 1 });
      expect((await store.settlement.pending(10)).map((t) => t.tradeId)).to.deep.equal(["mbBANK:2-1"]);
      expect(third.service(SPEC.id).engine.book.depth(0)).to.deep.equal([]);
      // Both sides' fills are in the store: they survive the restarts and are recorded once.
      const takerView = await third.openOrders(taker.address);
      expect(takerView.fills).to.deep.equal([
        {
          tradeId: "mbBANK:2-1",
          orderId: 2,
          instrument: "mbBANK",
          side: "buy",
          price: (1_000n * TICK).toString(),
          quantity: "5",
          role: "taker",
        },
      ]);
      expect((await third.openOrders(maker.address)).fills.map((f) => [f.tradeId, f.role, f.side])).to.deep.equal([
        ["mbBANK:2-1", "maker", "sell"],
      ]);
      await third.close();
      await second.close();
    });

    it("records the fills of an instrument whose id has a hyphen (an option series, mbBANK-P9)", async function () {
      const SERIES = "0x788D6f942ef166BA83079C407c46EDa571bF6fb0";
      const spec: InstrumentSpec = { ...SPEC, id: "mbBANK-P9", base: SERIES };
      const g = await openGateway({ instruments: [SPEC, spec] });
      const [maker, taker] = [0, 1].map(() => new Wallet(Wallet.createRandom().privateKey));
      const order = async (w: Wallet, side: 0 | 1) => {
        const fields: SignedOrderFields = {
          account: w.address,
          instrument: SERIES,
          side,
          expiry: BigInt(Math.floor(Date.now() / 1000) + 3600),
          limitPrice: 86n * TICK,
          quantity: 2n,
          nonce: 7n,
        };
        return g.place(w.address, {
          order: fields,
          sig: await signOrder(w, domain, fields),
          type: "limit",
          tif: "GTC",
          postOnly: false,
        });
      };
      await order(maker, 1);
      const crossed = await order(taker, 0);
      expect(crossed.ack.accepted).to.equal(true);
      const fills = (await g.openOrders(taker.address)).fills;
      expect(fills.map((f) => [f.tradeId, f.instrument, f.quantity])).to.deep.equal([
        ["mbBANK-P9:2-1", "mbBANK-P9", "2"],
      ]);
      await g.close();
    });

    it("pages an account's fills newest first with a cursor, and refuses a forged cursor", async function () {
      const [maker, taker] = [0, 1].map(() => new Wallet(Wallet.createRandom().privateKey));
      const g = await openGateway();
      const place = (w: Wallet, side: 0 | 1, nonce: bigint, price: bigint) => placeLimit(g, w, side, nonce, price, 1n);
      for (let i = 1n; i <= 5n; i++) {
        await place(maker, 1, 100n + i, 990n + i);
        await place(taker, 0, 100n + i, 990n + i);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      const sizes: number[] = [];
      for (;;) {
        const page = await g.openOrders(taker.address, { limit: 2, cursor });
        sizes.push(page.fills.length);
        seen.push(...page.fills.map((f) => `${f.tradeId}@${f.price}`));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(sizes).to.deep.equal([2, 2, 1]);
      // newest first: the fifth trade (highest price) leads; each trade once
      expect(seen.map((x) => x.split("@")[1])).to.deep.equal(
        [995n, 994n, 993n, 992n, 991n].map((p) => (p * TICK).toString()),
      );
      expect(new Set(seen).size).to.equal(5);
      let refused: unknown;
      try {
        await g.openOrders(taker.address, { limit: 2, cursor: "1' OR 1=1" });
      } catch (err) {
        refused = err;
      }
      expect((refused as { code?: string }).code).to.equal("VALIDATION_FAILED");
      await g.close();
    });

    it("answers NOT_LEADER (not an internal error) once another instance took the lease, and keeps refusing", async function () {
      const lease = `role:orderbook-test-${engine.name}`;
      const epoch = await store.locks.acquireLease(lease, "old-leader", 60_000);
      expect(epoch).to.be.a("number");
      const g = await openGateway({
        fence: async (tx) => {
          if (!(await tx.locks.holdsLease(lease, "old-leader", epoch!))) {
            throw new AppError("NOT_LEADER", "lease gone", { details: { lease } });
          }
        },
      });
      const w = new Wallet(Wallet.createRandom().privateKey);
      const first = await placeLimit(g, w, 1, 1n, 1_000n, 1n);
      expect(first.ack.accepted).to.equal(true);
      // the old leader's lease expires (as while it was paused) and another instance takes it
      expect(await store.locks.acquireLease(lease, "new-leader", 60_000, Date.now() + 120_000)).to.be.above(epoch!);
      for (const nonce of [2n, 3n]) {
        let refused: unknown;
        try {
          await placeLimit(g, w, 1, nonce, 1_001n, 1n);
        } catch (err) {
          refused = err;
        }
        expect(refused, "refused").to.be.instanceOf(AppError);
        expect((refused as AppError).code).to.equal("NOT_LEADER");
      }
      await g.close().catch(() => undefined);
    });
  });
}
