import { expect } from "chai";
import { Wallet } from "ethers";
import WebSocket from "ws";
import { ApiClient, createApiKey, signedWsQuery, type NewApiKey } from "../../../offchain/api";
import {
  OrderGateway,
  orderbookRoutes,
  orderbookStreams,
  storeTradeSink,
  type InstrumentSpec,
  type SettlementTrade,
  type TradeSink,
  type WriteFence,
} from "../../../offchain/orderbook";
import {
  orderId as structHash,
  orderToJson,
  settlementDomain,
  signOrder,
  type SignedOrderFields,
} from "../../../offchain/settlement/orders";
import { AppError } from "../../../offchain/shared/errors";
import type { Store } from "../../../offchain/store";
import { startTestApi, TEST_SECRET_KEY, type TestApi } from "../../helpers/api";
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
const EXPIRY = BigInt(Math.floor(Date.now() / 1000) + 3600);

type Rejection = { error: { code: string; details: { reject?: string; reason?: string; orderId?: number } } };
type AckBody = { orderId: number; accepted: boolean; restingQuantity: string };

/**
 * One writer per order and one live order per hub nonce, through the HTTP API on each store engine: racing
 * requests are fired at once (Promise.all) at a gateway on the store journal; a gateway left behind as a killed
 * process leaves it is reopened on the same store.
 */
for (const engine of ["SQLite", "PostgreSQL"] as const) {
  describe(`order book under concurrent requests (${engine})`, function () {
    this.timeout(60_000);
    let api: TestApi;
    let drop: (() => Promise<void>) | undefined;
    let gateway: OrderGateway;
    const trades: SettlementTrade[] = [];
    let buyer: Wallet;
    let seller: Wallet;
    let keys: { buyer: NewApiKey; seller: NewApiKey };
    let nonce = 1n;
    /** Journal and order writes fail once this many more fenced transactions have passed (a process dying). */
    let allowWrites = Infinity;
    const fence: WriteFence = async () => {
      if (allowWrites-- <= 0) throw new AppError("NOT_LEADER", "this process is gone");
    };

    const openGateway = (store: Store): Promise<OrderGateway> => {
      const sink: TradeSink = {
        enqueue: async (t) => {
          trades.push(t);
          await storeTradeSink(store).enqueue(t);
        },
      };
      return OrderGateway.open({ store, domain, instruments: [SPEC], sink, snapshotEvery: 5, fence });
    };

    async function sign(w: Wallet, side: 0 | 1, ticks: bigint, qty: bigint, n = nonce++) {
      const order: SignedOrderFields = {
        account: w.address,
        instrument: BANK,
        side,
        expiry: EXPIRY,
        limitPrice: ticks * TICK,
        quantity: qty,
        nonce: n,
      };
      return { order, body: { order: orderToJson(order), signature: await signOrder(w, domain, order) } };
    }
    const client = (k: NewApiKey): ApiClient => new ApiClient(api.running.url, k);

    /** The book's resting order and the stored signed order settlement would use agree (price, total). */
    async function expectAgreement(id: number): Promise<void> {
      const r = gateway.service(SPEC.id).engine.book.get(id);
      const row = await api.store.orderbook.order(id);
      expect(row, `order ${id} is stored`).to.not.equal(undefined);
      const stored = JSON.parse(row!.body) as { order: { limitPrice: string; quantity: string } };
      if (r === undefined) return;
      expect(
        [stored.order.limitPrice, stored.order.quantity],
        `book ${r.price} ticks × ${r.qty} open + ${r.filled} filled`,
      ).to.deep.equal([(BigInt(r.price) * TICK).toString(), BigInt(r.qty + r.filled).toString()]);
    }

    before(async function () {
      let postgresUrl: string | undefined;
      if (engine === "PostgreSQL") {
        const db = await createTestDatabase("mb_book_concurrency");
        if ("skip" in db) {
          console.log(`    skipping: ${db.skip}`);
          this.skip();
        }
        postgresUrl = db.url;
        drop = db.drop;
      }
      api = await startTestApi({
        port: engine === "SQLite" ? 18835 : 18836,
        postgresUrl,
        setup: async (store) => {
          gateway = await openGateway(store);
          // routes and streams resolve the gateway on every call, so a reopened one takes over
          const current = new Proxy({} as OrderGateway, {
            get: (_t, prop) => {
              const v = (gateway as unknown as Record<string | symbol, unknown>)[prop];
              return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(gateway) : v;
            },
          });
          return { capabilities: [orderbookRoutes(current)], streams: orderbookStreams(current) };
        },
      });
      [buyer, seller] = [0, 1].map(() => new Wallet(Wallet.createRandom().privateKey));
      keys = {
        buyer: await createApiKey(api.store, TEST_SECRET_KEY, { role: "client", subject: buyer.address, label: "b" }),
        seller: await createApiKey(api.store, TEST_SECRET_KEY, { role: "client", subject: seller.address, label: "s" }),
      };
    });
    after(async () => {
      await gateway?.close().catch(() => undefined);
      await api?.close();
      await drop?.();
    });

    it("eight concurrent modifies (and a cancel) of one order leave the book and the stored signed order agreeing", async () => {
      // Targets (price ticks, total): some repeat an earlier one, so the engine refuses them (MODIFY_NO_CHANGE)
      // after another request moved the order; a refused modify must not put back a stale signed order.
      const targets: Array<[bigint, bigint]> = [
        [371n, 13n],
        [371n, 13n],
        [372n, 12n],
        [373n, 11n],
        [373n, 11n],
        [374n, 10n],
        [376n, 9n],
        [376n, 9n],
      ];
      for (let round = 0; round < 6; round++) {
        const placed = await client(keys.buyer).post<AckBody>("/v1/orders", (await sign(buyer, 0, 375n, 10n)).body);
        expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
        const id = placed.body.orderId;
        const bodies = await Promise.all(targets.map(([p, q]) => sign(buyer, 0, p, q)));
        const answers = await Promise.all([
          ...bodies.map((b) => client(keys.buyer).request<AckBody | Rejection>("PATCH", `/v1/orders/${id}`, b)),
          ...(round === 5 ? [client(keys.buyer).request("DELETE", `/v1/orders/${id}`)] : []),
        ]);
        for (const a of answers) expect([200, 422], JSON.stringify(a.body)).to.include(a.status);
        expect(answers.filter((a) => a.status === 200).length, "some modifies went through").to.be.greaterThan(0);
        await expectAgreement(id);
        if (round === 5) {
          expect(gateway.service(SPEC.id).engine.book.has(id), "cancelled").to.equal(false);
          continue;
        }
        // the next fill settles under the stored signed order, within its limit
        const r = gateway.service(SPEC.id).engine.book.get(id)!;
        const sell = await client(keys.seller).post<AckBody>(
          "/v1/orders",
          (await sign(seller, 1, BigInt(r.price), 1n)).body,
        );
        expect(sell.status, JSON.stringify(sell.body)).to.equal(201);
        const trade = trades.at(-1)!;
        const row = JSON.parse((await api.store.orderbook.order(id))!.body) as { order: { nonce: string } };
        expect(trade.buy.order.nonce.toString()).to.equal(row.order.nonce);
        expect(trade.buy.order.limitPrice >= trade.price).to.equal(true);
        await expectAgreement(id);
        await client(keys.buyer).request("DELETE", `/v1/orders/${id}`);
      }
    });

    it("two signed orders on one hub nonce sent at once: one enters the book, the other is refused NONCE_USED", async () => {
      const n = nonce++;
      const [a, b] = await Promise.all([sign(seller, 1, 380n, 5n, n), sign(seller, 1, 381n, 7n, n)]);
      const answers = await Promise.all(
        [a, b].map((x) => client(keys.seller).post<AckBody | Rejection>("/v1/orders", x.body)),
      );
      expect(answers.map((x) => x.status).sort()).to.deep.equal([201, 422]);
      const refused = answers.find((x) => x.status === 422)!.body as Rejection;
      expect(refused.error.details).to.include({ reject: "NONCE_USED", reason: "reserved" });
      const placed = answers.find((x) => x.status === 201)!.body as AckBody;
      expect(refused.error.details.orderId).to.equal(placed.orderId);
      const mine = await client(keys.seller).get<{ orders: Array<{ id: number }> }>("/v1/orders");
      expect(mine.body.orders.map((o) => o.id)).to.deep.equal([placed.orderId]);
      // a modify onto another order's nonce is refused too, and leaves the order as it was
      const other = await client(keys.seller).post<AckBody>("/v1/orders", (await sign(seller, 1, 390n, 1n)).body);
      const onTaken = await sign(seller, 1, 389n, 1n, n);
      const mod = await client(keys.seller).request<Rejection>("PATCH", `/v1/orders/${other.body.orderId}`, {
        body: onTaken.body,
      });
      expect([mod.status, mod.body.error.details.reject]).to.deep.equal([422, "NONCE_USED"]);
      await expectAgreement(other.body.orderId);
      for (const id of [placed.orderId, other.body.orderId])
        await client(keys.seller).request("DELETE", `/v1/orders/${id}`);
    });

    it("refuses a nonce the hub has spent or retired, and cancels a resting order whose nonce the hub spent", async () => {
      const spent = nonce++;
      await api.store.transaction((tx) => tx.orderbook.recordSpentNonce(seller.address, spent));
      const onSpent = await client(keys.seller).post<Rejection>(
        "/v1/orders",
        (await sign(seller, 1, 380n, 1n, spent)).body,
      );
      expect([onSpent.status, onSpent.body.error.details.reject, onSpent.body.error.details.reason]).to.deep.equal([
        422,
        "NONCE_USED",
        "spent",
      ]);
      const resting = await client(keys.seller).post<AckBody>("/v1/orders", (await sign(seller, 1, 385n, 2n)).body);
      expect(resting.status).to.equal(201);
      nonce += 10n;
      await api.store.transaction((tx) => tx.orderbook.recordMinNonce(seller.address, nonce - 5n));
      const below = await client(keys.seller).post<Rejection>(
        "/v1/orders",
        (await sign(seller, 1, 380n, 1n, nonce - 6n)).body,
      );
      expect([below.status, below.body.error.details.reject]).to.deep.equal([422, "NONCE_BELOW_MIN"]);
      expect(await gateway.cancelDeadNonces()).to.equal(1);
      expect(gateway.service(SPEC.id).engine.book.has(resting.body.orderId)).to.equal(false);
      const ok = await client(keys.seller).post<AckBody>("/v1/orders", (await sign(seller, 1, 386n, 1n)).body);
      expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
      await client(keys.seller).request("DELETE", `/v1/orders/${ok.body.orderId}`);
    });

    it("after a kill between storing and journaling, the restarted book forgets the signed order: it may come again", async () => {
      const order = await sign(buyer, 0, 360n, 3n);
      await new Promise((r) => setTimeout(r, 200)); // no snapshot save in flight
      allowWrites = 1; // the order's record commits, its journal group does not: the process is gone
      const lost = await client(keys.buyer).post<Rejection>("/v1/orders", order.body);
      expect(lost.status).to.equal(503);
      expect(await api.store.orderbook.orderIdByHash(structHash(order.order))).to.not.equal(null);
      // the same order while the dead process's record is all there is: refused on old code for good
      allowWrites = Infinity;
      gateway = await openGateway(api.store);
      const again = await client(keys.buyer).post<AckBody>("/v1/orders", order.body);
      expect(again.status, JSON.stringify(again.body)).to.equal(201);
      expect(again.body.restingQuantity).to.equal("3");
      await client(keys.buyer).request("DELETE", `/v1/orders/${again.body.orderId}`);
    });

    it("after a kill between storing a modify and applying it, the restarted book puts the old signed order back", async () => {
      const placed = await client(keys.buyer).post<AckBody>("/v1/orders", (await sign(buyer, 0, 361n, 4n)).body);
      const id = placed.body.orderId;
      const modify = await sign(buyer, 0, 362n, 6n);
      await new Promise((r) => setTimeout(r, 200));
      allowWrites = 1; // the new signed order is stored, the modify never reaches the journal
      const lost = await client(keys.buyer).request<Rejection>("PATCH", `/v1/orders/${id}`, { body: modify.body });
      expect(lost.status).to.equal(503);
      allowWrites = Infinity;
      gateway = await openGateway(api.store);
      await expectAgreement(id);
      expect(gateway.service(SPEC.id).engine.book.get(id)!.price).to.equal(361);
      // the modify itself may be sent again (its nonce stays reserved for this order)
      const retried = await client(keys.buyer).request<AckBody>("PATCH", `/v1/orders/${id}`, { body: modify.body });
      expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
      await expectAgreement(id);
      await client(keys.buyer).request("DELETE", `/v1/orders/${id}`);
    });

    it("20,000 depth subscriptions from one socket: one subscription, then the flood closes the socket", async () => {
      const url = `${api.running.url.replace("http", "ws")}/v1/ws?`;
      const open = (k: NewApiKey) => {
        const ws = new WebSocket(url + signedWsQuery(k.keyId, k.secret));
        const got: Array<{ type: string }> = [];
        const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
        ws.on("message", (d: Buffer) => got.push(JSON.parse(d.toString()) as { type: string }));
        return { ws, got, closed, opened: new Promise((r) => ws.once("open", r)) };
      };
      const flood = open(keys.seller);
      const polite = open(keys.buyer);
      await Promise.all([flood.opened, polite.opened]);
      const sub = JSON.stringify({ type: "subscribe", channel: "depth", instrument: SPEC.id });
      for (let i = 0; i < 20_000; i++) flood.ws.send(sub);
      for (let i = 0; i < 10; i++) polite.ws.send(sub);
      expect(await flood.closed).to.equal(1008);
      while (polite.got.filter((m) => m.type === "subscribed").length < 10) await new Promise((r) => setTimeout(r, 20));
      const placed = await client(keys.buyer).post<AckBody>("/v1/orders", (await sign(buyer, 0, 350n, 1n)).body);
      expect(placed.status).to.equal(201);
      await new Promise((r) => setTimeout(r, 300));
      expect(polite.got.filter((m) => m.type === "depthSnapshot").length, "one snapshot").to.equal(1);
      expect(polite.got.filter((m) => m.type === "depthUpdate").length, "one update per change").to.equal(1);
      expect(flood.got.filter((m) => m.type === "depthSnapshot").length).to.be.at.most(1);
      expect(flood.got.filter((m) => m.type === "depthUpdate").length).to.equal(0);
      polite.ws.close();
      await client(keys.buyer).request("DELETE", `/v1/orders/${placed.body.orderId}`);
    });
  });
}
