import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JsonRpcSigner } from "ethers";
import { ApiClient, createApiKey } from "../../offchain/api";
import { startService, type Service } from "../../offchain/main";
import type { ProtectiveView } from "../../offchain/orderbook";
import { orderToJson, settlementDomain, signOrder, type SignedOrderFields } from "../../offchain/settlement/orders";
import { DEV_KEYS, DEV_OPERATOR_KEY, parseConfig } from "../../offchain/shared/config";
import { silentLogger } from "../../offchain/shared/logger";
import { PLATFORM_RISK_LIMITS } from "../../scripts/lib/riskLimits";
import { mine, startDevChain, type DevChain } from "../helpers/devChain";
import { CNY, E2eStack } from "../helpers/e2eStack";

const CHAIN_PORT = 8793;
const API_PORT = 18793;
const PRICES = { mbBANK: "10", mbTECH: "50", mbSMALL: "20" };

/** Cash base units of a price in mbCNY ("9.85" → 9_850_000). */
const cny = (s: string): bigint => {
  const [w, f = ""] = s.split(".");
  return BigInt(w) * CNY + BigInt(f.padEnd(6, "0"));
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * Protective orders end to end: a real hardhat node with the full deployment, the service on SQLite with the order
 * books over the chain (ChainRiskState, the platform's limits plus a protective template), the settlement batcher
 * settling on-chain. Client A holds mbBANK and arms protective orders whose children it signs at placement; the
 * market maker M rests bids; the oracle reporters move the price; the fired children settle from A's signatures.
 */
describe("protective orders through the gateway and on-chain settlement (e2e)", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let stack: E2eStack;
  let service: Service;
  let dir: string;
  let [a, m, h]: JsonRpcSigner[] = [];
  let [apiA, apiM, apiH]: ApiClient[] = [];
  let nonce = 1n;
  const prices = { ...PRICES };

  async function signed(signer: JsonRpcSigner, side: 0 | 1, limit: string, qty: bigint, expiresIn = 3_600) {
    const order: SignedOrderFields = {
      account: await signer.getAddress(),
      instrument: dev.record.contracts.mbBANK,
      side,
      expiry: BigInt(Math.floor(Date.now() / 1000) + expiresIn),
      limitPrice: cny(limit),
      quantity: qty,
      nonce: nonce++,
    };
    const signature = await signOrder(
      signer,
      settlementDomain(dev.record.chainId, dev.record.contracts.SettlementHub),
      order,
    );
    return { order: orderToJson(order), signature };
  }

  /** A's margin-account balance of mbBANK on-chain. */
  async function heldBy(s: JsonRpcSigner): Promise<bigint> {
    return stack.engine(s).balanceOf(await s.getAddress(), dev.record.contracts.mbBANK);
  }

  async function protectiveOf(api: ApiClient, id: number): Promise<ProtectiveView | undefined> {
    const r = await api.get<{ protective: ProtectiveView[] }>("/v1/orders");
    return r.body.protective.find((p) => p.orderId === id);
  }

  /** The oracle moves mbBANK to `price` (one reporter round) and the books have seen it. */
  async function oracle(price: string): Promise<void> {
    prices.mbBANK = price;
    await stack.relayPrices(prices);
    await inBook(cny(price) / 10_000n);
  }

  /** Waits until the book's protective orders have seen the oracle at `ticks` (the service polls the router). */
  async function inBook(ticks: bigint): Promise<void> {
    const book = service.orderbook!.service("mbBANK").engine.protective;
    await until(`oracle ${ticks} in the book`, async () => (book.oraclePrice === Number(ticks) ? true : undefined));
  }

  async function bid(price: string, qty: bigint): Promise<void> {
    const r = await apiM.post<{ accepted: boolean }>("/v1/orders", await signed(m, 0, price, qty));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
  }

  before(async function () {
    const started = performance.now();
    dir = mkdtempSync(path.join(tmpdir(), "mb-protective-"));
    dev = await startDevChain(CHAIN_PORT);
    stack = new E2eStack(dev, dir);
    [a, m, h] = await Promise.all([10, 11, 12].map((i) => dev.chain.provider.getSigner(i)));
    await stack.verify(2, [a, "protective-a"], [m, "protective-m"]);
    await stack.verify(4, [h, "protective-h"]); // a 4× tier: the template applies
    await stack.relayPrices(prices);
    await stack.mint("mbBANK", a, 100n, "protective-a-bank");
    await stack.deposit(a, "mbBANK", 100n);
    await stack.mint("mbCNY", m, 100_000n * CNY, "protective-m-cash");
    await stack.deposit(m, "mbCNY", 100_000n * CNY);
    await stack.mint("mbCNY", h, 10_000n * CNY, "protective-h-cash");
    await stack.deposit(h, "mbCNY", 10_000n * CNY);
    const config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      chain: {
        rpcUrl: dev.chain.url,
        network: "localhost",
        deploymentsDir: dev.deploymentsDir,
        confirmations: 1,
        pollIntervalMs: 300,
      },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
      settlement: { operatorKey: DEV_OPERATOR_KEY, intervalMs: 300 },
    });
    service = await startService(config, {
      deployment: dev.record,
      log: silentLogger,
      orderbook: {
        limits: {
          ...PLATFORM_RISK_LIMITS,
          protectiveTemplate: { aboveLeverage: 3n * 10n ** 18n, maxStopDistanceBps: 800 },
        },
        oraclePollMs: 200,
        // one-second bars, three of them: the ATR is ready after a few reporter rounds
        atr: { period: 3, barMs: 1_000 },
      },
    });
    const secret = Buffer.from(DEV_KEYS.apiSecretKey, "hex");
    [apiA, apiM, apiH] = await Promise.all(
      [a, m, h].map(async (s, i) => {
        const key = await createApiKey(service.store, secret, {
          role: "client",
          subject: await s.getAddress(),
          label: `protective ${i}`,
        });
        return new ApiClient(service.url, key);
      }),
    );
    await inBook(1_000n);
    console.log(`      setup (node, deployment, funding, service): ${Math.round(performance.now() - started)} ms`);
  });

  after(async () => {
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("refuses bad protective bodies with 400/422 naming the field, and stores nothing", async () => {
    const child = await signed(a, 1, "9.50", 10n);
    const cases: Array<[unknown, number, string]> = [
      [{ type: "stop", ...child, trigger: {} }, 400, "body.trigger.price"],
      [{ type: "stop", ...child, trigger: { price: "9850000", trailAmount: "1" } }, 400, "body.trigger.trailAmount"],
      [{ type: "trailing", ...child, trigger: { trailAmount: "1", trailPercentBps: 100 } }, 400, "body.trigger"],
      [{ type: "atrTrailing", ...child, trigger: { atrMultipleBps: 0 } }, 400, "body.trigger.atrMultipleBps"],
      [{ type: "oco", legs: [{ type: "stop", ...child, trigger: { price: "1" } }] }, 400, "body.legs"],
      [{ type: "stop", ...child, trigger: { price: "9855000" } }, 422, "trigger.price"], // off the tick grid
      [{ type: "stop", ...child, trigger: { price: "10100000" } }, 422, "trigger.price"], // fires at once
      [{ type: "stop", ...(await signed(a, 1, "9.50", 500n)), trigger: { price: "9000000" } }, 422, "order.quantity"],
    ];
    for (const [body, status, field] of cases) {
      const r = await apiA.post<{
        error: { message: string; details: { field?: string; issues?: { field: string }[] } };
      }>("/v1/orders", body);
      expect(r.status, JSON.stringify(r.body)).to.equal(status);
      const named = r.body.error.details.field ?? r.body.error.details.issues?.map((i) => i.field).join(" ");
      expect(named, JSON.stringify(r.body)).to.include(field);
    }
    // the well-formed child of the refused orders was never stored: it is accepted now
    const ok = await apiA.post<ProtectiveView>("/v1/orders", { type: "stop", ...child, trigger: { price: "8000000" } });
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    const cancelled = await apiA.request("DELETE", `/v1/orders/${ok.body.orderId}`);
    expect(cancelled.status).to.equal(200);
    expect(await protectiveOf(apiA, ok.body.orderId)).to.include({ status: "cancelled", cancelReason: "USER" });
  });

  it("a stop fires when the oracle falls to it, and its pre-signed child settles on-chain", async () => {
    await bid("9.70", 100n);
    const placed = await apiA.post<ProtectiveView>("/v1/orders", {
      type: "stop",
      ...(await signed(a, 1, "9.50", 40n)),
      trigger: { price: cny("9.85").toString() },
    });
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    expect(placed.body).to.include({
      status: "armed",
      type: "stop",
      stopPrice: cny("9.85").toString(),
      quantity: "40",
    });
    expect(placed.body).to.have.property("orderHash");
    await oracle("9.80");
    const fired = await until("the stop to fire", async () => {
      const v = await protectiveOf(apiA, placed.body.orderId);
      return v?.status === "fired" ? v : undefined;
    });
    expect(fired.firedQuantity).to.equal("40");
    expect(
      await until("the fill settled on-chain", async () => ((await heldBy(a)) === 60n ? true : undefined)),
    ).to.equal(true);
    expect(await heldBy(m)).to.equal(40n);
  });

  it("OCO: the take-profit leg fires on a rise and cancels the stop leg", async () => {
    await bid("10.10", 10n);
    const r = await apiA.post<{ orderIds: number[]; legs: ProtectiveView[] }>("/v1/orders", {
      type: "oco",
      legs: [
        { type: "takeProfit", ...(await signed(a, 1, "10.00", 10n)), trigger: { price: cny("10.20").toString() } },
        { type: "stop", ...(await signed(a, 1, "9.00", 10n)), trigger: { price: cny("9.50").toString() } },
      ],
    });
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    const [tp, stop] = r.body.orderIds;
    expect(r.body.legs.map((l) => l.ocoWith)).to.deep.equal([stop, tp]);
    await oracle("10.25");
    await until("the take-profit to fire", async () =>
      (await protectiveOf(apiA, tp))?.status === "fired" ? true : undefined,
    );
    expect(await protectiveOf(apiA, stop)).to.include({ status: "cancelled", cancelReason: "OCO_PARTNER_TRIGGERED" });
    await until("the take-profit settled", async () => ((await heldBy(a)) === 50n ? true : undefined));
  });

  it("stop-limit, take-profit-limit, trailing (amount and percent) and ATR trailing: placed, shown, fired, settled", async () => {
    await oracle("10.40"); // a new high for the trailing stops, and another bar for the ATR
    await new Promise((r) => setTimeout(r, 1_100)); // the 10.40 bar completes with the next round
    await oracle("10.50"); // the reporters post a round only for a move of 0.5% or more
    const place = async (type: string, limit: string, trigger: Record<string, unknown>) => {
      const r = await apiA.post<ProtectiveView>("/v1/orders", { type, ...(await signed(a, 1, limit, 2n)), trigger });
      expect(r.status, `${type}: ${JSON.stringify(r.body)}`).to.equal(201);
      return r.body;
    };
    const stopLimit = await place("stopLimit", "10.00", { price: cny("10.30").toString() });
    const tpLimit = await place("takeProfitLimit", "10.00", { price: cny("10.60").toString() });
    const trailAbs = await place("trailing", "9.50", { trailAmount: cny("0.20").toString() });
    const trailPct = await place("trailing", "9.50", { trailPercentBps: 200 });
    const atr = await until("the ATR ready", async () => {
      const r = await apiA.post<ProtectiveView>("/v1/orders", {
        type: "atrTrailing",
        ...(await signed(a, 1, "9.50", 2n)),
        trigger: { atrMultipleBps: 5_000 },
      });
      return r.status === 201 ? r.body : undefined;
    });
    expect(trailAbs).to.include({ stopPrice: cny("10.30").toString(), highest: cny("10.50").toString() });
    expect(trailAbs.belowHighPercent).to.equal("1.90"); // 0.20 / 10.50
    expect(trailPct).to.include({ stopPrice: cny("10.29").toString(), belowHighPercent: "2.00" }); // ⌊1050 × 2%⌋ = 21
    expect(atr.type).to.equal("atrTrailing");
    expect(BigInt(atr.atr!) > 0n, `ATR ${atr.atr}`).to.equal(true);
    expect(BigInt(atr.stopPrice) < cny("10.50"), `stop ${atr.stopPrice}`).to.equal(true);
    // take-profit-limit first (a rise), then everything else on a fall to 10.00
    await bid("10.60", 2n);
    await oracle("10.60");
    await until("the take-profit-limit to fire", async () =>
      (await protectiveOf(apiA, tpLimit.orderId))?.status === "fired" ? true : undefined,
    );
    await bid("10.00", 20n);
    await oracle("10.00");
    for (const o of [stopLimit, trailAbs, trailPct, atr])
      await until(`${o.type} to fire`, async () =>
        (await protectiveOf(apiA, o.orderId))?.status === "fired" ? true : undefined,
      );
    await until("all five children settled", async () => ((await heldBy(a)) === 40n ? true : undefined));
  });

  it("reduce-only: a stop fires smaller when the position shrank meanwhile (cut to what is held, never flipped)", async () => {
    await bid("9.90", 40n);
    // the books count the children just settled as unsettled too until the settled-trades job (every 2 s) has seen
    // the batcher mark them settled, which takes a confirming block (automine: mined here): until then the position
    // the stop may close looks smaller (REDUCE_ONLY)
    const body = { type: "stop", ...(await signed(a, 1, "9.50", 40n)), trigger: { price: cny("9.95").toString() } };
    const stop = await until("the settled children to leave the unsettled view", async () => {
      await mine(dev.chain);
      const r = await apiA.post<ProtectiveView>("/v1/orders", body);
      return r.status === 201 ? r : undefined;
    });
    expect(stop.status, JSON.stringify(stop.body)).to.equal(201);
    // A sells 25 directly; once settled, 15 are left for the stop
    const sale = await apiA.post<{ filledQuantity: string }>("/v1/orders", await signed(a, 1, "9.90", 25n));
    expect(sale.body.filledQuantity).to.equal("25");
    await until("the sale settled", async () => ((await heldBy(a)) === 15n ? true : undefined));
    // the books' view drops the sale's unsettled entry at a settled-trades job: probe it with a 15-unit stop
    const probe = { type: "stop", ...(await signed(a, 1, "9.00", 15n)), trigger: { price: cny("9.00").toString() } };
    const armed = await until("the sale to leave the unsettled view", async () => {
      await mine(dev.chain);
      const r = await apiA.post<ProtectiveView>("/v1/orders", probe);
      return r.status === 201 ? r.body : undefined;
    });
    expect((await apiA.request("DELETE", `/v1/orders/${armed.orderId}`)).status).to.equal(200);
    await oracle("9.92");
    const fired = await until("the stop to fire", async () => {
      const v = await protectiveOf(apiA, stop.body.orderId);
      return v?.status === "fired" ? v : undefined;
    });
    expect(fired).to.include({ firedQuantity: "15", cutFrom: "40" });
    await until("the cut child settled: nothing left, nothing short", async () =>
      (await heldBy(a)) === 0n ? true : undefined,
    );
  });

  it("the protective template: a 4× tier's buy without a stop, or with one too far, is refused; with one it trades", async () => {
    const buy = await signed(h, 0, "10.00", 5n);
    const bare = await apiH.post<{ error: { details: { reject: string; messages: Record<string, string> } } }>(
      "/v1/orders",
      buy,
    );
    expect(bare.status).to.equal(422);
    expect(bare.body.error.details.reject).to.equal("PROTECTIVE_STOP_REQUIRED");
    expect(bare.body.error.details.messages["zh-CN"]).to.include("止损");
    const far = await apiH.post<{ error: { details: { reject: string } } }>("/v1/orders", {
      ...buy,
      type: "limit",
      protect: { type: "stop", ...(await signed(h, 1, "8.00", 5n)), trigger: { price: cny("9.00").toString() } },
    });
    expect([far.status, far.body.error.details.reject]).to.deep.equal([422, "PROTECTIVE_STOP_REQUIRED"]);
    const carried = await apiH.post<{ accepted: boolean; protective: ProtectiveView }>("/v1/orders", {
      ...(await signed(h, 0, "10.00", 5n)),
      type: "limit",
      protect: { type: "stop", ...(await signed(h, 1, "9.00", 5n)), trigger: { price: cny("9.40").toString() } },
    });
    expect(carried.status, JSON.stringify(carried.body)).to.equal(201);
    expect(carried.body.protective).to.include({ status: "armed", stopPrice: cny("9.40").toString() });
  });
});
