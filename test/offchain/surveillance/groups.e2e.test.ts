import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeBytes32String, type JsonRpcSigner } from "ethers";
import { ApiClient, createApiKey } from "../../../offchain/api";
import { startService, type Service } from "../../../offchain/main";
import {
  InMemoryRiskState,
  MarginState,
  PreTradeRisk,
  type SettlementTrade,
  type TradeSink,
} from "../../../offchain/orderbook";
import { orderToJson, settlementDomain, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import { DEV_KEYS, parseConfig } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { PLATFORM_RISK_LIMITS } from "../../../scripts/lib/riskLimits";
import { KycRegistry__factory } from "../../../typechain-types";
import { startDevChain, type DevChain } from "../../helpers/devChain";

const CHAIN_PORT = 8950;
const API_PORT = 18952;
const CNY = 10n ** 6n;
const TICK = 10_000n; // 0.01 CNY per share
const EXPIRY = BigInt(Math.floor(Date.now() / 1000) + 3600);

type Refusal = { error: { details: { reject: string; messages?: { en: string; "zh-CN": string } } } };
type Placed = { accepted: boolean; filledQuantity: string; cancelledQuantity: string; cancelReason: string | null };

/**
 * Linked accounts through the real gateway and matcher: a hardhat node with the full deployment, the service on
 * SQLite with its chain indexer, the order books on the store journal. The attacker holds two accounts: one person's
 * identity hash registered on KycRegistry for both (the indexer links them), and a third declared to the attacker by
 * a risk officer (the audited owner API). An accomplice with an account of its own is not linked and is not refused.
 */
describe("surveillance: linked accounts through the real gateway (e2e)", function () {
  this.timeout(120_000);
  let dev: DevChain;
  let service: Service;
  let dir: string;
  const trades = new Map<string, SettlementTrade>();
  const sink: TradeSink = { enqueue: (t) => void trades.set(t.tradeId, t) };
  let signers: Record<"a" | "b" | "c" | "e", JsonRpcSigner>;
  let addr: Record<"a" | "b" | "c" | "e", string>;
  let clients: Record<"a" | "b" | "c" | "e" | "officer", ApiClient>;
  let nonce = 1n;

  /** Every account: 1,000,000 CNY, 1,000 shares, no debt; one account may hold 60,000 CNY, a group 100,000. */
  function risk(accounts: string[]): PreTradeRisk {
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
      oraclePrice: 1_000,
    });
    for (const acct of accounts)
      state.setAccount(acct.toLowerCase(), {
        kycVerified: true,
        kycExpiresAt: Date.now() + 86_400_000,
        maxLeverage: 2n * 10n ** 18n,
        marginState: MarginState.Healthy,
        tier: "standard",
        chain: { cash: 1_000_000n * CNY, debt: 0n, positions: new Map([["mbBANK", 1_000n]]) },
        unsettled: { cash: 0n, positions: new Map() },
      });
    return new PreTradeRisk(state, {
      priceBandBps: 1_000,
      maxInstrumentExposure: 10n ** 15n,
      maxSectorExposure: 10n ** 15n,
      maxAccountExposure: 60_000n * CNY,
      group: { maxExposure: 100_000n * CNY, maxNotionalPerDay: 10n ** 15n },
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

  async function start(selfTrade: "refuse" | "flag", reconcileMs?: number): Promise<Service> {
    const config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      chain: {
        rpcUrl: dev.chain.url,
        network: "localhost",
        deploymentsDir: dev.deploymentsDir,
        confirmations: 1,
        pollIntervalMs: 200,
        // the service holds the KYC officer key: a review may lower the KYC tier on KycRegistry
        kycOfficerKey: DEV_KEYS.kycOfficerKey,
      },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
      linkedAccounts: { selfTrade, groupCacheMs: 0 },
      ...(reconcileMs
        ? { kyc: { dataKey: DEV_KEYS.kycDataKey, reconcileIntervalMs: reconcileMs, claimTtlMs: reconcileMs } }
        : {}),
    });
    return startService(config, {
      deployment: dev.record,
      log: silentLogger,
      // `limits` names the behaviour tiers a review may set (pre-trade risk itself is `risk`, over in-memory state)
      orderbook: { sink, risk: risk(Object.values(addr)), limits: PLATFORM_RISK_LIMITS, snapshotEvery: 50 },
    });
  }

  async function clientsOf(s: Service): Promise<typeof clients> {
    const secret = Buffer.from(DEV_KEYS.apiSecretKey, "hex");
    const key = (role: "client" | "risk_officer", subject: string) =>
      createApiKey(s.store, secret, { role, subject, label: `${role} ${subject}` }).then(
        (k) => new ApiClient(s.url, k),
      );
    return {
      a: await key("client", addr.a),
      b: await key("client", addr.b),
      c: await key("client", addr.c),
      e: await key("client", addr.e),
      officer: await key("risk_officer", "officer-1"),
    };
  }

  async function order(who: "a" | "b" | "c" | "e", side: 0 | 1, ticks: bigint, qty: bigint) {
    const o: SignedOrderFields = {
      account: addr[who],
      instrument: dev.record.contracts.mbBANK,
      side,
      expiry: EXPIRY,
      limitPrice: ticks * TICK,
      quantity: qty,
      nonce: nonce++,
    };
    const sig = await signOrder(
      signers[who],
      settlementDomain(dev.record.chainId, dev.record.contracts.SettlementHub),
      o,
    );
    return clients[who].post<Placed & Refusal>("/v1/orders", { order: orderToJson(o), signature: sig });
  }

  async function waitFor(what: string, ok: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 150; i++) {
      if (await ok()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "mb-groups-"));
    dev = await startDevChain(CHAIN_PORT);
    const [a, b, c, e] = await Promise.all([13, 14, 15, 16].map((i) => dev.chain.provider.getSigner(i)));
    signers = { a, b, c, e };
    addr = {
      a: (await a.getAddress()).toLowerCase(),
      b: (await b.getAddress()).toLowerCase(),
      c: (await c.getAddress()).toLowerCase(),
      e: (await e.getAddress()).toLowerCase(),
    };
    // one person, two addresses: the same identity hash on KycRegistry (the accomplice has its own)
    const kyc = KycRegistry__factory.connect(dev.record.contracts.KycRegistry, dev.signers[1]);
    const expires = (await dev.chain.provider.getBlock("latest"))!.timestamp + 86_400;
    for (const [who, hash] of [
      ["a", "person-1"],
      ["b", "person-1"],
      ["c", "accomplice"],
      ["e", "person-2"],
    ] as const)
      await (await kyc.setIdentity(addr[who], 2, 156, expires, encodeBytes32String(hash))).wait();
    service = await start("refuse");
    clients = await clientsOf(service);
    await waitFor("the indexer to link a and b", async () =>
      (await service.store.groups.connected(addr.a)).includes(addr.b),
    );
  });

  after(async () => {
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("links the two addresses of one identity hash, and not the accomplice", async () => {
    const groups = await clients.officer.get<{
      groups: { id: string; members: string[]; links: { key: string }[] }[];
    }>("/v1/surveillance/groups");
    expect(groups.status).to.equal(200);
    const g = groups.body.groups.find((x) => x.members.includes(addr.a))!;
    expect(g.members).to.deep.equal([addr.a, addr.b].sort());
    expect(g.links[0].key).to.match(/^id:0x/);
    expect(groups.body.groups.some((x) => x.members.includes(addr.c))).to.equal(false);
  });

  it("attack (b): the two accounts trading with each other are prevented by the matcher; (c) the accomplice trades", async () => {
    const rest = await order("b", 1, 1_000n, 10n);
    expect(rest.status).to.equal(201);
    const before = trades.size;
    const self = await order("a", 0, 1_000n, 10n);
    expect(self.status).to.equal(201);
    expect(self.body).to.include({ filledQuantity: "0", cancelledQuantity: "10", cancelReason: "STP_CANCEL_NEWEST" });
    expect(trades.size).to.equal(before);
    // the accomplice takes the same offer: a trade, not a refusal
    const other = await order("c", 0, 1_000n, 10n);
    expect(other.body).to.include({ filledQuantity: "10" });
    expect(trades.size).to.equal(before + 1);
  });

  it("attack (a): splitting an exposure over the two accounts meets the group limit; (c) the accomplice is not refused", async () => {
    // each holds 1,000 shares (10,000 CNY at the oracle's 10.00); 5,000 more on one account: 60,000, its own cap
    expect((await order("a", 0, 990n, 5_000n)).status).to.equal(201);
    // the second account alone stays under its cap (50,000), but the group would hold 110,000 > 100,000
    const split = await order("b", 0, 990n, 4_000n);
    expect(split.status).to.equal(422);
    expect(split.body.error.details.reject).to.equal("GROUP_EXPOSURE_LIMIT");
    expect(split.body.error.details.messages?.["zh-CN"]).to.contain("关联");
    expect(split.body.error.details.messages?.en).to.contain("linked");
    // what fits in the group's remaining 30,000 is accepted
    expect((await order("b", 0, 990n, 3_000n)).status).to.equal(201);
    // the accomplice is not linked: the same order is its own business (no false positive)
    const accomplice = await order("c", 0, 990n, 4_000n);
    expect(accomplice.status, JSON.stringify(accomplice.body)).to.equal(201);
    const usage = await clients.officer.get<{ usage: { exposure: string; maxExposure: string } }>(
      `/v1/surveillance/groups/${addr.b}`,
    );
    expect(usage.body.usage).to.include({
      exposure: (100_000n * CNY).toString(),
      maxExposure: (100_000n * CNY).toString(),
    });
  });

  it("a beneficial owner declared by a risk officer (audited, compare-and-swap) links a third account at once", async () => {
    const put = (account: string, body: object) =>
      clients.officer.request<{ version: number }>("PUT", `/v1/surveillance/accounts/${account}/beneficial-owner`, {
        body,
      });
    expect((await put(addr.e, { owner: "client 7", note: "x" })).status).to.equal(400);
    expect(
      (
        await clients.a.request("PUT", `/v1/surveillance/accounts/${addr.a}/beneficial-owner`, {
          body: { owner: "nobody", note: "a client may not" },
        })
      ).status,
    ).to.equal(403);
    expect((await put(addr.a, { owner: "client 7", note: "same person as e", expectedVersion: 0 })).status).to.equal(
      200,
    );
    expect((await put(addr.a, { owner: "client 8", note: "stale version", expectedVersion: 0 })).status).to.equal(409);
    // e bids before it is linked (above the group's bids at 9.90); once linked, a's sale into it is prevented
    expect((await order("e", 0, 1_000n, 5n)).status).to.equal(201);
    expect(
      (await put(addr.e, { owner: "client 7", note: "declared by the client's relationship manager" })).status,
    ).to.equal(200);
    const self = await order("a", 1, 1_000n, 5n);
    expect(self.body).to.include({ filledQuantity: "0", cancelReason: "STP_CANCEL_NEWEST" });
    const g = await clients.officer.get<{ members: string[]; owners: { account: string; owner: string }[] }>(
      `/v1/surveillance/groups/${addr.e}`,
    );
    expect(g.body.members).to.deep.equal([addr.a, addr.b, addr.e].sort());
    expect(g.body.owners.map((o) => o.owner)).to.deep.equal(["client 7", "client 7"]);
    const audit = (await service.store.audit.list(1, 1_000)).filter((x) => x.action === "surveillance.owner.set");
    // every write that reached the handler, with its answer (the refused version too)
    expect(audit.map((x) => x.details.status)).to.have.members([200, 409, 200]);
  });

  it("with self-trade set to flag, the group's trade goes through and the taker is put in the review queue", async () => {
    await service.stop();
    service = await start("flag");
    clients = await clientsOf(service);
    const before = trades.size;
    // e's bid at 10.00 still rests (the refused sale was the newest order); a sells into it
    const taken = await order("a", 1, 1_000n, 3n);
    expect(taken.body).to.include({ filledQuantity: "3" });
    expect(trades.size).to.equal(before + 1);
    let reviews: { account: string; reason: string; evidence: { maker: string } }[] = [];
    await waitFor("the review", async () => {
      reviews = (await clients.officer.get<{ reviews: typeof reviews }>("/v1/surveillance/reviews?status=open")).body
        .reviews;
      return reviews.some((r) => r.reason === "group_self_trade");
    });
    expect(reviews.find((r) => r.reason === "group_self_trade")).to.deep.include({ account: addr.a });
    expect(reviews.find((r) => r.reason === "group_self_trade")!.evidence.maker).to.equal(addr.e);
  });

  it("lower-tier with a KYC tier: KycRegistry.setIdentity at the lower tier with the officer's key, claim released", async () => {
    type Decided = { status: string; kycTier: number | null; kycTx: string | null; version: number };
    const queue = await clients.officer.get<{ reviews: { id: number; account: string; version: number }[] }>(
      `/v1/surveillance/reviews?status=open&account=${addr.a}`,
    );
    const review = queue.body.reviews[0];
    const path = `/v1/surveillance/reviews/${review.id}/decide`;
    const kyc = KycRegistry__factory.connect(dev.record.contracts.KycRegistry, dev.chain.provider);
    // not below the account's KYC tier (2): refused, nothing decided
    const same = await clients.officer.post<Refusal & { error: { details: { field: string } } }>(path, {
      action: "lower-tier",
      tier: "flagged",
      kycTier: 2,
      note: "same tier",
      expectedVersion: review.version,
    });
    expect([same.status, same.body.error.details.field]).to.deep.equal([400, "kycTier"]);
    expect((await service.store.groups.review(review.id))!.status).to.equal("open");
    const before = await kyc.maxLeverageOf(addr.a);
    const lowered = await clients.officer.post<Decided>(path, {
      action: "lower-tier",
      tier: "flagged",
      kycTier: 1,
      note: "traded with its own second account",
      expectedVersion: review.version,
    });
    expect(lowered.status, JSON.stringify(lowered.body)).to.equal(200);
    expect(lowered.body).to.include({ status: "lowered", kycTier: 1 });
    expect(lowered.body.kycTx).to.match(/^0x[0-9a-f]{64}$/);
    expect(Number((await kyc.identityOf(addr.a)).tier)).to.equal(1);
    const after = await kyc.maxLeverageOf(addr.a);
    expect(after).to.equal(await kyc.tierLeverage(1));
    expect(after < before).to.equal(true);
    expect(await service.store.kyc.claimOf(addr.a)).to.equal(undefined);
    expect(await service.store.surveillance.tier(addr.a)).to.include({
      tier: "flagged",
      reasonCode: "LINKED_ACCOUNTS",
    });
  });

  it("KYC reconciliation lets a stale lower-tier claim go, and does not take it for a revocation", async () => {
    await service.stop();
    service = await start("refuse", 1_000);
    const now = Date.now();
    expect(
      await service.store.kyc.claimAccount({
        account: addr.e,
        owner: "review-lost",
        op: "lower-tier",
        applicationId: null,
        fromStatus: null,
        detail: { reviewId: 0, tier: 1, actor: "risk_officer:test" },
        until: now - 1,
        createdAt: now - 5_000,
      }),
    ).to.equal(true);
    await waitFor("the claim to be let go", async () => (await service.store.kyc.claimOf(addr.e)) === undefined);
    const kyc = KycRegistry__factory.connect(dev.record.contracts.KycRegistry, dev.chain.provider);
    expect(await kyc.isVerified(addr.e)).to.equal(true);
  });
});
