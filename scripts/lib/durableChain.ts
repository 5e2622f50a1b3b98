import { promises as fs } from "node:fs";
import path from "node:path";
import { startLocalChain, type LocalChain } from "./localChain";
import { BlockLog, CorruptLogError } from "./durableChain/blockLog";
import type { BlockRecord } from "./durableChain/blockRecord";
import { DurableChainError } from "./durableChain/errors";
import {
  defaultChainParams,
  readManifest,
  renderNodeConfig,
  writeFileDurably,
  type ChainManifest,
  type ChainParams,
} from "./durableChain/manifest";
import { Recorder } from "./durableChain/recorder";
import { replayBlocks, ReplayMismatchError, type ReplayStats } from "./durableChain/replay";
import { Rpc } from "./durableChain/rpc";

export { DurableChainError, type DurableChainProblem } from "./durableChain/errors";
export { PortInUseError } from "./localChain";
export type { ChainManifest, ChainParams } from "./durableChain/manifest";
export type { BlockRecord } from "./durableChain/blockRecord";
export type { ReplayStats } from "./durableChain/replay";

export interface DurableChainOptions {
  /** The service's data directory; the chain lives in <dataDir>/chain. */
  dataDir: string;
  port: number;
  /** Chain id of a new chain (default 31337); a recorded chain with another id is refused. */
  chainId?: number;
  /** The command printed in refusals to discard the recorded chain. Default: `rm -rf '<dataDir>/chain'`. */
  resetCommand?: string;
  /** Progress and warnings, one line each. */
  log?: (line: string) => void;
  /** false: the node's stdout (accounts, mined blocks) goes to ours. */
  silent?: boolean;
  /**
   * Called once if recording stops while the chain runs (the node died, or a block cannot be recorded). From
   * then on new blocks are not durable: `npm start` should stop the service.
   */
  onFailure?: (err: Error) => void;
  /** Fallback poll of the recorder (the newHeads subscription is the fast path). Default 500 ms. */
  pollIntervalMs?: number;
}

export interface DurableChain extends LocalChain {
  /** <dataDir>/chain: manifest.json, blocks.jsonl, the generated node config and the lock. */
  chainDir: string;
  manifest: ChainManifest;
  /** What this start replayed (zero blocks on a new chain). */
  replayed: ReplayStats;
  /** The highest block number recorded on disk. A block above it is lost if the machine stops now. */
  durableBlockNumber(): number;
  /**
   * Resolves once blockNumber (default: the node's head now) is on disk. The service must not commit state
   * that refers to a block (or a transaction in it) before this resolves for that block.
   */
  waitDurable(blockNumber?: number): Promise<number>;
  /** Records what is left, stops the node and releases the data directory. */
  stop(): Promise<void>;
}

const PROJECT_ROOT = path.join(__dirname, "..", "..");
const heldLocks = new Set<string>();

/**
 * Starts a hardhat node whose chain survives restarts: the first start pins the genesis in
 * <dataDir>/chain/manifest.json; every start replays <dataDir>/chain/blocks.jsonl into a fresh node and checks
 * each block's hash before serving; while it runs, every mined block is appended to that log. Refuses, with a
 * DurableChainError naming the reset command, when the data directory and the node disagree.
 */
export async function startDurableChain(opts: DurableChainOptions): Promise<DurableChain> {
  const chainDir = path.resolve(opts.dataDir, "chain");
  const files = {
    manifest: path.join(chainDir, "manifest.json"),
    log: path.join(chainDir, "blocks.jsonl"),
    nodeConfig: path.join(chainDir, "hardhat.node.config.js"),
  };
  const resetCommand = opts.resetCommand ?? `rm -rf ${shellQuote(chainDir)}`;
  const log = opts.log ?? (() => undefined);
  const refuse: Refuse = (code, summary, details) => new DurableChainError(code, summary, details, resetCommand);

  await fs.mkdir(chainDir, { recursive: true });
  const releaseLock = await acquireLock(chainDir, opts.port, refuse);
  let chain: LocalChain | undefined;
  let blockLog: BlockLog | undefined;
  let rpc: Rpc | undefined;
  try {
    let manifest = await readRecordedManifest(files, chainDir, opts.chainId, refuse);
    const params = manifest?.params ?? defaultChainParams(opts.chainId ?? 31337, new Date());
    if (manifest) blockLog = await openLog(files.log, manifest.genesisHash, refuse, log);

    await fs.writeFile(files.nodeConfig, renderNodeConfig(params, PROJECT_ROOT));
    chain = await startLocalChain(opts.port, {
      configFile: files.nodeConfig,
      stdinPipe: true,
      ownProcessGroup: true, // Ctrl-C stops us first; stop() then records the last blocks before the node goes
      silent: opts.silent,
    });
    rpc = await Rpc.connect(chain.url);
    const genesisHash = await checkNodeIdentity(rpc, params, manifest, chainDir, refuse);
    if (!manifest) {
      manifest = { format: "marginbridge-durable-chain/1", params, genesisHash, hardhatVersion: hardhatVersion() };
      await writeFileDurably(files.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
      blockLog = await openLog(files.log, genesisHash, refuse, log);
      log(`new chain ${params.chainId} (genesis ${genesisHash}) recorded in ${chainDir}`);
    }
    const openedLog = blockLog as BlockLog;

    const connection = rpc;
    const replayed = await replayOrRefuse(connection, openedLog, files.log, refuse);
    if (replayed.blocks > 0)
      log(
        `replayed ${replayed.blocks} blocks (${replayed.transactions} transactions) in ` +
          `${Math.round(replayed.milliseconds)} ms; head ${openedLog.hashOf(openedLog.head)}`,
      );
    await resumeClock(connection, openedLog, params);

    const recorder = new Recorder({
      rpc: connection,
      wsUrl: chain.url.replace(/^http/, "ws"),
      log: openedLog,
      pollIntervalMs: opts.pollIntervalMs ?? 500,
      onFailure: (err) => {
        log(`durable chain: recording stopped: ${err.message}`);
        opts.onFailure?.(err);
      },
      onRewind: (from, to) => log(`durable chain: the node went back from block ${from} to ${to}; log truncated`),
    });
    await recorder.start();

    let stopping = false;
    const node = chain;
    node.process.once("exit", (code, signal) => {
      if (!stopping)
        recorder.fail(new Error(`the hardhat node exited (${signal ?? code}) while the chain was running`));
    });
    return {
      ...node,
      chainDir,
      manifest,
      replayed,
      durableBlockNumber: () => recorder.durableHead,
      waitDurable: (blockNumber) => recorder.waitDurable(blockNumber),
      async stop() {
        if (stopping) return;
        stopping = true;
        const alive = node.process.exitCode === null && node.process.signalCode === null;
        await recorder.stop(alive);
        connection.close();
        await node.stop();
        await openedLog.close();
        await releaseLock();
      },
    };
  } catch (err) {
    rpc?.close();
    await chain?.stop();
    await blockLog?.close();
    await releaseLock();
    throw err;
  }
}

/** The manifest if the data directory already holds a chain; refuses what cannot be that chain. */
async function readRecordedManifest(
  files: { manifest: string; log: string },
  chainDir: string,
  requestedChainId: number | undefined,
  refuse: Refuse,
): Promise<ChainManifest | undefined> {
  let manifest: ChainManifest | undefined;
  try {
    manifest = await readManifest(files.manifest);
  } catch (err) {
    throw refuse("CORRUPT_RECORD", `${files.manifest} is not a chain manifest.`, { error: String(err) });
  }
  if (!manifest && (await fileSize(files.log)) > 0)
    throw refuse("CORRUPT_RECORD", `${files.log} holds blocks but ${files.manifest} is missing.`, {});
  if (manifest && requestedChainId !== undefined && requestedChainId !== manifest.params.chainId)
    throw refuse("CHAIN_MISMATCH", "The data directory holds another chain than the one asked for.", {
      "recorded chain id": manifest.params.chainId,
      "requested chain id": requestedChainId,
      "data directory": chainDir,
    });
  return manifest;
}

/** The node's genesis hash, once its chain id and genesis are those recorded. */
async function checkNodeIdentity(
  rpc: Rpc,
  params: ChainParams,
  manifest: ChainManifest | undefined,
  chainDir: string,
  refuse: Refuse,
): Promise<string> {
  const nodeChainId = Number(await rpc.call<string>("eth_chainId"));
  const genesisHash = (await rpc.call<{ hash: string }>("eth_getBlockByNumber", ["0x0", false])).hash;
  if (nodeChainId !== params.chainId || (manifest && genesisHash !== manifest.genesisHash))
    throw refuse("CHAIN_MISMATCH", "The node's chain is not the chain recorded in the data directory.", {
      "recorded chain id": params.chainId,
      "node chain id": nodeChainId,
      "recorded genesis": manifest?.genesisHash ?? "(new)",
      "node genesis": genesisHash,
      "data directory": chainDir,
    });
  return genesisHash;
}

async function replayOrRefuse(rpc: Rpc, blockLog: BlockLog, logFile: string, refuse: Refuse): Promise<ReplayStats> {
  try {
    return await replayBlocks(rpc, blockLog.blocks);
  } catch (err) {
    if (!(err instanceof ReplayMismatchError)) throw err;
    throw refuse("REPLAY_MISMATCH", `Replaying the recorded chain failed at block ${err.blockNumber}.`, {
      reason: err.reason,
      "recorded hash": err.expectedHash,
      "replayed hash": err.actualHash ?? "(not mined)",
      record: `${logFile} line ${err.blockNumber}`,
    });
  }
}

async function openLog(
  file: string,
  genesisHash: string,
  refuse: Refuse,
  log: (line: string) => void,
): Promise<BlockLog> {
  try {
    const { log: opened, droppedTailBytes } = await BlockLog.open(file, genesisHash);
    if (droppedTailBytes > 0)
      log(`durable chain: dropped an unfinished last record (${droppedTailBytes} bytes) cut by a crash`);
    return opened;
  } catch (err) {
    if (!(err instanceof CorruptLogError)) throw err;
    throw refuse("CORRUPT_RECORD", `The block log is not one unbroken chain.`, {
      record: `${file} line ${err.line}`,
      reason: err.reason,
    });
  }
}

/**
 * The replayed node's clock stands at the last block's time. Move it to where the chain's clock would be had
 * it kept running while stopped: wall-clock now plus the lead the chain had over the wall clock when its last
 * block was recorded (evm_increaseTime jumps included). Never backwards.
 */
async function resumeClock(rpc: Rpc, blockLog: BlockLog, params: ChainParams): Promise<void> {
  const last: Pick<BlockRecord, "timestamp" | "recordedAt"> | undefined = blockLog.blocks[blockLog.head - 1];
  const genesisTime = Math.floor(Date.parse(params.initialDate) / 1000);
  const lead = last ? last.timestamp - last.recordedAt : 0;
  const lastTime = last ? last.timestamp : genesisTime;
  const pending = await rpc.call<{ timestamp: string }>("eth_getBlockByNumber", ["pending", false]);
  const target = Math.max(Math.floor(Date.now() / 1000) + lead, lastTime + 1);
  const behind = target - Number(pending.timestamp);
  if (behind > 0) await rpc.call("evm_increaseTime", [behind]);
}

type Refuse = (
  code: DurableChainError["code"],
  summary: string,
  details: Record<string, string | number>,
) => DurableChainError;

/** <chainDir>/LOCK holds the owner's pid: a second process on the same data directory is refused. */
async function acquireLock(chainDir: string, port: number, refuse: Refuse): Promise<() => Promise<void>> {
  const file = path.join(chainDir, "LOCK");
  if (heldLocks.has(file))
    throw refuse("DATA_DIR_IN_USE", "This process already runs a durable chain on this data directory.", {
      "data directory": chainDir,
    });
  try {
    const owner = JSON.parse(await fs.readFile(file, "utf8")) as { pid: number; port: number };
    if (processAlive(owner.pid))
      throw refuse("DATA_DIR_IN_USE", "Another process runs a durable chain on this data directory.", {
        pid: owner.pid,
        port: owner.port,
        "data directory": chainDir,
      });
  } catch (err) {
    if (err instanceof DurableChainError) throw err;
    // No lock, or a stale one from a process that died: ours now.
  }
  await fs.writeFile(file, JSON.stringify({ pid: process.pid, port }));
  heldLocks.add(file);
  return async () => {
    if (!heldLocks.delete(file)) return;
    await fs.rm(file, { force: true });
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

function hardhatVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(require.resolve("hardhat/package.json", { paths: [PROJECT_ROOT] })) as { version: string }).version;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
