import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, JsonRpcSigner, Wallet, type HDNodeWallet, type Log } from "ethers";
import {
  CollateralToken__factory,
  MarginEngine__factory,
  OptionMarket__factory,
  ProtocolAccessManager__factory,
  SettableAggregatorV3__factory,
} from "../../../typechain-types";
import { listOptionSeries } from "../../../scripts/deploy/options";
import { Indexer, rawSigner } from "../../../offchain/chain";
import { marginEngineHandler } from "../../../offchain/chain/handlers/marginEngine";
import { Keeper, State, DEFAULT_KEEPER_SETTINGS } from "../../../offchain/keeper";
import { PositionBook } from "../../../offchain/keeper/positions";
import { readMarket, valueOffchain } from "../../../offchain/keeper/valuation";
import { DEV_KEYS } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { openStore, type Store } from "../../../offchain/store";
import { ROLE } from "../../../scripts/deploy/roles";
import { startDevChain, type DevChain } from "../../../fixtures/devChain";
import { CNY, prepareKeeperChain, type KeeperChain } from "../../../fixtures/keeperChain";

const PORT = 8694;
const WAD = 10n ** 18n;
const SYMBOLS = ["mbBANK", "mbTECH", "mbSMALL"];
const RETRY = { retries: 8, baseMs: 100, deadlineMs: 30_000 };

/** A new random account, impersonated on the node (100 ETH for gas) and KYC-verified at tier 5 (5×). */
async function newClient(dev: DevChain, kc: KeeperChain): Promise<{ w: HDNodeWallet; a: string; s: JsonRpcSigner }> {
  const p = dev.chain.provider;
  const w = Wallet.createRandom();
  const a = w.address.toLowerCase();
  await p.send("hardhat_impersonateAccount", [a]);
  await p.send("hardhat_setBalance", [a, "0x56BC75E2D63100000"]);
  await kc.verify(a, 5);
  return { w, a, s: new JsonRpcSigner(p, a) };
}

/**
 * Lists a 9-put on mbBANK (90 days, 100 shares, a settable implied volatility at 30%) and has a new verified account
 * write one contract: it holds the series in its margin account (and 900 mbCNY locked in the market's). Returns it.
 */
async function optionHolder(dev: DevChain, kc: KeeperChain): Promise<string> {
  const p = dev.chain.provider;
  const c = dev.record.contracts;
  const bank = dev.record.tokens.find((t) => t.symbol === "mbBANK")!.address;
  const volatility = await new SettableAggregatorV3__factory(dev.signers[0]).deploy(8, "mbBANK implied volatility");
  await (await volatility.setAnswer(30_000_000n)).wait();
  const now = (await p.getBlock("latest"))!.timestamp;
  const series = await listOptionSeries({
    contracts: c,
    riskOfficer: dev.signers[3],
    operator: dev.signers[4],
    terms: {
      underlying: bank,
      isCall: false,
      strike: 9n * WAD,
      expiry: BigInt(now + 90 * 86_400),
      contractSize: 100n,
      fixingWindow: 1_800,
      volatilityFeed: await volatility.getAddress(),
      rate: 0n,
    },
    name: "mbBANK put 9",
    symbol: "mbBANK-P9",
    maxStaleness: 86_400,
  });
  const { a, s } = await newClient(dev, kc);
  await kc.mint("mbCNY", a, 1_000n * CNY);
  const cash = dev.record.tokens.find((t) => t.kind === "cash")!.address;
  await (await CollateralToken__factory.connect(cash, s).approve(c.MarginEngine, 1_000n * CNY)).wait();
  await (await MarginEngine__factory.connect(c.MarginEngine, s).deposit(cash, 1_000n * CNY)).wait();
  await (await OptionMarket__factory.connect(c.OptionMarket, s).write(series, 1n)).wait();
  return a;
}

/** A seeded generator (mulberry32): the same random accounts on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The cold start's off-chain valuation against the engine, on a real hardhat node: random accounts holding one to
 * three securities (tiers 1–3, haircuts 0/5/10 %), cash, debts, transfers between accounts and repayments, valued
 * after price rounds that move the volatility (tier margins with a volatility term, floor and cap), and after interest
 * accrued for months. Every figure of accountView must be equal, not close.
 */
describe("keeper cold start: off-chain valuation from the engine's events", function () {
  this.timeout(600_000);
  let dev: DevChain;
  let kc: KeeperChain;
  let dir: string;
  let store: Store;
  let provider: JsonRpcProvider;
  const accounts: string[] = [];
  const repaid = new Set<string>();
  const fixedTerm = new Set<string>();

  before(async function () {
    dev = await startDevChain(PORT);
    kc = await prepareKeeperChain(dev, { poolCny: 20_000_000n });
    provider = new JsonRpcProvider(dev.chain.url, dev.record.chainId, { staticNetwork: true, cacheTimeout: -1 });
    dir = mkdtempSync(path.join(tmpdir(), "mb-keeper-valuation-"));
    store = await openStore({ engine: "sqlite", path: path.join(dir, "store.sqlite") });
    const p = dev.chain.provider;
    const risk = kc.engine.connect(dev.signers[3]);
    // margins with a volatility term, a floor and a cap (the fixture's have none)
    for (const [tier, base, k, floor, cap] of [
      [1, 10n, 200n, 12n, 60n],
      [2, 15n, 300n, 18n, 70n],
      [3, 20n, 150n, 25n, 80n],
    ] as const)
      await risk.setTierRisk(tier, {
        liquidityAddOn: (base * WAD) / 100n,
        volatilityMultiplier: (k * WAD) / 100n,
        floor: (floor * WAD) / 100n,
        cap: (cap * WAD) / 100n,
        initialBuffer: (5n * WAD) / 100n,
        fixedVolatility: (8n * WAD) / 100n,
      });
    const admin = await dev.signers[0].getAddress();
    await ProtocolAccessManager__factory.connect(dev.record.contracts.AccessManager, dev.signers[0]).grantRole(
      ROLE.SETTLER,
      admin,
      0,
    );
    const rand = rng(24);
    const engine = kc.engine;
    const cash = await kc.tokens.mbCNY.getAddress();
    for (let i = 0; i < 24; i++) {
      const { w, a, s } = await newClient(dev, kc);
      const held = SYMBOLS.filter(() => rand() < 0.6);
      if (held.length === 0) held.push(SYMBOLS[i % 3]);
      for (const sym of held) {
        const units = BigInt(50 + Math.floor(rand() * 500));
        await kc.mint(sym, a, units);
        await kc.tokens[sym].connect(s).approve(dev.record.contracts.MarginEngine, units);
        await engine.connect(s).deposit(await kc.tokens[sym].getAddress(), units);
      }
      // some choose the fixed margin mode (issue 23): the book leaves them to the lens
      if (i % 5 === 4) {
        const today = Math.floor((await p.getBlock("latest"))!.timestamp / 86_400);
        await engine.connect(s).setFixedTerm(today + 30);
        fixedTerm.add(a);
      }
      if (rand() < 0.3) {
        const amount = BigInt(100 + Math.floor(rand() * 900)) * CNY;
        await kc.mint("mbCNY", a, amount);
        await kc.tokens.mbCNY.connect(s).approve(dev.record.contracts.MarginEngine, amount);
        await engine.connect(s).deposit(cash, amount);
      }
      const view = await engine.accountView(a);
      // borrow up to 90 % of what initial margin allows: (collateral − initial) with a margin
      const room = view.collateralValue > view.initialReq ? view.collateralValue - view.initialReq : 0n;
      const debt = (room * BigInt(Math.floor(rand() * 90))) / 100n;
      if (debt > CNY) {
        await kc.bind(w.connect(p)); // its agreement is signed with its key (an impersonated account cannot sign)
        await engine.connect(s).borrow(debt);
        const withdrawn = rand() < 0.7;
        if (withdrawn) await engine.connect(s).withdraw(cash, debt);
        if (!withdrawn && rand() < 0.5) {
          await engine.connect(s).repay(debt / 10n);
          repaid.add(a);
        }
      }
      accounts.push(a);
    }
    // transfers between accounts (DvP legs; not in the indexer's store: read from the node's logs)
    for (let k = 0; k < 6; k++) {
      const from = accounts[k];
      const to = accounts[accounts.length - 1 - k];
      for (const sym of SYMBOLS) {
        const asset = await kc.tokens[sym].getAddress();
        const units = await engine.balanceOf(from, asset);
        if (units > 1n && (await engine.debtOf(from)).scaled === 0n) {
          await engine.connect(dev.signers[0]).transferBetweenAccounts(from, to, asset, units / 2n);
          break;
        }
      }
    }
  });

  after(async function () {
    provider?.destroy();
    await store?.close();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The position book as a cold start folds it: the indexer's stored events, plus the node's logs it does not keep. */
  async function foldBook(upTo: number): Promise<PositionBook> {
    const indexer = new Indexer({
      name: "main",
      provider,
      store,
      handlers: [marginEngineHandler(dev.record.contracts.MarginEngine)],
      confirmations: 0,
      batchBlocks: 5_000,
      startBlock: dev.record.deployBlock,
      retry: RETRY,
      log: silentLogger,
    });
    await indexer.catchUp();
    const book = new PositionBook(await kc.tokens.mbCNY.getAddress());
    for (const e of await store.chain.events("main", { contract: "MarginEngine", toBlock: upTo }))
      book.apply({ name: e.event, args: e.args });
    const iface = MarginEngine__factory.createInterface();
    const topics = [
      (["AccountTransfer", "TradeLegsSettled", "FreezeSynced", "LegalSeizure", "MarginModeSet"] as const).map(
        (n) => iface.getEvent(n)!.topicHash,
      ),
    ];
    const logs: Log[] = await provider.getLogs({
      address: dev.record.contracts.MarginEngine,
      topics,
      fromBlock: dev.record.deployBlock,
      toBlock: upTo,
    });
    for (const log of logs) {
      const parsed = iface.parseLog(log)!;
      const args: Record<string, unknown> = {};
      parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.args[i]));
      book.apply({ name: parsed.name, args });
    }
    return book;
  }

  /** Every account the book values must equal accountView at `block`, field by field. Returns how many it valued. */
  async function compareAt(block: number): Promise<number> {
    const book = await foldBook(block);
    const market = await readMarket(
      provider,
      { engine: dev.record.contracts.MarginEngine, router: dev.record.contracts.OracleRouter },
      block,
      RETRY,
    );
    let valued = 0;
    for (const a of accounts) {
      const position = book.position(a);
      if (repaid.has(a)) {
        expect(position, `${a} repaid: its cash cannot be replayed`).to.equal(undefined);
        continue;
      }
      if (fixedTerm.has(a)) {
        expect(position, `${a} chose a fixed term: read through the lens`).to.equal(undefined);
        continue;
      }
      if (!position) continue;
      const mine = valueOffchain(a, position, market);
      const v = await kc.engine.accountView(a, { blockTag: block });
      const fields = {
        cash: [mine.cash, v.cash],
        debt: [mine.debt, v.debt],
        positionValue: [mine.positionValue, v.positionValue],
        collateralValue: [mine.collateralValue, v.collateralValue],
        equity: [mine.equity, v.equity],
        marginRatio: [mine.marginRatio, v.marginRatio],
        maintenanceReq: [mine.maintenanceReq, v.maintenanceReq],
        initialReq: [mine.initialReq, v.initialReq],
        warningLine: [mine.warningLine, v.warningLine],
        hardLine: [mine.hardLine, v.hardLine],
        state: [BigInt(mine.state), v.state],
        callDeadline: [BigInt(mine.callDeadline), v.callDeadline],
        liquidationReturn: [mine.liquidationReturn, v.liquidationReturn],
        liquidationPrice: [mine.liquidationPrice, v.liquidationPrice],
        pricesSafe: [mine.pricesSafe, v.pricesSafe],
      };
      for (const [name, [off, on]] of Object.entries(fields)) expect(off, `${a} ${name} at ${block}`).to.equal(on);
      valued++;
    }
    return valued;
  }

  it("equals accountView for every account whose events replay, after price rounds, volatility and interest", async function () {
    const p = dev.chain.provider;
    const seen: number[] = [];
    seen.push(await compareAt(await p.getBlockNumber()));
    const rand = rng(7);
    // rounds that move each price by up to ±15 % (the volatility follows), interest over weeks in between
    const prices: Record<string, number> = { mbBANK: 10, mbTECH: 25, mbSMALL: 50 };
    let stale = 0;
    for (let round = 0; round < 4; round++) {
      // weeks pass: interest accrues and the feeds (a day's staleness) go Stale, which counts the positions at zero
      await p.send("evm_increaseTime", [Math.floor((1 + rand() * 40) * 86400)]);
      await p.send("evm_mine", []);
      seen.push(await compareAt(await p.getBlockNumber()));
      const quotes = await kc.router.quotes(await Promise.all(SYMBOLS.map((sym) => kc.tokens[sym].getAddress())));
      stale += quotes.filter((q) => q.status !== 0n).length;
      for (const sym of SYMBOLS) {
        prices[sym] = Math.round(prices[sym] * (0.85 + rand() * 0.3) * 1000) / 1000;
        await kc.setPrice(sym, String(prices[sym]));
      }
      seen.push(await compareAt(await p.getBlockNumber()));
    }
    expect(stale, "unsafe prices were compared too").to.be.greaterThan(0);
    const vol = await kc.router.volatility(await kc.tokens.mbSMALL.getAddress());
    expect(vol, "the rounds moved the volatility").to.be.greaterThan(0n);
    // most accounts are valued off-chain every time (the others repaid, or their calls run)
    for (const n of seen) expect(n).to.be.greaterThanOrEqual(accounts.length - repaid.size - 4);
  });

  it("a keeper restarted on the store indexes every account from the events and liquidates every liquidatable one", async function () {
    const p = dev.chain.provider;
    // an account holding an option series (it wrote a put): it may be portfolio-margined, so the cold start reads it
    // through the engine at once instead of valuing it by the rule
    const holder = await optionHolder(dev, kc);
    await foldBook(await p.getBlockNumber());
    const head = await p.getBlockNumber();
    // a keeper that had run up to the head (its cursor saved), then restarts during a crash
    await store.keeper.setState("cursor", String(head));
    for (const sym of SYMBOLS) await kc.setPrice(sym, String(sym === "mbBANK" ? 4 : sym === "mbTECH" ? 9 : 18));
    // the prices were Stale before this round: the engine liquidates once they have been Safe for its oracle grace
    await p.send("evm_increaseTime", [301]);
    await p.send("evm_mine", []);
    const keeper = new Keeper({
      store,
      provider,
      signer: rawSigner(DEV_KEYS.keeperKey),
      retry: RETRY,
      deployment: dev.record,
      settings: { ...DEFAULT_KEEPER_SETTINGS, signerKey: DEV_KEYS.keeperKey, resyncIntervalMs: 3_600_000 },
      log: silentLogger,
    });
    const liquidatable: string[] = [];
    for (const a of accounts)
      if ((await kc.engine.accountView(a)).state >= BigInt(State.Liquidatable)) liquidatable.push(a);
    expect(liquidatable.length, "the crash made accounts liquidatable").to.be.greaterThan(3);
    await keeper.tick();
    expect(keeper.metrics.valuedOffchain, "accounts valued from the events").to.be.greaterThan(10);
    // healthy accounts far from their lines wait for a background read; the rest were read through the lens at once
    expect(keeper.metrics.awaitingConfirmation, "confirmed later").to.be.greaterThan(0);
    expect(keeper.metrics.reads + keeper.metrics.awaitingConfirmation).to.equal(keeper.index.size);
    const queue = (keeper as unknown as { confirmQueue: Set<string> }).confirmQueue;
    expect(keeper.index.accounts(), "the option holder is indexed").to.include(holder);
    expect(queue.has(holder), "the option holder was read through the engine, not queued").to.equal(false);
    expect(keeper.index.size).to.be.greaterThanOrEqual(accounts.length);
    for (let i = 0; i < 10 && keeper.metrics.liquidationsMined < liquidatable.length; i++) await keeper.tick();
    const engine = kc.engine;
    const logs = await engine.queryFilter(engine.filters.Liquidated(undefined, keeper.liquidator.address), head);
    const liquidated = new Set(logs.map((l) => l.args.account.toLowerCase()));
    for (const a of liquidatable) expect(liquidated.has(a), `${a} liquidated`).to.equal(true);
    // the background confirmation reads the remaining accounts through the lens when the keeper is idle
    for (let i = 0; i < 5 && keeper.metrics.awaitingConfirmation > 0; i++) await keeper.tick();
    expect(keeper.metrics.awaitingConfirmation).to.equal(0);
    expect(keeper.metrics.reads, "every account confirmed through the lens").to.be.greaterThanOrEqual(accounts.length);
  });
});
