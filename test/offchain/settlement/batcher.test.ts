import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { id, type JsonRpcSigner } from "ethers";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { createChainGateway, type ChainGateway, type Indexer } from "../../../offchain/chain";
import { settlementHubHandler } from "../../../offchain/chain/handlers/settlementHub";
import { settlementChain, type SettlementChain } from "../../../offchain/chain/settlementHubWriter";
import { AppError } from "../../../offchain/shared/errors";
import { DEV_KEYS, parseConfig } from "../../../offchain/shared/config";
import { createLogger } from "../../../offchain/shared/logger";
import { startService } from "../../../offchain/main";
import { openStore, type Store } from "../../../offchain/store";
import {
  SettlementBatcher,
  enqueueTrade,
  netFills,
  orderId,
  settlementDomain,
  signOrder,
  type SignedOrderFields,
} from "../../../offchain/settlement";
import {
  CollateralToken__factory,
  KycRegistry__factory,
  MarginEngine__factory,
  OracleRouter__factory,
  SettlementHub__factory,
  type SettlementHub,
} from "../../../typechain-types";
import { hardhatDevWallets, PriceReporterService, DEV_REPORTER_INDICES } from "../../../offchain/oracle";
import type { PriceQuote, PriceSource } from "../../../offchain/oracle";
import { feedKey } from "../../../scripts/deploy/index";
import { CutProxy } from "../../helpers/cutProxy";

const NODE_PORT = 8711;
const PROXY_PORT = 8712;
const HTTP_PORT = 18712;
const CNY = 10n ** 6n;
const OPERATOR_INDEX = 4;

/** Fixed quotes (8 decimals) for the three dev reporters. */
class FixedSource implements PriceSource {
  readonly name = "fixed";
  async read(symbols: string[], now: number): Promise<PriceQuote[]> {
    const px: Record<string, bigint> = { mbBANK: 10n, mbTECH: 25n, mbSMALL: 50n };
    return symbols.map((symbol) => ({ symbol, price: px[symbol] * 10n ** 8n, observedAt: now }));
  }
}

describe("settlement batcher over a real hardhat node with an RPC outage", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let proxy: CutProxy;
  let store: Store;
  let dir: string;
  let gateway: ChainGateway;
  let chain: SettlementChain;
  let indexer: Indexer;
  let hub: SettlementHub;
  let bank: string;
  let seller: JsonRpcSigner;
  let buyers: JsonRpcSigner[];
  const log = createLogger({ level: "silent" });
  const orders = new Map<string, SignedOrderFields>();
  const sigs = new Map<string, { r: string; vs: string }>();
  const fills: { tradeId: string; buy: string; sell: string; quantity: bigint; price: bigint }[] = [];
  const viaService = new Set<string>();
  let tradeNo = 0;
  let expiry = 0n;

  async function order(
    signer: JsonRpcSigner,
    side: 0 | 1,
    limit: bigint,
    quantity: bigint,
    nonce: bigint,
  ): Promise<string> {
    const o: SignedOrderFields = {
      account: await signer.getAddress(),
      instrument: bank,
      side,
      expiry,
      limitPrice: limit * CNY,
      quantity,
      nonce,
    };
    const hash = orderId(o);
    orders.set(hash, o);
    const domain = settlementDomain(dev.record.chainId, await hub.getAddress());
    sigs.set(hash, await signOrder(signer, domain, o));
    return hash;
  }

  async function fill(buy: string, sell: string, quantity: bigint, price: bigint): Promise<string> {
    const tradeId = `t-${++tradeNo}`;
    const added = await enqueueTrade(store, {
      tradeId,
      instrument: bank,
      buy: orders.get(buy)!,
      sell: orders.get(sell)!,
      buySig: sigs.get(buy)!,
      sellSig: sigs.get(sell)!,
      buyOrderHash: buy,
      sellOrderHash: sell,
      quantity,
      price,
    });
    expect(added).to.equal(true);
    fills.push({ tradeId, buy, sell, quantity, price });
    return tradeId;
  }

  function batcher(blockGasBudget = 30_000_000n): SettlementBatcher {
    return new SettlementBatcher({ store, chain, log, maxFills: 100, blockGasBudget });
  }

  async function catchUp(): Promise<void> {
    for (;;) {
      const r = await indexer.step();
      if (r.toBlock < r.fromBlock) return;
    }
  }

  before(async function () {
    dev = await startDevChain(NODE_PORT);
    proxy = new CutProxy(PROXY_PORT, dev.chain.url);
    await proxy.up();
    dir = mkdtempSync(path.join(tmpdir(), "mb-settle-"));
    store = await openStore({ engine: "sqlite", path: path.join(dir, "s.sqlite") });
    const config = parseConfig({
      env: "test",
      chain: { rpcUrl: proxy.url, confirmations: 0, rpcRetries: 2, rpcRetryBaseMs: 20, pollIntervalMs: 50 },
    });
    gateway = createChainGateway(config.chain, dev.record, log);
    chain = settlementChain(gateway, hardhatDevWallets([OPERATOR_INDEX])[0].privateKey, log);
    indexer = gateway.createIndexer(store, [settlementHubHandler(dev.record.contracts.SettlementHub)], "settle");

    const c = dev.record.contracts;
    const p = dev.chain.provider;
    hub = SettlementHub__factory.connect(c.SettlementHub, p);
    bank = dev.record.tokens.find((t) => t.symbol === "mbBANK")!.address;
    const cashAddress = dev.record.tokens.find((t) => t.symbol === "mbCNY")!.address;
    seller = await p.getSigner(12);
    buyers = [await p.getSigner(10), await p.getSigner(11), await p.getSigner(13)];
    const kyc = KycRegistry__factory.connect(c.KycRegistry, dev.signers[1]);
    const now = (await p.getBlock("latest"))!.timestamp;
    expiry = BigInt(now + 86_400);
    const engine = MarginEngine__factory.connect(c.MarginEngine, p);
    const fund = async (who: JsonRpcSigner, token: string, amount: bigint): Promise<void> => {
      const t = CollateralToken__factory.connect(token, dev.signers[2]);
      await (await t.mint(who.address, amount, id(`fund-${who.address}-${token}`))).wait();
      await (await t.connect(who).approve(c.MarginEngine, amount)).wait();
      await (await engine.connect(who).deposit(token, amount)).wait();
    };
    for (const who of [seller, ...buyers]) {
      await (await kyc.setIdentity(who.address, 2, 156, now + 365 * 86_400, id(who.address))).wait();
    }
    await fund(seller, bank, 10_000n);
    for (const b of buyers) await fund(b, cashAddress, 100_000n * CNY);

    // Prices through the real MedianPriceFeed path: three dev reporters sign, a relayer sends, the router absorbs.
    const reporters = hardhatDevWallets(DEV_REPORTER_INDICES);
    const svc = new PriceReporterService({
      feeds: ["mbBANK", "mbTECH", "mbSMALL"].map((symbol) => ({ symbol, address: c[feedKey(symbol)] })),
      reporters: reporters.map((r) => ({ signer: r.connect(p), source: new FixedSource() })),
      relayer: await p.getSigner(9),
      chainId: BigInt(dev.record.chainId),
      policy: { heartbeatSeconds: 600, deviationBps: 50 },
      intervalMs: 50,
      backoff: { baseMs: 100, maxMs: 1_000 },
      clock: () => now,
    });
    const tick = await svc.tick();
    expect(tick.failures).to.deep.equal([]);
    const router = OracleRouter__factory.connect(c.OracleRouter, await p.getSigner(9));
    for (const t of dev.record.tokens.filter((t) => t.kind === "security")) await (await router.poke(t.address)).wait();
  });

  after(async function () {
    gateway?.close();
    await store?.close();
    await proxy?.down();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("nets fills of the same (buy order, sell order, price) and nothing else", async function () {
    const sell = await order(seller, 1, 9n, 1_000n, 1n);
    const a = await order(buyers[0], 0, 11n, 200n, 1n);
    const b = await order(buyers[1], 0, 11n, 200n, 1n);
    await fill(a, sell, 30n, 10n * CNY);
    await fill(b, sell, 50n, 10n * CNY);
    await fill(a, sell, 20n, 10n * CNY); // same pair and price as the first: netted
    await fill(a, sell, 10n, 10n * CNY + 500_000n); // same pair, another price: not netted
    await fill(b, sell, 40n, 10n * CNY); // netted with the second
    const netted = netFills(await store.settlement.pending(100));
    expect(netted.map((t) => [t.fills, t.quantity])).to.deep.equal([
      [["t-1", "t-3"], 50n],
      [["t-2", "t-5"], 90n],
      [["t-4"], 10n],
    ]);
  });

  it("a send mined but answered by a cut connection is not sent again and settles once, from indexed events", async function () {
    proxy.mode = "lose-sends";
    proxy.afterSend = "down";
    const err = await batcher()
      .runOnce()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).code).to.equal("CHAIN_UNAVAILABLE");
    expect(proxy.sendsCut).to.equal(1);
    const [batch] = await store.settlement.batchesByStatus("submitted");
    expect(batch.fills).to.equal(5);
    expect(batch.tradeCount).to.equal(3);
    expect((await hub.batch(batch.batchId)).settledAt).to.not.equal(0n); // it did land
    expect((await store.settlement.counts()).submitted).to.equal(5); // but nothing is marked settled yet

    proxy.afterSend = "up";
    await proxy.up();
    const run = await batcher().runOnce();
    expect(run.alreadySettled).to.deep.equal([batch.batchId]);
    expect(run.sent).to.deep.equal([]);
    expect((await store.settlement.counts()).settled).to.equal(0);
    await catchUp();
    expect(await store.settlement.counts()).to.deep.equal({ pending: 0, submitted: 0, settled: 5, rejected: 0 });
    expect((await store.settlement.batch(batch.batchId))!.status).to.equal("settled");
  });

  it("a send cut before the node re-sends the same batch id after the outage; a duplicate send is refused", async function () {
    const sell = await order(seller, 1, 9n, 1_000n, 2n);
    const c = await order(buyers[2], 0, 12n, 500n, 1n);
    const a2 = await order(buyers[0], 0, 12n, 500n, 2n);
    for (let i = 0; i < 6; i++) await fill(i % 2 ? c : a2, sell, 10n + BigInt(i), 10n * CNY + BigInt(i) * 100_000n);
    proxy.mode = "drop-sends";
    proxy.afterSend = "down";
    const budget = 450_000n; // forces more than one batch for six distinct trades
    const err = await batcher(budget)
      .runOnce()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((err as AppError).code).to.equal("CHAIN_UNAVAILABLE");
    const [cut] = await store.settlement.batchesByStatus("submitted");
    expect((await hub.batch(cut.batchId)).settledAt).to.equal(0n); // it never reached the node

    proxy.afterSend = "up";
    await proxy.up();
    const run = await batcher(budget).runOnce();
    expect(run.sent[0]).to.equal(cut.batchId); // the same id, re-sent first
    expect(run.sent.length).to.be.greaterThan(1);
    await catchUp();
    const settledBatches = await store.settlement.batchesByStatus("settled");
    for (const b of settledBatches.filter((b) => run.sent.includes(b.batchId))) {
      expect(b.gasEstimate <= budget).to.equal(true);
    }
    expect(await store.settlement.counts()).to.deep.equal({ pending: 0, submitted: 0, settled: 11, rejected: 0 });

    // A crashed instance re-sending a settled batch: the hub refuses the id, the batcher counts it as done.
    const trades = (await store.settlement.tradesOfBatch(cut.batchId)).map((t) => ({
      buy: t.buy,
      sell: t.sell,
      buySig: t.buySig,
      sellSig: t.sellSig,
      quantity: t.quantity,
      price: t.price,
    }));
    const dup = await chain.settle(cut.batchId, trades).then(
      () => undefined,
      (e: unknown) => e as AppError,
    );
    expect(dup?.message).to.equal(`HubBatchAlreadySettled(${cut.batchId})`);
  });

  it("sets aside fills the hub's simulation refuses (a cancelled order) and settles the rest", async function () {
    const sell = await order(seller, 1, 9n, 1_000n, 3n);
    const live = await order(buyers[0], 0, 11n, 100n, 3n);
    const cancelled = await order(buyers[1], 0, 11n, 100n, 3n);
    await (await hub.connect(buyers[1]).cancelOrder(orders.get(cancelled)!)).wait();
    const bad = await fill(cancelled, sell, 5n, 10n * CNY);
    await fill(live, sell, 7n, 10n * CNY);
    const run = await batcher().runOnce();
    expect(run.rejected).to.deep.equal([bad]);
    expect(run.sent).to.have.length(1);
    await catchUp();
    const t = (await store.settlement.trade(bad))!;
    expect(t.status).to.equal("rejected");
    expect(t.rejectReason).to.match(/^HubOrderNotLive\(0, 0x[0-9a-f]{64}\)$/);
    expect(await store.settlement.counts()).to.deep.equal({ pending: 0, submitted: 0, settled: 12, rejected: 1 });
  });

  it("runs as the service's leased job: a fill enqueued in the service's store settles without further calls", async function () {
    const svcDir = mkdtempSync(path.join(tmpdir(), "mb-settle-svc-"));
    const service = await startService(
      parseConfig({
        env: "test",
        store: { engine: "sqlite", path: path.join(svcDir, "svc.sqlite") },
        chain: { rpcUrl: dev.chain.url, confirmations: 0, pollIntervalMs: 100 },
        api: { port: HTTP_PORT, secretKey: DEV_KEYS.apiSecretKey },
        settlement: { operatorKey: hardhatDevWallets([OPERATOR_INDEX])[0].privateKey, intervalMs: 200 },
      }),
      { deployment: dev.record, log },
    );
    try {
      const sell = await order(seller, 1, 9n, 100n, 4n);
      const buy = await order(buyers[2], 0, 11n, 100n, 4n);
      const tradeId = `t-${++tradeNo}`;
      await enqueueTrade(service.store, {
        tradeId,
        instrument: bank,
        buy: orders.get(buy)!,
        sell: orders.get(sell)!,
        buySig: sigs.get(buy)!,
        sellSig: sigs.get(sell)!,
        buyOrderHash: buy,
        sellOrderHash: sell,
        quantity: 9n,
        price: 10n * CNY,
      });
      fills.push({ tradeId, buy, sell, quantity: 9n, price: 10n * CNY });
      viaService.add(tradeId); // in the service's store, not the batcher's: counted on-chain below
      const deadline = Date.now() + 30_000;
      while ((await service.store.settlement.trade(tradeId))!.status !== "settled" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await service.store.settlement.trade(tradeId))!.status).to.equal("settled");
    } finally {
      await service.stop();
      rmSync(svcDir, { recursive: true, force: true });
    }
  });

  it("every queued trade settled exactly once on-chain", async function () {
    const events = await hub.queryFilter(hub.filters.TradeSettled(), dev.record.deployBlock);
    const batches = await hub.queryFilter(hub.filters.BatchSettled(), dev.record.deployBlock);
    expect(new Set(batches.map((e) => e.args.batchId)).size).to.equal(batches.length);
    const rejected = new Set((await store.settlement.tradesByStatus("rejected")).map((t) => t.tradeId));
    const settled = fills.filter((f) => !rejected.has(f.tradeId));
    const expected = new Map<string, bigint>();
    const seen = new Map<string, bigint>();
    for (const f of settled) expected.set(f.buy, (expected.get(f.buy) ?? 0n) + f.quantity);
    for (const f of settled) expected.set(f.sell, (expected.get(f.sell) ?? 0n) + f.quantity);
    for (const e of events) {
      seen.set(e.args.buyOrder, (seen.get(e.args.buyOrder) ?? 0n) + e.args.quantity);
      seen.set(e.args.sellOrder, (seen.get(e.args.sellOrder) ?? 0n) + e.args.quantity);
    }
    expect(seen).to.deep.equal(expected);
    for (const [hash, qty] of expected) {
      const [filled] = await hub.orderStatus(orders.get(hash)!);
      expect(filled).to.equal(qty);
    }
    for (const f of settled.filter((f) => !viaService.has(f.tradeId))) {
      const t = (await store.settlement.trade(f.tradeId))!;
      expect(t.status).to.equal("settled");
      expect(t.settledTx).to.match(/^0x[0-9a-f]{64}$/);
    }
  });
});
