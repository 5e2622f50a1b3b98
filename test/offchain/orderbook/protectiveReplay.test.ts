import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import {
  InMemoryRiskState,
  MarginState,
  OrderGateway,
  PreTradeRisk,
  type InstrumentSpec,
  type PlaceProtective,
  type SettlementTrade,
} from "../../../offchain/orderbook";
import { settlementDomain, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
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
      sqliteDir = mkdtempSync(path.join(tmpdir(), "mb-protective-replay-"));
      return { engine: "sqlite", path: path.join(sqliteDir, "store.sqlite") };
    },
    async teardown() {
      rmSync(sqliteDir, { recursive: true, force: true });
    },
  },
  {
    name: "PostgreSQL",
    async setup() {
      const db = await createTestDatabase("mb_protective_replay");
      if ("skip" in db) return db;
      pgDrop = db.drop;
      return { engine: "postgres", url: db.url, poolSize: 4 };
    },
    async teardown() {
      await pgDrop?.();
    },
  },
];

/** Risk over an in-memory view: `seller` holds `held` mbBANK, the buyer cash; both may trade freely. */
function riskWith(state: InMemoryRiskState, accounts: string[]): PreTradeRisk {
  state.setInstrument("mbBANK", { spec: SPEC, sector: "fin", initialMargin: 2n * 10n ** 17n, oraclePrice: 1_000 });
  for (const a of accounts)
    state.setAccount(a.toLowerCase(), {
      kycVerified: true,
      kycExpiresAt: 0,
      maxLeverage: 2n * 10n ** 18n,
      marginState: MarginState.Healthy,
      tier: "standard",
      chain: { cash: 1_000_000n * 10n ** 6n, debt: 0n, positions: new Map([["mbBANK", 30n]]) },
      unsettled: { cash: 0n, positions: new Map() },
    });
  const big = 10n ** 18n;
  return new PreTradeRisk(state, {
    priceBandBps: 1_000,
    maxInstrumentExposure: big,
    maxSectorExposure: big,
    maxAccountExposure: big,
    tiers: {
      standard: { maxLeverage: 10n ** 19n, maxOrdersPerSecond: 1e6, maxOrdersPerDay: 1e6, maxNotionalPerDay: big },
    },
  });
}

async function sign(w: Wallet, side: 0 | 1, ticks: bigint, quantity: bigint, nonce: bigint) {
  const order: SignedOrderFields = {
    account: w.address,
    instrument: BANK,
    side,
    expiry: BigInt(Math.floor(Date.now() / 1000) + 3600),
    limitPrice: ticks * TICK,
    quantity,
    nonce,
  };
  return { order, sig: await signOrder(w, domain, order) };
}

for (const engine of ENGINES) {
  describe(`protective orders across a restart: journal replay (${engine.name})`, function () {
    this.timeout(30_000);
    let store: Store;
    const trades = new Map<string, SettlementTrade>();
    const state = new InMemoryRiskState();
    const [seller, buyer] = [0, 1].map(() => new Wallet(Wallet.createRandom().privateKey));
    const risk = riskWith(state, [seller.address, buyer.address]);
    const open = (snapshotEvery = 0): Promise<OrderGateway> =>
      OrderGateway.open({
        store,
        domain,
        instruments: [SPEC],
        sink: { enqueue: (t) => void trades.set(t.tradeId, t) },
        risk,
        snapshotEvery,
        atr: { period: 2, barMs: 1_000 },
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

    it("a stop armed before a restart fires after it, cut to the position left; a second restart replays the same", async () => {
      let g = await open();
      await g.oracle("mbBANK", 1_000);
      const bid = await sign(buyer, 0, 990n, 20n, 1n);
      await g.place(buyer.address, { ...bid, type: "limit", tif: "GTC", postOnly: false });
      const child = await sign(seller, 1, 980n, 25n, 1n);
      const stop: PlaceProtective = { type: "stop", ...child, trigger: { price: 995n * TICK } };
      const placed = await g.placeProtective(seller.address, stop);
      expect(placed).to.include({ status: "armed", stopPrice: (995n * TICK).toString(), quantity: "25" });
      // a trailing stop from the snapshot, not the journal
      const trail = await g.placeProtective(seller.address, {
        type: "trailing",
        ...(await sign(seller, 1, 900n, 5n, 2n)),
        trigger: { trailPercentBps: 300 },
      });
      await g.service("mbBANK").snapshotNow();
      await g.close();

      // meanwhile the seller's position shrank from 30 to 12 (sold elsewhere, settled)
      state.setAccount(seller.address.toLowerCase(), {
        ...state.account(seller.address.toLowerCase())!,
        chain: { cash: 0n, debt: 0n, positions: new Map([["mbBANK", 12n]]) },
      });
      g = await open();
      expect(g.protectiveOrders(seller.address).map((p) => [p.orderId, p.status])).to.deep.equal([
        [trail.orderId, "armed"],
        [placed.orderId, "armed"],
      ]);
      await g.oracle("mbBANK", 994);
      const after = g.protectiveOrders(seller.address);
      expect(after.find((p) => p.orderId === placed.orderId)).to.include({
        status: "fired",
        firedQuantity: "12",
        cutFrom: "25",
      });
      // the trailing stop (970 at placement) is left, capped at nothing once the stop took the 12
      expect(after.find((p) => p.orderId === trail.orderId)).to.include({ status: "armed", stopPrice: "9700000" });
      const fill = [...trades.values()];
      expect(fill).to.have.length(1);
      expect(fill[0].quantity).to.equal(12n);
      expect(fill[0].price).to.equal(990n * TICK);
      expect(fill[0].sell.order).to.deep.equal(child.order); // the child the seller signed at placement
      expect(fill[0].sell.sig).to.deep.equal(child.sig);
      const hash = g.service("mbBANK").engine.hash();
      await g.close();

      g = await open();
      expect(g.service("mbBANK").engine.hash()).to.equal(hash);
      expect(g.protectiveOrders(seller.address).find((p) => p.orderId === placed.orderId)).to.include({
        status: "fired",
        firedQuantity: "12",
        cutFrom: "25",
      });
      expect(trades.size).to.equal(1); // the replayed trade is handed over again under the same id
      // the position is gone: the trailing stop fires into nothing and is cancelled, never flipping the account
      state.setAccount(seller.address.toLowerCase(), {
        ...state.account(seller.address.toLowerCase())!,
        chain: { cash: 0n, debt: 0n, positions: new Map() },
      });
      await g.oracle("mbBANK", 960);
      expect(g.protectiveOrders(seller.address).find((p) => p.orderId === trail.orderId)).to.include({
        status: "cancelled",
        cancelReason: "REDUCE_ONLY",
        cutFrom: "5",
      });
      expect(trades.size).to.equal(1);
      await g.close();
    });

    it("compensates (a carried stop when its buy is refused, an OCO leg when the other is) and arms a child posted five times at once once", async () => {
      const g = await open();
      await g.oracle("mbBANK", 1_000);
      // a buy 20% over the oracle: outside the 10% price band, refused by pre-trade risk after its stop was armed
      const buy = await sign(buyer, 0, 1_200n, 5n, 10n);
      const protect: PlaceProtective = {
        type: "stop",
        ...(await sign(buyer, 1, 900n, 5n, 11n)),
        trigger: { price: 950n * TICK },
      };
      const refused = await g
        .place(buyer.address, { ...buy, type: "limit", tif: "GTC", postOnly: false, protect })
        .catch((e: { details?: { reject?: string } }) => e);
      expect(refused).to.have.nested.property("details.reject", "PRICE_BAND");
      const [stop] = g.protectiveOrders(buyer.address);
      expect(stop).to.include({ status: "cancelled", cancelReason: "USER" });
      expect(g.service("mbBANK").engine.protective.has(stop.orderId)).to.equal(false);

      // an OCO whose second leg would fire at once: the first leg does not stay armed alone
      state.setAccount(seller.address.toLowerCase(), {
        ...state.account(seller.address.toLowerCase())!,
        chain: { cash: 0n, debt: 0n, positions: new Map([["mbBANK", 30n]]) },
      });
      const legs: [PlaceProtective, PlaceProtective] = [
        { type: "stop", ...(await sign(seller, 1, 900n, 5n, 20n)), trigger: { price: 950n * TICK } },
        { type: "takeProfit", ...(await sign(seller, 1, 990n, 5n, 21n)), trigger: { price: 990n * TICK } },
      ];
      const oco = await g.placeOco(seller.address, legs).catch((e: { details?: { field?: string } }) => e);
      expect(oco).to.have.nested.property("details.field", "trigger.price");
      expect(g.service("mbBANK").engine.protective.size).to.equal(0);

      // the same signed child fired five times at once: armed once, the others ORDER_REPLAYED / NONCE_USED
      const twice: PlaceProtective = {
        type: "trailing",
        ...(await sign(seller, 1, 900n, 5n, 30n)),
        trigger: { trailAmount: 20n * TICK },
      };
      const answers = await Promise.allSettled([0, 1, 2, 3, 4].map(() => g.placeProtective(seller.address, twice)));
      expect(answers.filter((r) => r.status === "fulfilled")).to.have.length(1);
      for (const r of answers)
        if (r.status === "rejected")
          expect(["ORDER_REPLAYED", "NONCE_USED"]).to.include(
            (r.reason as { details: { reject: string } }).details.reject,
          );
      expect(g.service("mbBANK").engine.protective.size).to.equal(1);
      await g.close();
    });
  });
}
