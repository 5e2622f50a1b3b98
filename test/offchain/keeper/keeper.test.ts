import { expect } from "chai";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, JsonRpcSigner, Wallet, type Signer } from "ethers";
import { MarginEngine__factory, type CollateralToken, type MarginEngine } from "../../../typechain-types";
import { ApiClient } from "../../../offchain/api";
import { Indexer, rawSigner } from "../../../offchain/chain";
import { marginEngineHandler } from "../../../offchain/chain/handlers/marginEngine";
import { Keeper, DEFAULT_KEEPER_SETTINGS, State, type KeeperSettings } from "../../../offchain/keeper";
import { startService, type Service } from "../../../offchain/main";
import { DEV_KEYS, parseConfig } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { openStore, type Store } from "../../../offchain/store";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { CNY, DEV_KEEPER_ADDRESS, prepareKeeperChain, type KeeperChain } from "../../helpers/keeperChain";
import { CutProxy } from "../../helpers/cutProxy";

const CHAIN_PORT = 8691;
const PROXY_PORT = 8692;
const HOOK_PORT = 18601;
const API_PORT = 18602;
const HOOK_SECRET = "keeper-test-webhook-secret";
const KEEPER_ADDRESS = DEV_KEEPER_ADDRESS;

/** Polls `probe` until it yields; on timeout the error carries `diagnose()`'s picture of the keeper. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  diagnose?: () => Promise<unknown>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      const seen = diagnose ? await diagnose().catch((e: unknown) => `diagnosis failed: ${String(e)}`) : undefined;
      const detail =
        seen === undefined
          ? ""
          : `; keeper saw ${JSON.stringify(seen, (_k, x) => (typeof x === "bigint" ? x.toString() : x))}`;
      throw new Error(`timed out waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("keeper (real hardhat node)", function () {
  this.timeout(120_000);
  let dev: DevChain;
  let dir: string;
  let service: Service;
  let engine: MarginEngine;
  let tokens: Record<string, CollateralToken>;
  let kc: KeeperChain;
  let users: JsonRpcSigner[];
  let hook: http.Server;
  const hookBodies: { body: Record<string, unknown>; valid: boolean }[] = [];
  let hookFailuresLeft = 2;

  const setPrice = (symbol: string, price: string): Promise<void> => kc.setPrice(symbol, price);
  const mint = (symbol: string, to: string, amount: bigint): Promise<void> => kc.mint(symbol, to, amount);
  const openAccount = (user: Signer, symbol: string, units: bigint, debt: bigint): Promise<string> =>
    kc.openAccount(user, symbol, units, debt);
  const keeperSettings = (over: Partial<KeeperSettings> = {}): KeeperSettings => ({
    ...DEFAULT_KEEPER_SETTINGS,
    signerKey: DEV_KEYS.keeperKey,
    pollIntervalMs: 100,
    ...over,
  });
  /** Liquidation transactions the keeper's signer got mined for `account`. */
  const keeperLiquidationTxs = async (account: string): Promise<Set<string>> => {
    const logs = await engine.queryFilter(engine.filters.Liquidated(account, KEEPER_ADDRESS));
    return new Set(logs.map((l) => l.transactionHash));
  };

  before(async function () {
    dev = await startDevChain(CHAIN_PORT);
    users = await Promise.all(Array.from({ length: 9 }, (_, i) => dev.chain.provider.getSigner(11 + i)));
    kc = await prepareKeeperChain(dev);
    ({ engine, tokens } = kc);
    // a second verified liquidator with cash: liquidation stays permissionless
    await kc.verify(await users[0].getAddress(), 1);
    await kc.fundMargin(await users[0].getAddress(), 1_000_000n);

    hook = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (ch: Buffer) => chunks.push(ch));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        if (hookFailuresLeft > 0) {
          hookFailuresLeft--;
          res.statusCode = 500;
          res.end("not now");
          return;
        }
        const expected = createHmac("sha256", HOOK_SECRET)
          .update(`${String(req.headers["x-mb-timestamp"])}.${raw}`)
          .digest("hex");
        hookBodies.push({
          body: JSON.parse(raw) as Record<string, unknown>,
          valid: expected === req.headers["x-mb-signature"],
        });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(HOOK_PORT, "127.0.0.1", r));

    dir = mkdtempSync(path.join(tmpdir(), "mb-keeper-"));
    const config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      chain: { rpcUrl: dev.chain.url, network: "localhost", deploymentsDir: dev.deploymentsDir, confirmations: 1 },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
      keeper: {
        enabled: true,
        signerKey: DEV_KEYS.keeperKey,
        pollIntervalMs: 100,
        webhookUrl: `http://127.0.0.1:${HOOK_PORT}/hook`,
        webhookSecret: HOOK_SECRET,
        webhookBaseBackoffMs: 100,
      },
    });
    service = await startService(config, { deployment: dev.record, demoKeys: true, log: silentLogger });
  });

  after(async function () {
    await service?.stop();
    await new Promise((r) => (hook ? hook.close(r) : r(undefined)));
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("pokes an account into Warning then MarginCall, delivers signed notices with deadline and amount to cure (after webhook failures), and records the cure", async function () {
    const a = await openAccount(users[1], "mbBANK", 10_000n, 70_000n);
    await setPrice("mbBANK", "8.5");
    await until("warning recorded", async () => Number((await engine.recordedState(a))[0]) === State.Warning);
    await setPrice("mbBANK", "8");
    const called = await until("margin call notice delivered", async () =>
      hookBodies.find((h) => h.body.account === a && h.body.kind === "margin_call"),
    );
    const view = await engine.accountView(a);
    expect(called.valid).to.equal(true);
    expect(called.body.deadline).to.equal(Number(view.callDeadline));
    // 80,000 · 15 % − (80,000 − 70,000 − interest): 2,000 CNY plus the interest accrued since the borrow
    const toCure = BigInt(called.body.amountToCure as string);
    expect(toCure)
      .to.be.gte(2_000n * CNY)
      .and.lt(2_001n * CNY);
    const stored = await until("notices marked delivered", async () => {
      const rows = await service.store.keeper.notifications({ account: a });
      return rows.every((n) => n.deliveredAt !== null) ? rows : undefined;
    });
    expect(stored.map((n) => n.kind).sort()).to.deep.equal(["margin_call", "warning"]);
    expect(hookBodies.some((h) => h.body.account === a && h.body.kind === "warning")).to.equal(true);
    expect(hookBodies.every((h) => h.valid)).to.equal(true);
    // the first two POSTs were refused: whichever notices they carried were retried
    expect(stored.reduce((n, s) => n + s.attempts, 0)).to.be.gte(stored.length + 2);

    await mint("mbBANK", a, 1_000n);
    await tokens.mbBANK.connect(users[1]).approve(await engine.getAddress(), 1_000n);
    await engine.connect(users[1]).deposit(await tokens.mbBANK.getAddress(), 1_000n);
    await until("cured notice", async () => hookBodies.find((h) => h.body.account === a && h.body.kind === "cured"));
    expect(await service.store.keeper.lastEpoch(a)).to.equal(undefined);
  });

  it("does not liquidate during the margin-call window, keeps the call alive, then liquidates once the deadline passes", async function () {
    const b = await openAccount(users[2], "mbTECH", 4_000n, 65_000n);
    await setPrice("mbTECH", "20");
    await until("margin call recorded", async () => Number((await engine.recordedState(b))[0]) === State.MarginCall);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await service.store.keeper.lastEpoch(b)).to.equal(undefined);
    expect(await engine.accountState(b)).to.equal(BigInt(State.MarginCall));
    const [, deadline] = await engine.recordedState(b);

    // Half the grace period later the keeper evaluates the account again (a call nobody sees below maintenance
    // for a whole grace period lapses), and the same call goes on.
    await dev.chain.provider.send("evm_increaseTime", [1_900]);
    await dev.chain.provider.send("evm_mine", []);
    const hopAt = (await dev.chain.provider.getBlock("latest"))!.timestamp;
    await until("the call seen again", async () => Number((await engine.recordedState(b))[2]) >= hopAt);
    expect((await engine.recordedState(b))[1]).to.equal(deadline);
    expect(await service.store.keeper.lastEpoch(b)).to.equal(undefined);

    await dev.chain.provider.send("evm_increaseTime", [1_800]);
    await dev.chain.provider.send("evm_mine", []);
    const intent = await until("liquidation mined", async () => {
      const i = await service.store.keeper.lastEpoch(b);
      return i?.status === "mined" ? i : undefined;
    });
    expect(intent.triggerReason).to.equal("deadline");
    expect(intent.segments).to.be.gte(1);
    expect(Number(await engine.accountState(b))).to.be.oneOf([State.Healthy, State.Warning]);
    expect((await keeperLiquidationTxs(b)).size).to.equal(1);
    expect(service.keeper!.metrics.latencyMs.count).to.be.gte(1);
  });

  it("honours a risk officer's pause (audited) while others may still liquidate on-chain", async function () {
    await setPrice("mbSMALL", "50");
    const paused = await openAccount(users[3], "mbSMALL", 2_000n, 50_000n);
    const free = await openAccount(users[4], "mbSMALL", 2_000n, 50_000n);
    const officer = new ApiClient(service.url, service.demoKeys.risk_officer);
    const client = new ApiClient(service.url, service.demoKeys.client);
    const res = await officer.post("/v1/keeper/overrides", {
      scope: "account",
      target: paused,
      reason: "extreme move",
    });
    expect(res.status).to.equal(201);
    expect(
      (await client.post("/v1/keeper/overrides", { scope: "account", target: paused, reason: "me" })).status,
    ).to.equal(403);

    await setPrice("mbSMALL", "30");
    await until(
      "unpaused account liquidated",
      async () => (await service.store.keeper.lastEpoch(free))?.status === "mined",
      60_000,
      async () => ({
        state: Number(await engine.accountState(free)),
        view: await engine.accountView(free),
        lastEpoch: await service.store.keeper.lastEpoch(free),
        metrics: service.keeper!.metrics,
        head: await dev.chain.provider.getBlockNumber(),
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await service.store.keeper.lastEpoch(paused)).to.equal(undefined);
    expect(await engine.accountState(paused)).to.equal(BigInt(State.Liquidatable));
    expect(service.keeper!.metrics.skippedPaused).to.be.gte(1);

    // liquidate() stays permissionless: another verified liquidator acts while this keeper is paused
    await engine.connect(users[0]).liquidate(paused, 8);
    expect(Number(await engine.accountState(paused))).to.be.oneOf([State.Healthy, State.Warning]);

    const del = await officer.request("DELETE", `/v1/keeper/overrides/account/${paused}`);
    expect(del.status).to.equal(200);
    const audit = await service.store.audit.list(1, 1000);
    const actions = audit.map((e) => e.action);
    expect(actions).to.include("POST /v1/keeper/overrides");
    expect(actions).to.include("DELETE /v1/keeper/overrides/:scope/:target");
    const status = await officer.get<{ metrics: { accountsByState: Record<string, number> } }>("/v1/keeper/status");
    expect(status.status).to.equal(200);
    expect(status.body.metrics.accountsByState.Healthy + status.body.metrics.accountsByState.Warning).to.be.gte(3);
  });

  describe("crash and outage (service keeper stopped; keepers on their own store behind a cuttable proxy)", function () {
    let proxy: CutProxy;
    let store: Store;
    let provider: JsonRpcProvider;
    const newKeeper = (over: Partial<KeeperSettings> = {}): Keeper =>
      new Keeper({
        store,
        provider,
        signer: rawSigner(DEV_KEYS.keeperKey),
        // transient failures are retried, briefly: the outage test counts the ticks that fail
        retry: { retries: 3, baseMs: 50, deadlineMs: 2_000 },
        deployment: dev.record,
        settings: keeperSettings(over),
        log: silentLogger,
      });
    /** A keeper restarted on `store` over its own provider, recording every eth_getLogs it sends. */
    const restartedKeeper = (indexerName: string) => {
      const restartedProvider = new JsonRpcProvider(proxy.url, dev.record.chainId, {
        staticNetwork: true,
        cacheTimeout: -1,
      });
      const queries: { topics?: unknown; fromBlock: number; toBlock: number }[] = [];
      const send = restartedProvider.send.bind(restartedProvider);
      restartedProvider.send = (method: string, params: unknown[] | Record<string, unknown>) => {
        if (method === "eth_getLogs") {
          const f = (params as { topics?: unknown; fromBlock: string; toBlock: string }[])[0];
          queries.push({ topics: f.topics, fromBlock: Number(f.fromBlock), toBlock: Number(f.toBlock) });
        }
        return send(method, params);
      };
      const restarted = new Keeper({
        store,
        provider: restartedProvider,
        signer: rawSigner(DEV_KEYS.keeperKey),
        deployment: dev.record,
        settings: keeperSettings(),
        indexerName,
        log: silentLogger,
      });
      return { queries, restarted, close: () => restartedProvider.destroy() };
    };
    /**
     * A fresh client key with gas money (the node's own accounts are all used); a key, not an impersonated address,
     * because the client signs its financing agreement (EIP-712) before it borrows.
     */
    const freshUser = async (): Promise<Signer> => {
      const w = Wallet.createRandom().connect(dev.chain.provider);
      await dev.chain.provider.send("hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]);
      return w;
    };

    before(async function () {
      await service.keeper!.stop();
      proxy = new CutProxy(PROXY_PORT, dev.chain.url);
      await proxy.up();
      provider = new JsonRpcProvider(proxy.url, dev.record.chainId, { staticNetwork: true, cacheTimeout: -1 });
      store = await openStore({ engine: "sqlite", path: path.join(dir, "keeper2.sqlite") });
      const warm = newKeeper();
      await warm.tick(); // index every account once on this store
    });
    after(async function () {
      provider?.destroy();
      await store?.close();
      await proxy?.down();
    });

    it("resumes after a crash mid-way without sending any liquidation twice (one by one: lost answers and unsent bytes)", async function () {
      await setPrice("mbSMALL", "50");
      const d1 = await openAccount(users[5], "mbSMALL", 2_000n, 50_000n);
      const d2 = await openAccount(users[6], "mbSMALL", 2_000n, 50_000n);
      const k1 = newKeeper({ mode: "single" });
      await k1.tick();
      await setPrice("mbSMALL", "30");
      // The node mines every broadcast but the keeper never hears back; then it dies.
      await proxy.up("lose-sends");
      await k1.tick().catch(() => undefined);
      const pending = await store.keeper.pendingIntents();
      expect(pending.map((i) => i.account).sort()).to.deep.equal([d1, d2].sort());
      await proxy.up("up");

      const k2 = newKeeper({ mode: "single" });
      await k2.init(); // reconciles the journal before anything new
      expect(await store.keeper.pendingIntents()).to.deep.equal([]);
      for (let i = 0; i < 5; i++) await k2.tick();
      for (const d of [d1, d2]) {
        expect((await keeperLiquidationTxs(d)).size).to.equal(1);
        expect((await store.keeper.lastEpoch(d))!.epoch).to.equal(1);
        expect(Number(await engine.accountState(d))).to.be.oneOf([State.Healthy, State.Warning]);
      }

      // Journaled and signed, but the bytes never left: the restart sends those same bytes, once.
      await setPrice("mbSMALL", "50");
      const d3 = await openAccount(users[7], "mbSMALL", 2_000n, 50_000n);
      await k2.tick();
      await setPrice("mbSMALL", "30");
      await proxy.up("drop-sends");
      await k2.tick().catch(() => undefined);
      const unsent = (await store.keeper.lastEpoch(d3))!;
      expect(unsent.status).to.equal("pending");
      expect(await dev.chain.provider.getTransaction(unsent.txHash)).to.equal(null);
      await proxy.up("up");
      const k3 = newKeeper({ mode: "single" });
      await k3.init();
      await until("re-sent bytes mined", async () => {
        await k3.tick();
        return (await store.keeper.lastEpoch(d3))?.status === "mined";
      });
      const mined = (await store.keeper.lastEpoch(d3))!;
      expect(mined.txHash).to.equal(unsent.txHash);
      expect(mined.epoch).to.equal(1);
      expect((await keeperLiquidationTxs(d3)).size).to.equal(1);
    });

    it("resumes a batch half-mined when the process died: the mined batch settles, the other is re-sent as journaled, no account twice", async function () {
      await setPrice("mbSMALL", "50");
      const owners = await Promise.all([0, 1, 2, 3].map(() => freshUser()));
      const victims: string[] = [];
      for (const [i, o] of owners.entries())
        victims.push(await openAccount(o, "mbSMALL", 2_000n, 47_000n + BigInt(i) * 1_000n));
      // two accounts per liquidateMany: four accounts make two transactions
      const small = { batchMaxAccounts: 2 };
      const k1 = newKeeper(small);
      await k1.tick();
      await setPrice("mbSMALL", "30");
      // the first transaction reaches the node, every later one is lost with the process
      proxy.sendsToPass = 1;
      await proxy.up("drop-sends");
      await k1.tick().catch(() => undefined);
      const journaled = await store.keeper.pendingIntents();
      await proxy.up("up");
      const mined = (await store.keeper.intents(50)).filter((i) => i.status === "mined");
      expect(mined.length, "the batch that got out was mined").to.be.greaterThan(0);
      expect(journaled.length, "batches journaled but never sent").to.be.greaterThan(0);
      const unsent = journaled.map((i) => i.txHash);
      for (const h of unsent) expect(await dev.chain.provider.getTransaction(h)).to.equal(null);

      const k2 = newKeeper(small);
      await k2.init(); // re-sends the journaled bytes before anything new
      await until("every victim liquidated", async () => {
        await k2.tick();
        const states = await Promise.all(victims.map((v) => engine.accountState(v)));
        return states.every((st) => Number(st) <= State.Warning) && (await store.keeper.pendingIntents()).length === 0;
      });
      for (const v of victims) {
        expect((await keeperLiquidationTxs(v)).size, `one liquidation transaction for ${v}`).to.equal(1);
        expect((await store.keeper.lastEpoch(v))!.epoch).to.equal(1);
      }
      // the re-sent transactions are the journaled ones (same hashes), mined once each
      for (const h of unsent) expect((await dev.chain.provider.getTransactionReceipt(h))?.status).to.equal(1);
      const batches = (await store.keeper.intents(50)).filter((i) => victims.includes(i.account)).reverse();
      expect(
        batches.reduce((n, i) => n + i.accounts, 0),
        "four accounts in the batches",
      ).to.equal(4);
      expect(batches[0].accounts).to.be.greaterThan(1);
      expect(batches[0].account, "the deepest shortfall goes first").to.equal(victims[3]);
    });

    it("sends a batch in which an account was cured meanwhile: the engine skips it, the others are liquidated, the cured one is left alone", async function () {
      await setPrice("mbSMALL", "50");
      const owners = await Promise.all([0, 1, 2].map(() => freshUser()));
      const [a, b, c] = await Promise.all(owners.map((o) => openAccount(o, "mbSMALL", 2_000n, 50_000n)));
      const k1 = newKeeper();
      await k1.tick();
      await setPrice("mbSMALL", "30");
      await proxy.up("drop-sends");
      await k1.tick().catch(() => undefined);
      const [batch] = await store.keeper.pendingIntents();
      expect(batch.accounts).to.equal(3);
      await proxy.up("up");
      // b's owner pays back in cash before the batch lands: no longer liquidatable
      await tokens.mbCNY.connect(owners[1]).approve(await engine.getAddress(), 50_000n * CNY);
      await engine.connect(owners[1]).deposit(await tokens.mbCNY.getAddress(), 50_000n * CNY);
      expect(Number(await engine.accountState(b))).to.equal(State.Healthy);

      const k2 = newKeeper();
      await k2.init();
      await until("the batch settled", async () => {
        await k2.tick();
        return (await store.keeper.lastEpoch(a))?.status === "mined";
      });
      const outcomes = await store.keeper.intentAccounts(batch.id);
      expect(Object.fromEntries(outcomes.map((o) => [o.account, o.outcome]))).to.deep.equal({
        [a]: "liquidated",
        [b]: "skipped",
        [c]: "liquidated",
      });
      const skipped = await engine.queryFilter(engine.filters.LiquidationSkipped(b), batch.minedBlock ?? 0);
      expect(skipped.map((l) => Number(l.args.reason))).to.deep.equal([2]); // NotLiquidatable
      expect(k2.metrics.accountsSkipped).to.equal(1);
      for (let i = 0; i < 3; i++) await k2.tick();
      expect((await keeperLiquidationTxs(b)).size).to.equal(0);
      expect((await store.keeper.lastEpoch(b))!.epoch, "nothing more journaled for the cured account").to.equal(1);
      for (const v of [a, c]) expect((await keeperLiquidationTxs(v)).size).to.equal(1);
    });

    it("rebuilds its index after a restart from the indexer's stored engine events, asking the node only for the rest", async function () {
      const indexer = new Indexer({
        name: "main",
        provider,
        store,
        handlers: [marginEngineHandler(dev.record.contracts.MarginEngine)],
        confirmations: 1,
        batchBlocks: 2_000,
        startBlock: dev.record.deployBlock,
        retry: { retries: 3, baseMs: 50 },
        log: silentLogger,
      });
      await indexer.catchUp();
      const indexedTo = (await store.chain.cursor("main"))!.blockNumber;
      const warm = newKeeper();
      await warm.tick();
      const { queries, restarted, close } = restartedKeeper("main");
      try {
        await restarted.tick();
        expect(restarted.index.accounts().sort()).to.deep.equal(warm.index.accounts().sort());
        // the store holds every ledger event of the range: the node is asked only past the indexer's cursor
        expect(queries.filter((q) => q.fromBlock <= indexedTo)).to.deep.equal([]);
        expect(queries.length).to.be.above(0);
      } finally {
        close();
      }
    });

    it("from a store indexed before it kept transfers, trade legs, freezes, seizures and margin modes: the node is asked for those only below the block they are kept from", async function () {
      const full = marginEngineHandler(dev.record.contracts.MarginEngine);
      const late = ["AccountTransfer", "TradeLegsSettled", "FreezeSynced", "LegalSeizure", "MarginModeSet"];
      const indexerWith = (events: string[]) =>
        new Indexer({
          name: "older",
          provider,
          store,
          handlers: [{ ...full, events }],
          confirmations: 1,
          batchBlocks: 2_000,
          startBlock: dev.record.deployBlock,
          retry: { retries: 3, baseMs: 50 },
          log: silentLogger,
        });
      await indexerWith(full.events.filter((e) => !late.includes(e))).catchUp();
      const keptFrom = (await store.chain.cursor("older"))!.blockNumber + 1;
      await dev.chain.provider.send("hardhat_mine", ["0x3"]);
      await indexerWith(full.events).catchUp();
      const coverage = await store.chain.eventCoverage("older", "MarginEngine");
      expect(coverage.get("Borrowed")).to.equal(dev.record.deployBlock);
      for (const e of late) expect(coverage.get(e), e).to.equal(keptFrom);
      const indexedTo = (await store.chain.cursor("older"))!.blockNumber;
      const warm = newKeeper();
      await warm.tick();
      const { queries, restarted, close } = restartedKeeper("older");
      try {
        await restarted.tick();
        expect(restarted.index.accounts().sort()).to.deep.equal(warm.index.accounts().sort());
        const stored = queries.filter((q) => q.fromBlock <= indexedTo);
        expect(stored.length).to.be.above(0);
        const lateTopics = late.map(
          (e) => MarginEngine__factory.createInterface().getEvent(e as "AccountTransfer")!.topicHash,
        );
        for (const q of stored) {
          expect(q.toBlock, "below the block the store keeps them from").to.be.below(keptFrom);
          expect((q.topics as string[][])[0]).to.have.members(lateTopics);
        }
      } finally {
        close();
      }
    });

    it("rides out an RPC outage and liquidates once the node is reachable again", async function () {
      await setPrice("mbSMALL", "50");
      const e = await openAccount(users[8], "mbSMALL", 2_000n, 50_000n);
      const k = newKeeper();
      await k.tick();
      await proxy.down();
      await setPrice("mbSMALL", "30");
      let failures = 0;
      for (let i = 0; i < 3; i++) await k.tick().catch(() => failures++);
      expect(failures).to.equal(3);
      expect(await store.keeper.lastEpoch(e)).to.equal(undefined);
      await proxy.up();
      await until("liquidated after the outage", async () => {
        await k.tick();
        return (await store.keeper.lastEpoch(e))?.status === "mined";
      });
      expect((await keeperLiquidationTxs(e)).size).to.equal(1);
      expect(k.metrics.latencyMs.count).to.equal(1);
    });
  });
});
