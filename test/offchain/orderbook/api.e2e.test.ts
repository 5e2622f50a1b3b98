import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JsonRpcSigner } from "ethers";
import WebSocket from "ws";
import { ApiClient, createApiKey, signedWsQuery, type NewApiKey } from "../../../offchain/api";
import { startService, type Service } from "../../../offchain/main";
import { encodeBytes32String } from "ethers";
import { orderbookChain } from "../../../offchain/chain/orderbookChain";
import { KycRegistry__factory, SettlementHub__factory } from "../../../typechain-types";
import {
  ChainRiskState,
  InMemoryRiskState,
  RejectCode,
  Side,
  TimeInForce,
  MarginState,
  PreTradeRisk,
  type SettlementTrade,
  type TradeSink,
} from "../../../offchain/orderbook";
import { orderToJson, settlementDomain, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import { DEV_KEYS, parseConfig } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { PLATFORM_RISK_LIMITS } from "../../../scripts/lib/riskLimits";
import { mine, startDevChain, type DevChain } from "../../helpers/devChain";

const CHAIN_PORT = 8771;
const API_PORT = 18771;
const CNY = 10n ** 6n;
const TICK = 10_000n; // 0.01 CNY per share
const EXPIRY = BigInt(Math.floor(Date.now() / 1000) + 3600);

/**
 * The order API end to end: a real hardhat node with the full deployment (SettlementHub domain), the service on
 * SQLite with the order books on the store journal, clients signing EIP-712 orders with the node's accounts.
 */
describe("orderbook API over a real node and SQLite (e2e)", function () {
  this.timeout(90_000);
  let dev: DevChain;
  let service: Service;
  let dir: string;
  const trades = new Map<string, SettlementTrade>();
  const sink: TradeSink = { enqueue: (t) => void trades.set(t.tradeId, t) };
  let [a, b, c]: JsonRpcSigner[] = [];
  let [keyA, keyB, keyC]: NewApiKey[] = [];
  let nonce = 1n;

  function risk(accounts: string[], marginCall: string): PreTradeRisk {
    const state = new InMemoryRiskState();
    state.setInstrument("mbBANK", {
      spec: {
        id: "mbBANK",
        base: dev.record.contracts.mbBANK,
        baseDecimals: 0,
        quote: dev.record.contracts.mbCNY,
        quoteDecimals: 6,
        tickSize: TICK,
        lotSize: 1n,
      },
      sector: "fin",
      initialMargin: 2n * 10n ** 17n,
      oraclePrice: 1_000, // 10.00 CNY
    });
    for (const acct of accounts) {
      state.setAccount(acct.toLowerCase(), {
        kycVerified: true,
        kycExpiresAt: Date.now() + 86_400_000,
        maxLeverage: 2n * 10n ** 18n,
        marginState: acct === marginCall ? MarginState.MarginCall : MarginState.Healthy,
        tier: "standard",
        chain: { cash: 1_000_000n * CNY, debt: 0n, positions: new Map([["mbBANK", 1_000n]]) },
        unsettled: { cash: 0n, positions: new Map() },
      });
    }
    return new PreTradeRisk(state, {
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
  }

  async function start(): Promise<Service> {
    const config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      chain: {
        rpcUrl: dev.chain.url,
        network: "localhost",
        deploymentsDir: dev.deploymentsDir,
        confirmations: 1,
        pollIntervalMs: 500,
      },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
    });
    const addrs = await Promise.all([a, b, c].map((s) => s.getAddress()));
    return startService(config, {
      deployment: dev.record,
      log: silentLogger,
      orderbook: { sink, risk: risk(addrs, addrs[2]), snapshotEvery: 4 },
    });
  }

  async function signed(
    signer: JsonRpcSigner,
    fields: Partial<SignedOrderFields> & { side: 0 | 1; price: bigint; qty: bigint },
    account?: string,
  ) {
    const order: SignedOrderFields = {
      account: account ?? (await signer.getAddress()),
      instrument: dev.record.contracts.mbBANK,
      side: fields.side,
      expiry: fields.expiry ?? EXPIRY,
      limitPrice: fields.price,
      quantity: fields.qty,
      nonce: fields.nonce ?? nonce++,
    };
    const sig = await signOrder(
      signer,
      settlementDomain(dev.record.chainId, dev.record.contracts.SettlementHub),
      order,
    );
    const body = { order: orderToJson(order), signature: sig };
    return { order, sig, body };
  }

  before(async function () {
    const started = performance.now();
    dir = mkdtempSync(path.join(tmpdir(), "mb-book-api-"));
    dev = await startDevChain(CHAIN_PORT);
    [a, b, c] = await Promise.all([10, 11, 12].map((i) => dev.chain.provider.getSigner(i)));
    service = await start();
    const secret = Buffer.from(DEV_KEYS.apiSecretKey, "hex");
    [keyA, keyB, keyC] = await Promise.all(
      [a, b, c].map(async (s, i) =>
        createApiKey(service.store, secret, { role: "client", subject: await s.getAddress(), label: `client ${i}` }),
      ),
    );
    console.log(`      setup (node, deployment, service): ${Math.round(performance.now() - started)} ms`);
  });

  after(async () => {
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("rests a signed limit order, and the WebSocket delivers depth and the account's own order events", async () => {
    const ws = new WebSocket(`${service.url.replace("http", "ws")}/v1/ws?${signedWsQuery(keyA.keyId, keyA.secret)}`);
    const got: Array<{ type: string; event?: string }> = [];
    ws.on("message", (d: Buffer) => got.push(JSON.parse(d.toString()) as { type: string }));
    await new Promise((r) => ws.once("open", r));
    ws.send(JSON.stringify({ type: "subscribe", channel: "depth", instrument: "mbBANK" }));
    ws.send(JSON.stringify({ type: "subscribe", channel: "orders" }));
    while (got.filter((m) => m.type === "subscribed").length < 2) await new Promise((r) => setTimeout(r, 20));

    const { body } = await signed(a, { side: 0, price: 990n * TICK, qty: 10n });
    const res = await new ApiClient(service.url, keyA).post<{
      orderId: number;
      restingQuantity: string;
      accepted: boolean;
    }>("/v1/orders", body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ accepted: true, restingQuantity: "10" });
    const book = await new ApiClient(service.url).get<{ bids: Array<{ price: string; quantity: string }> }>(
      "/v1/book/mbBANK",
    );
    expect(book.body.bids).to.deep.equal([{ price: "9.9", quantity: "10", orders: 1 }]);

    for (let i = 0; i < 100 && !got.some((m) => m.type === "order" && m.event === "rested"); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(got.map((m) => m.type)).to.include.members(["hello", "depthSnapshot", "depthUpdate", "order"]);
    expect(got.filter((m) => m.type === "order").map((m) => m.event)).to.include.members(["accepted", "rested"]);
    ws.close();
  });

  it("rejects a bad signature, another account's order, a fat-finger price and a margin-call account with 4xx codes", async () => {
    const forged = await signed(b, { side: 0, price: 990n * TICK, qty: 1n }, await a.getAddress());
    const r1 = await new ApiClient(service.url, keyA).post<{ error: { details: { reject: string } } }>(
      "/v1/orders",
      forged.body,
    );
    expect([r1.status, r1.body.error.details.reject]).to.deep.equal([403, "BAD_SIGNATURE"]);

    const others = await signed(b, { side: 0, price: 990n * TICK, qty: 1n });
    const r2 = await new ApiClient(service.url, keyA).post<{ error: { details: { reject: string } } }>(
      "/v1/orders",
      others.body,
    );
    expect([r2.status, r2.body.error.details.reject]).to.deep.equal([403, "WRONG_ACCOUNT"]);

    const fat = await signed(a, { side: 0, price: 2_000n * TICK, qty: 1n });
    const r3 = await new ApiClient(service.url, keyA).post<{ error: { details: { reject: string } } }>(
      "/v1/orders",
      fat.body,
    );
    expect([r3.status, r3.body.error.details.reject]).to.deep.equal([422, "PRICE_BAND"]);

    const call = await signed(c, { side: 0, price: 990n * TICK, qty: 1n });
    const r4 = await new ApiClient(service.url, keyC).post<{ error: { details: { reject: string } } }>(
      "/v1/orders",
      call.body,
    );
    expect([r4.status, r4.body.error.details.reject]).to.deep.equal([422, "MARGIN_STATE_BLOCKS_RISK"]);

    // a refusal by pre-trade risk journals nothing: the same signed order is checked again, not "replayed"
    const r4b = await new ApiClient(service.url, keyC).post<{ error: { details: { reject: string } } }>(
      "/v1/orders",
      call.body,
    );
    expect(r4b.body.error.details.reject).to.equal("MARGIN_STATE_BLOCKS_RISK");
    // ...but surveillance keeps every pre-trade refusal (price-band probing is read from them), before the answer
    const refusals = (await service.store.alerts.refusalsAfter(0, 100)).map((x) => [x.account, x.code]);
    expect(refusals).to.deep.include.members([
      [(await a.getAddress()).toLowerCase(), "PRICE_BAND"],
      [(await c.getAddress()).toLowerCase(), "MARGIN_STATE_BLOCKS_RISK"],
    ]);
    expect(refusals.filter(([, code]) => code === "MARGIN_STATE_BLOCKS_RISK")).to.have.length(2);

    // the same signed order twice enters the book once
    const once = await signed(a, { side: 0, price: 980n * TICK, qty: 1n });
    expect((await new ApiClient(service.url, keyA).post("/v1/orders", once.body)).status).to.equal(201);
    const r5 = await new ApiClient(service.url, keyA).post<{ error: { details: { reject: string } } }>(
      "/v1/orders",
      once.body,
    );
    expect([r5.status, r5.body.error.details.reject]).to.deep.equal([422, "ORDER_REPLAYED"]);
  });

  it("a crossing pair produces a trade handed to the sink with both signed orders", async () => {
    const ws = new WebSocket(`${service.url.replace("http", "ws")}/v1/ws?${signedWsQuery(keyB.keyId, keyB.secret)}`);
    const prints: Array<{ type: string; tradeId?: string; qty?: number }> = [];
    ws.on("message", (d: Buffer) => prints.push(JSON.parse(d.toString()) as { type: string }));
    await new Promise((r) => ws.once("open", r));
    ws.send(JSON.stringify({ type: "subscribe", channel: "trades", instrument: "mbBANK" }));
    while (!prints.some((m) => m.type === "subscribed")) await new Promise((r) => setTimeout(r, 20));
    const sell = await signed(b, { side: 1, price: 990n * TICK, qty: 4n });
    const res = await new ApiClient(service.url, keyB).post<{ filledQuantity: string; fills: unknown[] }>(
      "/v1/orders",
      sell.body,
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.filledQuantity).to.equal("4");
    const [trade] = [...trades.values()];
    expect(trade.quantity).to.equal(4n);
    expect(trade.price).to.equal(990n * TICK);
    expect(trade.instrument).to.equal(dev.record.contracts.mbBANK);
    expect(trade.sell.order).to.deep.equal(sell.order);
    expect(trade.sell.sig).to.deep.equal(sell.sig);
    expect(trade.buy.order.account).to.equal(await a.getAddress());
    expect(trade.buy.order.limitPrice).to.equal(990n * TICK);
    for (let i = 0; i < 100 && !prints.some((m) => m.type === "trade"); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(prints.filter((m) => m.type === "trade").map((m) => [m.tradeId, m.qty])).to.deep.equal([[trade.tradeId, 4]]);
    ws.close();

    const mine = await new ApiClient(service.url, keyA).get<{
      orders: Array<{ openQuantity: string }>;
      fills: Array<{ role: string }>;
    }>("/v1/orders");
    expect(mine.body.orders.map((o) => o.openQuantity)).to.deep.equal(["6", "1"]);
    expect(mine.body.fills.map((f) => f.role)).to.deep.equal(["maker"]);
  });

  it("cancels and modifies (with a new signed order) the caller's own orders only", async () => {
    const mine = await new ApiClient(service.url, keyA).get<{ orders: Array<{ id: number }> }>("/v1/orders");
    const [first, second] = mine.body.orders.map((o) => o.id);
    const notMine = await new ApiClient(service.url, keyB).request<{ error: { details: { reject: string } } }>(
      "DELETE",
      `/v1/orders/${second}`,
    );
    expect([notMine.status, notMine.body.error.details.reject]).to.deep.equal([422, "NOT_ORDER_OWNER"]);
    expect((await new ApiClient(service.url, keyA).request("DELETE", `/v1/orders/${second}`)).status).to.equal(200);
    // order `first` was 10, 4 filled: the new signed order says 8 in total → 4 open, at 9.85
    const next = await signed(a, { side: 0, price: 985n * TICK, qty: 8n });
    const mod = await new ApiClient(service.url, keyA).request<{ restingQuantity: string }>(
      "PATCH",
      `/v1/orders/${first}`,
      { body: next.body },
    );
    expect(mod.status, JSON.stringify(mod.body)).to.equal(200);
    expect(mod.body.restingQuantity).to.equal("4");
    const sell = await signed(b, { side: 1, price: 985n * TICK, qty: 1n });
    await new ApiClient(service.url, keyB).post("/v1/orders", sell.body);
    const last = [...trades.values()].at(-1)!;
    expect(last.buy.order).to.deep.equal(next.order);
  });

  it("a restart recovers the identical book (hash) from the store's snapshot and journal", async () => {
    const before = service.orderbook!.service("mbBANK").engine.hash();
    const seq = service.orderbook!.service("mbBANK").engine.seq;
    const tradeCount = trades.size;
    await service.stop();
    service = await start();
    const engine = service.orderbook!.service("mbBANK").engine;
    expect(engine.seq).to.equal(seq);
    expect(engine.hash()).to.equal(before);
    expect(trades.size).to.equal(tradeCount); // replayed trades were handed again under the same ids
    const again = await signed(a, { side: 0, price: 970n * TICK, qty: 1n });
    expect((await new ApiClient(service.url, keyA).post("/v1/orders", again.body)).status).to.equal(201);
  });

  it("ChainRiskState reads KYC, margin state, balances and oracle status from the node", async () => {
    const [addrA, addrC] = [await a.getAddress(), await c.getAddress()];
    const kyc = KycRegistry__factory.connect(dev.record.contracts.KycRegistry, dev.signers[1]);
    const expires = (await dev.chain.provider.getBlock("latest"))!.timestamp + 86_400;
    await (await kyc.setIdentity(addrA, 2, 156, expires, encodeBytes32String("book-a"))).wait();
    const spec = service.orderbook!.instruments()[0];
    const state = new ChainRiskState(orderbookChain(service.chain!), [
      { spec, sector: "fin", initialMargin: 2n * 10n ** 17n },
    ]);
    await state.ensure(addrA);
    await state.ensure(addrC);
    expect(state.account(addrA)).to.deep.include({
      kycVerified: true,
      kycExpiresAt: expires * 1000,
      marginState: MarginState.Healthy,
    });
    expect(state.account(addrC)?.kycVerified).to.equal(false);
    expect(state.account(addrA)?.chain.positions.get(spec.id)).to.equal(0n);
    // no oracle report on this node yet: the router's price is Unset, so the book sees no price
    expect((await state.refreshOracles()).get(spec.id)).to.equal(0);
    state.recordTrade("9-1", spec, addrA, addrC, 1_000, 3);
    expect(state.account(addrA)?.unsettled.positions.get(spec.id)).to.equal(3n);
    expect(state.account(addrC)?.unsettled.cash).to.equal(3n * 1_000n * TICK);
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
    const order = (account: string) =>
      ({
        kind: "limit",
        id: 1,
        account: account.toLowerCase(),
        side: Side.Buy,
        price: 1_000,
        qty: 1,
        tif: TimeInForce.GTC,
      }) as const;
    expect(risk.check(spec.id, order(addrC), Date.now())).to.equal(RejectCode.KycNotVerified);
    expect(risk.check(spec.id, order(addrA), Date.now())).to.equal(RejectCode.OracleUnavailable);
  });

  it("ChainRiskState: a burst of orders for one account shares one read of the node (and one of the instruments)", async () => {
    const real = orderbookChain(service.chain!);
    const calls = { account: 0, assets: 0 };
    // the real reader, counted: every call still goes to the node
    const counted = {
      ...real,
      readAccount: (account: string, securities: readonly string[]) => {
        calls.account++;
        return real.readAccount(account, securities);
      },
      readAssets: (assets: readonly string[], block: number) => {
        calls.assets++;
        return real.readAssets(assets, block);
      },
    };
    const spec = service.orderbook!.instruments()[0];
    const state = new ChainRiskState(counted, [{ spec, sector: "fin", initialMargin: 2n * 10n ** 17n }], {
      ttlMs: 60_000,
    });
    const [addrA, addrC] = [await a.getAddress(), await c.getAddress()];
    await Promise.all([...Array(25)].flatMap(() => [state.ensure(addrA), state.ensure(addrC)]));
    expect(calls.account, "one read per account").to.equal(2);
    expect(calls.assets, "the instruments once per block").to.equal(1);
    expect(state.account(addrA)?.kycVerified).to.equal(true);
    await Promise.all([state.ensure(addrA), state.ensure(addrC)]);
    expect(calls.account, "fresh reads are served from the cache").to.equal(2);
  });

  it("pre-trade risk reads the behaviour tier on every order: restricted, the account may sell but not buy; cleared, it buys again", async () => {
    const [addrA] = [await a.getAddress()];
    const spec = service.orderbook!.instruments()[0];
    let tier = "restricted";
    const state = new ChainRiskState(
      orderbookChain(service.chain!),
      [{ spec, sector: "fin", initialMargin: 2n * 10n ** 17n }],
      {
        tierOf: async () => tier,
      },
    );
    const risk = new PreTradeRisk(state, PLATFORM_RISK_LIMITS);
    const order = (side: Side) =>
      ({
        kind: "limit",
        id: 1,
        account: addrA.toLowerCase(),
        side,
        price: 1_000,
        qty: 1,
        tif: TimeInForce.GTC,
      }) as const;
    await state.ensure(addrA);
    expect(risk.check(spec.id, order(Side.Buy), Date.now())).to.equal(RejectCode.BehaviourRestricted);
    expect(risk.check(spec.id, order(Side.Sell), Date.now())).to.not.equal(RejectCode.BehaviourRestricted);
    tier = "standard"; // the officer cleared it: the next order's ensure reads it
    await state.ensure(addrA);
    expect(risk.check(spec.id, order(Side.Buy), Date.now())).to.not.equal(RejectCode.BehaviourRestricted);
  });

  it("tracks the hub's nonces from the chain: an order cancelled on-chain leaves the book, a retired nonce is refused", async () => {
    const hub = SettlementHub__factory.connect(dev.record.contracts.SettlementHub, a);
    const resting = await signed(a, { side: 0, price: 960n * TICK, qty: 2n });
    const placed = await new ApiClient(service.url, keyA).post<{ orderId: number }>("/v1/orders", resting.body);
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    // the client cancels it at the hub itself (the hub would refuse any fill of it from now on)
    await (await hub.cancelOrder(resting.order)).wait();
    await mine(dev.chain);
    const openIds = async () =>
      (await new ApiClient(service.url, keyA).get<{ orders: Array<{ id: number }> }>("/v1/orders")).body.orders.map(
        (o) => o.id,
      );
    const deadline = Date.now() + 15_000;
    while ((await openIds()).includes(placed.body.orderId)) {
      if (Date.now() > deadline) throw new Error("the order on a nonce spent on-chain stayed in the book");
      await new Promise((r) => setTimeout(r, 200));
    }
    const again = await new ApiClient(service.url, keyA).request<{ error: { details: { reject: string } } }>(
      "POST",
      "/v1/orders",
      { body: (await signed(a, { side: 0, price: 961n * TICK, qty: 1n, nonce: resting.order.nonce })).body },
    );
    expect([again.status, again.body.error.details.reject]).to.deep.equal([422, "NONCE_USED"]);

    // raiseMinNonce retires every nonce below it
    const min = nonce + 100n;
    await (await hub.raiseMinNonce(min)).wait();
    await mine(dev.chain);
    let refused: { status: number; body: { error?: { details: { reject: string } } } } | undefined;
    for (let i = 0; i < 75; i++) {
      refused = await new ApiClient(service.url, keyA).request("POST", "/v1/orders", {
        body: (await signed(a, { side: 0, price: 962n * TICK, qty: 1n, nonce: min - 1n - BigInt(i) })).body,
      });
      if (refused.status === 422) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect([refused!.status, refused!.body.error?.details.reject]).to.deep.equal([422, "NONCE_BELOW_MIN"]);
    nonce = min;
  });
});
