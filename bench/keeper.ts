/**
 * npm run bench -- keeper [--accounts 10000] [--liquidatable 1000] [--port 8693] [--modes single,batch]
 *                         [--caps-windows 5] [--gas-budget <gas>] [--block-ms 1000] [--index-builds lens,node]
 *                         [--node hardhat|anvil] [--setup-step 250|2000]
 *
 * A real `hardhat node` (or, with `--node anvil`, anvil without past states: hardhat's in-memory history took it past
 * this machine's 24 GB before 100,000 accounts were set up), `--accounts` margin accounts each holding 200
 * mbSMALL (tier 3) at 50 CNY, of which `--liquidatable` borrowed 5,000 CNY and the rest 1,500. A small round
 * (50 → 49.5) and then a shock (→ 30) make exactly the borrowers of 5,000 liquidatable. The chain is set up once and
 * snapshotted; from there the node mines a block every `--block-ms` (0: one block per transaction, automine), and
 * each keeper mode runs from the same snapshot (evm_revert) on a fresh store: the index build
 * (first full read, batch lens), accounts re-checked per round, and from the shock round until every liquidatable
 * account is liquidated: blocks, seconds, liquidations per second, gas per liquidation, round → mined latency.
 * Last, with `--caps-windows W` > 0, the batch keeper once more with a per-window seizure cap of 1/W of what the
 * uncapped run seized: how many windows the book takes to clear and how much is sold in each.
 * Cold start: after the setup the service's indexer stores the engine's events (as `npm start` does), and every
 * batch keeper starts as a keeper restarted at the head would: its index built from the indexer's store (positions
 * folded from the events, valued off-chain, near-line accounts read through the lens; `index_build`, path "store"),
 * while the one-by-one keeper builds it as before, every account read through the lens (path "lens"). With
 * `--index-builds lens,node,store`, index builds alone (batch keeper, first tick only) for comparison; "node" is a
 * fresh keeper folding the node's logs (no store).
 * JSON lines out. Accounts are set up in large blocks (automine off) through the SETTLER role given to the admin,
 * which the bench grants itself on this throwaway chain; every RPC call retries connection resets, and every
 * setup transaction carries its nonce, so a re-sent one is recognised instead of doubled.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { JsonRpcProvider, hexlify, id as keccakId, randomBytes } from "ethers";
import { KycRegistry__factory, MarginEngine__factory, ProtocolAccessManager__factory } from "../typechain-types";
import { Indexer, isTransient, rawSigner, withRetry, type RetryOptions } from "../offchain/chain";
import { marginEngineHandler } from "../offchain/chain/handlers/marginEngine";
import { DEFAULT_KEEPER_SETTINGS, Keeper } from "../offchain/keeper";
import { DEV_KEYS } from "../offchain/shared/config";
import { createLogger, silentLogger } from "../offchain/shared/logger";
import { openStore, type Store } from "../offchain/store";
import { ROLE } from "../scripts/deploy/roles";
import { startDevChain, type DevChain } from "../fixtures/devChain";
import { CNY, prepareKeeperChain, type KeeperChain } from "../fixtures/keeperChain";

/** The bench's own warnings (setup retries), on stderr whatever MB_BENCH_LOG says: the JSON lines stay on stdout. */
const benchLog = createLogger({ level: "warn", sink: (l) => process.stderr.write(l + "\n") });

const UNITS = 200n;
const WAD = 10n ** 18n;
const NO_CAP = 2n ** 127n;
const RETRY: RetryOptions = { retries: 10, baseMs: 200, deadlineMs: 120_000 };
/** The gas each setup transaction may use (the block packs them by it). */
const SETUP_TX_GAS = 400_000n;

type Mode = "single" | "batch";
/** How a keeper's first tick builds its index: from the indexer's store (a restart), the node's logs, the lens. */
type IndexPath = "store" | "node" | "lens";

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

/** A full garbage collection, so heap figures count what the keeper holds (not garbage not yet collected). */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/** Why this bench deploys without AgreementBinding.requireAgreements (printed in its output). */
const AGREEMENTS_OFF =
  "agreements not required: binding costs ~392 ms per account (schedule read, 2 EIP-712 signatures, anchor, " +
  "propose, accept), over an hour for 10,000 accounts; liquidation does not depend on it (unbound accounts have no " +
  "penalty cap below the engine's)";

function emit(fields: Record<string, unknown>): void {
  process.stdout.write(
    JSON.stringify({ bench: "keeper", ...fields }, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) + "\n",
  );
}

interface ModeResult {
  mode: Mode;
  liquidated: number;
  blocks: number;
  seconds: number;
  perSecond: number;
  gasPerLiquidation: number;
}

export async function main(args: string[]): Promise<void> {
  const n = Number(arg(args, "--accounts", "10000"));
  const m = Number(arg(args, "--liquidatable", "1000"));
  const port = Number(arg(args, "--port", "8693"));
  const modes = arg(args, "--modes", "single,batch").split(",") as Mode[];
  const capWindows = Number(arg(args, "--caps-windows", "5"));
  const gasBudget = args.includes("--gas-budget") ? BigInt(arg(args, "--gas-budget", "0")) : undefined;
  const blockMs = Number(arg(args, "--block-ms", "1000"));
  // the chain process: hardhat's (default), or anvil without past states for runs past hardhat's memory (100,000)
  const node = arg(args, "--node", "hardhat");
  if (node !== "hardhat" && node !== "anvil") throw new Error(`--node ${node}: hardhat or anvil`);
  const indexBuilds = arg(args, "--index-builds", "")
    .split(",")
    .filter((x) => x !== "") as IndexPath[];
  // The node's heap capped: with the default (a quarter of RAM) a 10,000-account run grew it past 20 GB before a
  // collection and the kernel killed it (the first run on this machine); 3 GB keeps it collecting.
  if (!/max-old-space-size/.test(process.env.NODE_OPTIONS ?? ""))
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --max-old-space-size=3072`.trim();
  // Agreements not required here: binding an account (schedule read, two EIP-712 signatures, anchor, propose,
  // accept) took 392 ms per account on this machine, over an hour for 10,000 — more than the rest of the setup, and
  // the keeper's work does not depend on it (an unbound account's penalty cap is the engine's own penalty).
  // Accounts per setup step (each step is one block per kind of transaction). Anvil recomputes the whole state root
  // for every block it mines, so at 100,000 accounts a block costs seconds whatever it holds: 250-account steps in
  // 30 M-gas blocks (≈ 75 setup transactions each) took 100 minutes there. On anvil the setup's blocks are 2,000
  // accounts under a raised gas limit, put back to the 30 M every run measures with before the keeper starts.
  // Hardhat keeps 250 (larger blocks made it hold over 10 GB).
  const step = Number(arg(args, "--setup-step", node === "anvil" ? "2000" : "250"));
  const dev = await startDevChain(port, { requireAgreements: false, node });
  const dir = mkdtempSync(path.join(tmpdir(), "mb-bench-keeper-"));
  const memory = new NodeMemory(dev.chain.process.pid);
  let miner: BlockMiner | undefined;
  try {
    const setupStart = Date.now();
    // The pool lends at most its assets less the liquidity buffer (PoolBufferReached): 50 M CNY stopped the
    // 100,000-account setup at account 9,040 (9,040 × 5,000 = 45.2 M, the 90 % the buffer leaves), twice. Sized to
    // the scenario's debt with a quarter to spare, and the keeper's cash to the accounts it buys from.
    const kc = await prepareKeeperChain(dev, { poolCny: poolFor(n, m), keeperCny: keeperCashFor(m) });
    const small = await kc.tokens.mbSMALL.getAddress();
    // no seizure cap in the way of every liquidation in one window (the capped run sets one)
    await kc.engine.connect(dev.signers[3]).configureAsset(small, 3, WAD / 10n, WAD / 10n, NO_CAP);
    await populate(dev, kc, n, m, step, node === "anvil");
    emit({
      metric: "setup",
      value: Date.now() - setupStart,
      unit: "ms",
      accounts: n,
      liquidatable: m,
      blockMs,
      node,
      setupStep: step,
      nodeMemory: memory.phase(),
    });
    emit({ metric: "agreements", required: false, reason: AGREEMENTS_OFF });
    const indexed = await indexEvents(dev, dir);
    emit({
      metric: "indexer_catch_up",
      value: indexed.ms,
      unit: "ms",
      events: indexed.events,
      toBlock: indexed.head,
      nodeMemory: memory.phase(),
    });
    const rpc = <T>(method: string, params: unknown[]): Promise<T> =>
      withRetry(() => dev.chain.provider.send(method, params) as Promise<T>, RETRY);
    // the keeper runs against a chain that mines a block every `blockMs` (0: a block per transaction)
    if (blockMs > 0) {
      await rpc("evm_setAutomine", [false]);
      if (node === "hardhat") await rpc("evm_setIntervalMining", [blockMs]);
      else miner = new BlockMiner(rpc, blockMs);
    }
    let snapshot = await rpc<string>("evm_snapshot", []);
    const fresh = async (): Promise<void> => {
      await miner?.pause();
      await rpc("evm_revert", [snapshot]);
      snapshot = await rpc<string>("evm_snapshot", []);
      miner?.resume();
    };

    for (const how of indexBuilds) {
      await fresh();
      await indexBuildOnly(dev, dir, how, n, m);
      emit({ metric: "node_memory", phase: `index_build ${how}`, ...memory.phase() });
    }
    const results: ModeResult[] = [];
    let seizedUncapped = 0n;
    for (const mode of modes) {
      await fresh();
      const r = await runMode(dev, kc, dir, mode, n, m, gasBudget);
      emit({ metric: "node_memory", phase: mode, ...memory.phase() });
      results.push(r.result);
      if (mode === "batch") seizedUncapped = r.seized;
    }
    const single = results.find((r) => r.mode === "single");
    const batch = results.find((r) => r.mode === "batch");
    if (single && batch)
      emit({
        metric: "batch_vs_single",
        accounts: n,
        liquidatable: m,
        perSecondRatio: Math.round((batch.perSecond / single.perSecond) * 10) / 10,
        secondsRatio: Math.round((single.seconds / batch.seconds) * 10) / 10,
        gasPerLiquidationRatio: Math.round((batch.gasPerLiquidation / single.gasPerLiquidation) * 1000) / 1000,
        blocks: { single: single.blocks, batch: batch.blocks },
      });
    if (capWindows > 0 && seizedUncapped > 0n) {
      await fresh();
      await runCapped(
        dev,
        kc,
        dir,
        n,
        m,
        (seizedUncapped + BigInt(capWindows) - 1n) / BigInt(capWindows),
        blockMs,
        gasBudget,
      );
      emit({ metric: "node_memory", phase: "capped", ...memory.phase() });
    }
  } finally {
    await miner?.pause();
    miner?.stop();
    memory.stop();
    await dev.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The scenario's total debt (5,000 CNY for each of the first `m`, 1,500 for the rest) with a quarter to spare, ≥ 50 M. */
export function poolFor(n: number, m: number): bigint {
  const debt = BigInt(m) * 5_000n + BigInt(n - m) * 1_500n;
  const sized = (debt * 5n) / 4n;
  return sized > 50_000_000n ? sized : 50_000_000n;
}

/** The keeper's margin cash: 20,000 CNY for each liquidatable account (what the 1,000-account runs had), ≥ 20 M. */
export function keeperCashFor(m: number): bigint {
  const sized = BigInt(m) * 20_000n;
  return sized > 20_000_000n ? sized : 20_000_000n;
}

/**
 * `n` accounts with 200 mbSMALL each (moved from a dealer's margin account), the first `m` owing 5,000 CNY, the
 * rest 1,500 (borrowed and moved out), `step` accounts at a time with automine off, each kind of transaction in its
 * own blocks (with `raiseGasLimit`, one block: the limit raised to hold a step's, and put back after).
 */
async function populate(
  dev: DevChain,
  kc: KeeperChain,
  n: number,
  m: number,
  step: number,
  raiseGasLimit: boolean,
): Promise<void> {
  const p = dev.chain.provider;
  const c = dev.record.contracts;
  const admin = (await dev.signers[0].getAddress()).toLowerCase();
  const cash = await kc.tokens.mbCNY.getAddress();
  const small = await kc.tokens.mbSMALL.getAddress();
  await ProtocolAccessManager__factory.connect(c.AccessManager, dev.signers[0]).grantRole(ROLE.SETTLER, admin, 0);
  const dealer = await dev.signers[4].getAddress();
  await kc.verify(dealer, 1);
  await kc.mint("mbSMALL", dealer, UNITS * BigInt(n));
  await kc.tokens.mbSMALL.connect(dev.signers[4]).approve(c.MarginEngine, UNITS * BigInt(n));
  await kc.engine.connect(dev.signers[4]).deposit(small, UNITS * BigInt(n));

  // random 20-byte addresses, impersonated on the node (no key needed): Wallet.createRandom derives a mnemonic's key
  // each time, ≈ 4 ms of CPU per account — 7 minutes of the bench's own time for 100,000 before the first send
  const accounts = Array.from({ length: n }, () => hexlify(randomBytes(20)));
  const debt = (i: number): bigint => (i < m ? 5_000n : 1_500n) * CNY;
  const engineIface = kc.engine.interface;
  const kycIface = KycRegistry__factory.createInterface();
  const kycOfficer = (await dev.signers[1].getAddress()).toLowerCase();
  const expires = (await p.getBlock("latest"))!.timestamp + 365 * 86400;
  const rpc = <T>(method: string, params: unknown[]): Promise<T> =>
    withRetry(() => p.send(method, params) as Promise<T>, RETRY);
  const nonces = new Map<string, number>();
  for (const from of [admin, kycOfficer]) nonces.set(from, await p.getTransactionCount(from, "pending"));
  /** What each setup transaction sent, by hash: a transaction the node dropped is sent again as it was. */
  const sent = new Map<string, { from: string; to: string; data: string; nonce: number }>();
  /** Sends with its own nonce; the hash, or undefined when a re-send after a lost answer found it already in. */
  const sendRaw = async (tx: {
    from: string;
    to: string;
    data: string;
    nonce: number;
  }): Promise<string | undefined> => {
    let tried = false;
    const hash = await withRetry(async () => {
      try {
        return (await p.send("eth_sendTransaction", [
          {
            from: tx.from,
            to: tx.to,
            data: tx.data,
            gas: "0x" + SETUP_TX_GAS.toString(16),
            nonce: "0x" + tx.nonce.toString(16),
          },
        ])) as string;
      } catch (err) {
        if (tried && /already known|known transaction|nonce too low|already imported/i.test(String(err)))
          return undefined;
        if (isTransient(err)) tried = true;
        throw err;
      }
    }, RETRY);
    if (hash) sent.set(hash, tx);
    return hash;
  };
  const send = async (from: string, to: string, data: string): Promise<string | undefined> => {
    const nonce = nonces.get(from) ?? 0;
    nonces.set(from, nonce + 1);
    return sendRaw({ from, to, data, nonce });
  };
  // Mines until nothing is pending. (Stopping at the first empty block is not enough on anvil: the 100,000-account
  // run found account 9,040 without its debt — a transaction left pending, mined after the next step's.)
  const mineAll = async (): Promise<void> => {
    for (;;) {
      await rpc("evm_mine", []);
      const pending = await withRetry(() => p.send("eth_getBlockByNumber", ["pending", false]), RETRY);
      if (!pending || (pending as { transactions: string[] }).transactions.length === 0) return;
    }
  };
  /**
   * Every setup transaction of a step mined and successful, or the run stops here with the account named. A
   * transaction without a receipt is looked up: still in the node's pool, it gets more blocks; unknown to the node
   * (anvil dropped one at account 38,163 of the 100,000-account run), it is sent again with its nonce. Three tries.
   */
  const requireMined = async (hashes: (string | undefined)[], step: number, first: number): Promise<void> => {
    const current = [...hashes];
    for (let attempt = 0; ; attempt++) {
      const receipts = await Promise.all(
        current.map((h) => (h ? withRetry(() => p.getTransactionReceipt(h), RETRY) : Promise.resolve(undefined))),
      );
      const reverted = receipts.findIndex((r) => r !== null && r !== undefined && r.status !== 1);
      if (reverted >= 0) {
        // the engine's reason: the same call replayed on the state before its block
        const r = receipts[reverted]!;
        const tx = sent.get(current[reverted]!)!;
        const reason = await p.call({ from: tx.from, to: tx.to, data: tx.data, blockTag: r.blockNumber - 1 }).then(
          () => "the replay succeeds",
          (err: unknown) => String((err as { data?: string }).data ?? (err as Error).message).slice(0, 300),
        );
        throw new Error(
          `setup step ${step} of account ${first + reverted}: reverted in block ${r.blockNumber} (${reason})`,
        );
      }
      const missing = receipts.flatMap((r, j) => (r === null ? [j] : []));
      if (missing.length === 0) return;
      if (attempt === 3)
        throw new Error(`setup step ${step} of account ${first + missing[0]}: not mined (${missing.length} missing)`);
      let resent = 0;
      for (const j of missing) {
        const known = await withRetry(() => p.send("eth_getTransactionByHash", [current[j]]), RETRY);
        if (known) continue;
        current[j] = await sendRaw(sent.get(current[j]!)!);
        resent++;
      }
      benchLog.warn("setup transactions without a receipt", { step, first, missing: missing.length, resent, attempt });
      await mineAll();
    }
  };
  const gasLimit = (await p.getBlock("latest"))!.gasLimit;
  const stepGas = BigInt(step) * SETUP_TX_GAS + 1_000_000n;
  // on hardhat a step keeps filling 30 M-gas blocks (≈ 75 transactions each) as before: not measured otherwise
  const raise = raiseGasLimit && stepGas > gasLimit;
  if (raise) await rpc("evm_setBlockGasLimit", ["0x" + stepGas.toString(16)]);
  await rpc("evm_setAutomine", [false]);
  for (let s = 0; s < n; s += step) {
    const slice = accounts.slice(s, s + step);
    await Promise.all(
      slice.map(async (a) => {
        await rpc("hardhat_impersonateAccount", [a]);
        await rpc("hardhat_setBalance", [a, "0x56BC75E2D63100000"]);
      }),
    );
    // one kind of transaction per block: each step needs the previous one mined (verified, then collateral…)
    const steps: ((a: string, i: number) => Promise<string | undefined>)[] = [
      (a) =>
        send(kycOfficer, c.KycRegistry, kycIface.encodeFunctionData("setIdentity", [a, 5, 156, expires, keccakId(a)])),
      (a) =>
        send(
          admin,
          c.MarginEngine,
          engineIface.encodeFunctionData("transferBetweenAccounts", [dealer, a, small, UNITS]),
        ),
      (a, i) => send(a, c.MarginEngine, engineIface.encodeFunctionData("borrow", [debt(i)])),
      (a, i) =>
        send(
          admin,
          c.MarginEngine,
          engineIface.encodeFunctionData("transferBetweenAccounts", [a, dealer, cash, debt(i)]),
        ),
    ];
    for (const [k, step] of steps.entries()) {
      const hashes = await Promise.all(slice.map((a, j) => step(a, s + j)));
      await mineAll();
      await requireMined(hashes, k + 1, s);
    }
  }
  await rpc("evm_setAutomine", [true]);
  if (raise) {
    await rpc("evm_setBlockGasLimit", ["0x" + gasLimit.toString(16)]);
    await rpc("evm_mine", []);
  }
  // every account must be as designed, or the figures mean nothing
  for (let s = 0; s < n; s += 100) {
    const debts = await Promise.all(accounts.slice(s, s + 100).map((a) => withRetry(() => kc.engine.debtOf(a), RETRY)));
    const bad = debts.findIndex((d, j) => d.debt < debt(s + j));
    if (bad >= 0) throw new Error(`setup failed: account ${s + bad} owes ${debts[bad].debt}`);
  }
}

/**
 * The service's indexer over the set-up chain into a store (what `npm start` keeps), with the keeper's cursor at the
 * indexed head: the template each keeper's store is copied from, so that each starts as a keeper restarted there.
 */
async function indexEvents(dev: DevChain, dir: string): Promise<{ ms: number; events: number; head: number }> {
  const t = Date.now();
  const store = await openStore({ engine: "sqlite", path: path.join(dir, "indexed.sqlite") });
  const provider = new JsonRpcProvider(dev.chain.url, dev.record.chainId, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const indexer = new Indexer({
      name: "main",
      provider,
      store,
      handlers: [marginEngineHandler(dev.record.contracts.MarginEngine)],
      confirmations: 0,
      batchBlocks: 500,
      startBlock: dev.record.deployBlock,
      retry: RETRY,
      log: silentLogger,
    });
    const steps = await indexer.catchUp();
    const head = (await store.chain.cursor("main"))!.blockNumber;
    await store.keeper.setState("cursor", String(head));
    return { ms: Date.now() - t, events: steps.reduce((k, x) => k + x.events, 0), head };
  } finally {
    provider.destroy();
    await store.close();
  }
}

/** A store for one keeper run: a copy of the indexed template ("store"), or empty (a first start). */
async function keeperStore(dir: string, name: string, how: IndexPath): Promise<Store> {
  const file = path.join(dir, `keeper-${name}.sqlite`);
  if (how === "store") copyFileSync(path.join(dir, "indexed.sqlite"), file);
  return openStore({ engine: "sqlite", path: file });
}

/** The first tick of a keeper alone (its index build), for comparing the cold-start paths. */
async function indexBuildOnly(dev: DevChain, dir: string, how: IndexPath, n: number, m: number): Promise<void> {
  const store = await keeperStore(dir, `build-${how}`, how);
  const provider = new JsonRpcProvider(dev.chain.url, dev.record.chainId, { staticNetwork: true, cacheTimeout: -1 });
  const keeper = newKeeper(dev, store, provider, "batch", undefined, how === "lens" ? "lens" : "events");
  try {
    await timeIndexBuild(keeper, { mode: "batch", path: how, accounts: n, liquidatable: m });
  } finally {
    provider.destroy();
    await store.close();
  }
}

/** Times a keeper's first tick (its index build) and emits it with the memory held after a full collection. */
async function timeIndexBuild(keeper: Keeper, base: Record<string, unknown>): Promise<void> {
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const t = Date.now();
  await keeper.tick();
  const indexMs = Date.now() - t;
  collectGarbage();
  const mem = process.memoryUsage();
  emit({
    ...base,
    metric: "index_build",
    value: indexMs,
    perSecond: Math.round((keeper.index.size * 1000) / indexMs),
    unit: "ms",
    accountsIndexed: keeper.index.size,
    valuedOffchain: keeper.metrics.valuedOffchain,
    lensReads: keeper.metrics.reads,
    awaitingConfirmation: keeper.metrics.awaitingConfirmation,
    coldStartMs: keeper.metrics.coldStartMs,
    heapUsedMB: Math.round(mem.heapUsed / 2 ** 20),
    heapGrowthMB: Math.round((mem.heapUsed - heapBefore) / 2 ** 20),
    rssMB: Math.round(mem.rss / 2 ** 20),
  });
}

function newKeeper(
  dev: DevChain,
  store: Store,
  provider: JsonRpcProvider,
  mode: Mode,
  gasBudget?: bigint,
  indexFrom: "events" | "lens" = "events",
): Keeper {
  return new Keeper({
    store,
    provider,
    signer: rawSigner(DEV_KEYS.keeperKey),
    retry: RETRY,
    deployment: dev.record,
    settings: {
      ...DEFAULT_KEEPER_SETTINGS,
      signerKey: DEV_KEYS.keeperKey,
      resyncIntervalMs: 24 * 3600_000,
      readConcurrency: 16,
      mode,
      indexFrom,
      ...(gasBudget !== undefined ? { batchGasBudget: gasBudget } : {}),
    },
    // MB_BENCH_LOG=warn shows the keeper's warnings (on stderr)
    log: process.env.MB_BENCH_LOG
      ? createLogger({ level: process.env.MB_BENCH_LOG as "warn", sink: (l) => process.stderr.write(l + "\n") })
      : silentLogger,
  });
}

/** The index build and the two rounds with one keeper mode; returns its figures and the units it seized. */
async function runMode(
  dev: DevChain,
  kc: KeeperChain,
  dir: string,
  mode: Mode,
  n: number,
  m: number,
  gasBudget?: bigint,
): Promise<{ result: ModeResult; seized: bigint }> {
  // the one-by-one keeper builds its index as before (every account through the lens), the batch keeper from the
  // indexer's store: each run reports both paths
  const how: IndexPath = mode === "single" ? "lens" : "store";
  const store = await keeperStore(dir, mode, how);
  const provider = new JsonRpcProvider(dev.chain.url, dev.record.chainId, { staticNetwork: true, cacheTimeout: -1 });
  const keeper = newKeeper(dev, store, provider, mode, gasBudget, how === "lens" ? "lens" : "events");
  const base = { mode, accounts: n, liquidatable: m };
  try {
    await timeIndexBuild(keeper, { ...base, path: how });

    await kc.setPrice("mbSMALL", "49.5");
    const t = Date.now();
    const readsBefore = keeper.metrics.reads;
    await keeper.tick();
    emit({
      ...base,
      metric: "small_round_rechecked",
      value: keeper.metrics.lastRoundRechecked,
      unit: "accounts",
      ms: Date.now() - t,
      reads: keeper.metrics.reads - readsBefore,
      of: keeper.index.size,
    });

    const shock = await shockAndClear(dev, kc, keeper, store, m);
    const result: ModeResult = {
      mode,
      liquidated: keeper.metrics.liquidationsMined,
      blocks: shock.lastBlock - shock.roundBlock,
      seconds: shock.ms / 1000,
      perSecond: Math.round((keeper.metrics.liquidationsMined * 10_000) / shock.ms) / 10,
      gasPerLiquidation: Number(keeper.metrics.gasUsed / BigInt(Math.max(1, keeper.metrics.liquidationsMined))),
    };
    emit({
      ...base,
      metric: "shock_round_rechecked",
      value: shock.rechecked,
      unit: "accounts",
      sentOnPrediction: shock.predicted,
      of: keeper.index.size,
    });
    emit({
      ...base,
      metric: "all_liquidated",
      liquidated: result.liquidated,
      transactions: keeper.metrics.txsMined,
      segments: keeper.metrics.segmentsLiquidated,
      blocks: result.blocks,
      seconds: result.seconds,
      secondsToVerified: shock.verifiedMs / 1000,
      perSecond: result.perSecond,
      gasPerLiquidation: result.gasPerLiquidation,
      latencyMs: shock.latency,
      intents: await store.keeper.intentCounts(),
      states: keeper.index.countByState(),
    });
    return { result, seized: shock.seized };
  } finally {
    provider.destroy();
    await store.close();
  }
}

interface ShockFigures {
  roundBlock: number;
  lastBlock: number;
  /** Shock round → last liquidation mined, and → the keeper's re-read saw no liquidatable account left. */
  ms: number;
  verifiedMs: number;
  rechecked: number;
  predicted: number;
  seized: bigint;
  latency: { median: number; max: number };
  /** Units of mbSMALL seized per block that had a liquidation. */
  perBlock: Map<number, bigint>;
}

/**
 * The shock round (→ 30) and keeper ticks until no account is liquidatable and every one of them was liquidated;
 * `betweenTicks` may move the chain on (the capped run opens the next seizure window when nothing moves).
 */
async function shockAndClear(
  dev: DevChain,
  kc: KeeperChain,
  keeper: Keeper,
  store: Store,
  m: number,
  betweenTicks?: (progressed: boolean) => Promise<void>,
): Promise<ShockFigures> {
  const start = Date.now();
  await kc.setPrice("mbSMALL", "30");
  const roundBlock = await withRetry(() => dev.chain.provider.getBlockNumber(), RETRY);
  const recheckedBefore = keeper.metrics.recheckedOnRounds;
  const predictedBefore = keeper.metrics.predicted;
  for (;;) {
    const before = keeper.metrics.liquidationsMined;
    await keeper.tick();
    const states = keeper.index.countByState();
    if (keeper.metrics.liquidationsMined >= m && states.Liquidatable + states.Defaulted === 0) break;
    if (Date.now() - start > 60 * 60_000) throw new Error("liquidations did not finish within an hour");
    await betweenTicks?.(keeper.metrics.liquidationsMined > before);
  }
  const verifiedMs = Date.now() - start;
  // accounts the shock round selected (re-read, or sent on the index's prediction in batch mode)
  const rechecked = keeper.metrics.recheckedOnRounds - recheckedBefore;
  const predicted = keeper.metrics.predicted - predictedBefore;
  const engine = MarginEngine__factory.connect(dev.record.contracts.MarginEngine, dev.chain.provider);
  const logs = await withRetry(
    () => engine.queryFilter(engine.filters.Liquidated(undefined, keeper.liquidator.address), roundBlock, "latest"),
    RETRY,
  );
  const perBlock = new Map<number, bigint>();
  let seized = 0n;
  let lastBlock = roundBlock;
  for (const l of logs) {
    seized += l.args.units;
    perBlock.set(l.blockNumber, (perBlock.get(l.blockNumber) ?? 0n) + l.args.units);
    lastBlock = Math.max(lastBlock, l.blockNumber);
  }
  // round → mined latency per liquidated account (each account of a batch carries the batch's latency)
  const samples: number[] = [];
  let lastMinedAt = start;
  for (const i of await store.keeper.intents(1_000_000))
    if (i.status === "mined" && i.minedAt !== null) {
      for (let k = 0; k < i.accounts; k++) samples.push(i.minedAt - i.triggerAt);
      lastMinedAt = Math.max(lastMinedAt, i.minedAt);
    }
  samples.sort((a, b) => a - b);
  const latency = { median: samples[Math.floor(samples.length / 2)] ?? 0, max: samples[samples.length - 1] ?? 0 };
  // shock round → the last liquidation mined (as seen by the keeper); the loop also waits for the re-read after it
  const ms = Math.max(1, lastMinedAt - start);
  return { roundBlock, lastBlock, ms, verifiedMs, rechecked, predicted, seized, latency, perBlock };
}

/**
 * The batch keeper with a per-window seizure cap of `cap` units: each time a tick liquidates nothing while accounts
 * are still liquidatable, the chain moves on one window (evm_increaseTime) — the caps, not the keeper, set the pace.
 */
async function runCapped(
  dev: DevChain,
  kc: KeeperChain,
  dir: string,
  n: number,
  m: number,
  cap: bigint,
  blockMs: number,
  gasBudget?: bigint,
): Promise<void> {
  const small = await kc.tokens.mbSMALL.getAddress();
  const window = Number((await kc.engine.params()).liquidationWindow);
  await kc.engine.connect(dev.signers[3]).configureAsset(small, 3, WAD / 10n, WAD / 10n, cap);
  const store = await keeperStore(dir, "capped", "store");
  const provider = new JsonRpcProvider(dev.chain.url, dev.record.chainId, { staticNetwork: true, cacheTimeout: -1 });
  const keeper = newKeeper(dev, store, provider, "batch", gasBudget);
  try {
    await keeper.tick();
    await kc.setPrice("mbSMALL", "49.5");
    await keeper.tick();
    let windows = 1;
    let idle = 0;
    let lastProgress = Date.now();
    const windowStarts: number[] = [];
    const shock = await shockAndClear(dev, kc, keeper, store, m, async (progressed) => {
      if (process.env.MB_BENCH_LOG)
        process.stderr.write(
          JSON.stringify({
            capped: keeper.metrics.liquidationsMined,
            heldByCap: keeper.metrics.heldByCap,
            skipped: keeper.metrics.accountsSkipped,
            states: keeper.index.countByState(),
            windows,
          }) + "\n",
        );
      // the window moves only when nothing is in flight and two block intervals passed without a liquidation
      if (progressed) lastProgress = Date.now();
      idle = progressed ? 0 : idle + 1;
      if (idle < 2 || Date.now() - lastProgress < 2 * Math.max(blockMs, 500)) return;
      if ((await store.keeper.pendingIntents()).length > 0) return;
      idle = 0;
      await withRetry(() => dev.chain.provider.send("evm_increaseTime", [window]), RETRY);
      await withRetry(() => dev.chain.provider.send("evm_mine", []), RETRY);
      windowStarts.push(await withRetry(() => dev.chain.provider.getBlockNumber(), RETRY));
      windows++;
    });
    // units seized per window: blocks before the first window move, between moves, after the last
    const perWindow: string[] = [];
    const bounds = [shock.roundBlock, ...windowStarts, Number.MAX_SAFE_INTEGER];
    for (let w = 0; w + 1 < bounds.length; w++) {
      let units = 0n;
      for (const [b, u] of shock.perBlock) if (b > bounds[w] && b <= bounds[w + 1]) units += u;
      perWindow.push(units.toString());
    }
    emit({
      mode: "batch",
      caps: "on",
      metric: "all_liquidated_capped",
      accounts: n,
      liquidatable: m,
      capUnitsPerWindow: cap,
      windowSeconds: window,
      windows,
      seizedPerWindow: perWindow,
      liquidated: keeper.metrics.liquidationsMined,
      transactions: keeper.metrics.txsMined,
      skippedInBatches: keeper.metrics.accountsSkipped,
      heldByCap: keeper.metrics.heldByCap,
      blocksWithLiquidations: shock.perBlock.size,
      blocks: shock.lastBlock - shock.roundBlock,
      seconds: shock.ms / 1000,
      gasPerLiquidation: Number(keeper.metrics.gasUsed / BigInt(Math.max(1, keeper.metrics.liquidationsMined))),
    });
  } finally {
    provider.destroy();
    await store.close();
  }
}

/**
 * The chain process's resident memory (VmRSS), sampled every 2 s: its peak and last value since the previous phase.
 * Linux only (/proc); elsewhere every figure is null.
 */
class NodeMemory {
  private peakKb = 0;
  private lastKb = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly pid: number | undefined) {
    if (pid === undefined || !existsSync(`/proc/${pid}/status`)) return;
    this.timer = setInterval(() => this.sample(), 2_000);
    this.timer.unref();
    this.sample();
  }

  private sample(): void {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"))?.[1] ?? 0);
      this.lastKb = kb;
      this.peakKb = Math.max(this.peakKb, kb);
    } catch {
      // the process is gone: keep the last figures
    }
  }

  /** Peak and current resident memory (MB) since the last call, then starts the next phase's peak. */
  phase(): { peakMB: number | null; nowMB: number | null } {
    if (this.timer === undefined) return { peakMB: null, nowMB: null };
    this.sample();
    const out = { peakMB: Math.round(this.peakKb / 1024), nowMB: Math.round(this.lastKb / 1024) };
    this.peakKb = this.lastKb;
    return out;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}

/**
 * Anvil's blocks every `blockMs`, mined by the bench (evm_mine) rather than with evm_setIntervalMining: for an
 * interval of 2 s or less anvil raises the states it keeps in memory to 1,500 blocks whatever `--prune-history`
 * says, and never lowers it in that mode (anvil's `InMemoryBlockStates::update_interval_mine_block_time`). Each state
 * is a full copy, ≈ 15 MB at 20,000 accounts: the stop-33 run at 100,000 went from 6 GB to the kernel's OOM killer
 * (23.9 GB) in the shock round, a block a second. One block at a time: a tick that finds the last still being mined
 * waits for the next.
 */
class BlockMiner {
  private readonly timer: NodeJS.Timeout;
  private mining: Promise<unknown> | undefined;
  private paused = false;

  constructor(
    private readonly rpc: <T>(method: string, params: unknown[]) => Promise<T>,
    blockMs: number,
  ) {
    this.timer = setInterval(() => this.tick(), blockMs);
  }

  private tick(): void {
    if (this.paused || this.mining) return;
    this.mining = this.rpc("evm_mine", [])
      .catch((err: unknown) => benchLog.warn("evm_mine failed", { err: String((err as Error)?.message ?? err) }))
      .finally(() => (this.mining = undefined));
  }

  /** No block from here until resume(); waits for one being mined. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.mining;
  }

  resume(): void {
    this.paused = false;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
