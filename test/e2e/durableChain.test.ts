import { expect } from "chai";
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { encodeBytes32String, JsonRpcSigner, toQuantity, type JsonRpcProvider } from "ethers";
import {
  DurableChainError,
  PortInUseError,
  startDurableChain,
  type DurableChain,
  type DurableChainOptions,
} from "../../scripts/lib/durableChain";
import { assertPortFree, startLocalChain } from "../../scripts/lib/localChain";
import { deployAll, devRoleHolders, type DeploymentRecord } from "../../scripts/deploy/index";
import { CollateralToken__factory, KycRegistry__factory } from "../../typechain-types";

// Ports 8651-8659 belong to this suite.
const PORT = { main: 8651, restart: 8652, kill: 8653, owner: 8654, busy: 8655, refuse: 8656, bench: 8657 };
const ROOT = path.join(__dirname, "..", "..");

interface ChainSnapshot {
  head: number;
  hashes: string[];
  balances: string[];
  clientCash: bigint;
  cashSupply: bigint;
  clientVerified: boolean;
}

async function snapshot(provider: JsonRpcProvider, record?: DeploymentRecord, client?: string): Promise<ChainSnapshot> {
  // Straight to the node: ethers caches getBlockNumber() for 250 ms.
  const head = Number(await provider.send("eth_blockNumber", []));
  const hashes: string[] = [];
  for (let n = 0; n <= head; n++) hashes.push((await provider.getBlock(n))!.hash!);
  const accounts = (await provider.send("eth_accounts", [])) as string[];
  const holders = [...accounts.slice(0, 12), "0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e", COINBASE, WHALE];
  const balances = await Promise.all(holders.map(async (a) => (await provider.getBalance(a)).toString()));
  if (!record || !client) return { head, hashes, balances, clientCash: 0n, cashSupply: 0n, clientVerified: false };
  const cash = CollateralToken__factory.connect(record.contracts.mbCNY, provider);
  const kyc = KycRegistry__factory.connect(record.contracts.KycRegistry, provider);
  return {
    head,
    hashes,
    balances,
    clientCash: await cash.balanceOf(client),
    cashSupply: await cash.totalSupply(),
    clientVerified: await kyc.isVerified(client),
  };
}

const COINBASE = "0x00000000000000000000000000000000000c0b1e";
const WHALE = "0x00000000000000000000000000000000000dead1";

describe("durable local chain: a hardhat node whose blocks survive restarts", function () {
  this.timeout(120_000);
  const running: DurableChain[] = [];
  const dirs: string[] = [];
  const logs: string[] = [];

  async function newDataDir(): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "mb-durable-"));
    dirs.push(dir);
    return dir;
  }
  async function start(opts: DurableChainOptions): Promise<DurableChain> {
    const chain = await startDurableChain({ log: (l) => logs.push(l), ...opts });
    running.push(chain);
    return chain;
  }
  async function refusal(opts: DurableChainOptions): Promise<DurableChainError> {
    try {
      await start(opts);
    } catch (err) {
      if (err instanceof DurableChainError) return err;
      throw err;
    }
    throw new Error("startDurableChain did not refuse");
  }

  afterEach(async () => {
    for (const chain of running.splice(0)) await chain.stop();
  });
  after(async () => {
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  });

  let recordedDir: string;
  let recorded: ChainSnapshot;

  it("replays deployments, unlocked-account transfers, a three-transaction block, a coinbase change, impersonated senders and time jumps into identical blocks, balances and contract state", async () => {
    recordedDir = await newDataDir();
    const first = await start({ dataDir: recordedDir, port: PORT.main });
    const provider = first.provider;
    const signers = await Promise.all(Array.from({ length: 12 }, (_, i) => provider.getSigner(i)));
    const record = await deployAll(
      { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
      "localhost",
    );
    const client = await signers[10].getAddress();
    const kyc = KycRegistry__factory.connect(record.contracts.KycRegistry, signers[1]);
    const now = (await provider.getBlock("latest"))!.timestamp;
    await (await kyc.setIdentity(client, 2, 156, now + 30 * 86_400, encodeBytes32String("client-a"))).wait();
    const cash = CollateralToken__factory.connect(record.contracts.mbCNY, signers[2]);
    await (await cash.mint(client, 100_000n * 10n ** 6n, encodeBytes32String("custody-0001"))).wait();
    await (await signers[5].sendTransaction({ to: client, value: 10n ** 18n })).wait();

    // One block, three senders, three transaction types and tips: the replay must keep the block's order.
    await provider.send("evm_setAutomine", [false]);
    const legacy = await signers[6].sendTransaction({ to: client, value: 1n, type: 0, gasPrice: 3n * 10n ** 9n });
    const accessList = await signers[7].sendTransaction({ to: client, value: 2n, type: 1, gasPrice: 5n * 10n ** 9n });
    const dynamic = await signers[8].sendTransaction({ to: client, value: 3n, maxPriorityFeePerGas: 10n ** 9n });
    await provider.send("evm_mine", []);
    await provider.send("evm_setAutomine", [true]);
    const multi = await legacy.wait();
    expect((await provider.getBlock(multi!.blockNumber))!.transactions).to.have.members([
      legacy.hash,
      accessList.hash,
      dynamic.hash,
    ]);

    await provider.send("hardhat_setCoinbase", [COINBASE]);
    await (await signers[9].sendTransaction({ to: client, value: 4n })).wait();
    // An impersonated sender has no key: its transactions are replayed by impersonating it again.
    await (await signers[0].sendTransaction({ to: WHALE, value: 10n ** 18n })).wait();
    await provider.send("hardhat_impersonateAccount", [WHALE]);
    await (await new JsonRpcSigner(provider, WHALE).sendTransaction({ to: client, value: 6n })).wait();
    await provider.send("eth_sendTransaction", [{ from: WHALE, to: client, value: "0x7", gasPrice: "0x77359400" }]);
    await provider.send("hardhat_stopImpersonatingAccount", [WHALE]);
    await provider.send("evm_increaseTime", [86_400]);
    await provider.send("evm_mine", []);
    await provider.send("hardhat_mine", ["0x3", "0x3c"]);
    // Long enough for EDR to reserve the middle blocks instead of building them.
    await provider.send("hardhat_mine", ["0x64", "0xc"]);

    recorded = await snapshot(provider, record, client);
    expect(await first.waitDurable()).to.equal(recorded.head);
    await first.stop();

    const second = await start({ dataDir: recordedDir, port: PORT.restart });
    expect(second.replayed.blocks).to.equal(recorded.head);
    const replayed = await snapshot(second.provider, record, client);
    expect(replayed).to.deep.equal(recorded);
    expect(replayed.clientCash).to.equal(100_000n * 10n ** 6n);
    expect(replayed.clientVerified).to.equal(true);

    // It carries on: the clock does not go back, and the new block is recorded too.
    const last = (await second.provider.getBlock(recorded.head))!;
    const signer = await second.provider.getSigner(3);
    const receipt = await (await signer.sendTransaction({ to: client, value: 5n })).wait();
    const next = (await second.provider.getBlock(receipt!.blockNumber))!;
    expect(next.number).to.equal(recorded.head + 1);
    expect(next.timestamp).to.be.greaterThan(last.timestamp);
    expect(next.timestamp).to.be.at.least(Math.floor(Date.now() / 1000) + 86_400 - 5);
    expect(next.miner.toLowerCase()).to.equal(COINBASE);
    expect(await second.waitDurable(next.number)).to.equal(next.number);
    await second.stop();
    recorded = { ...recorded, head: next.number, hashes: [...recorded.hashes, next.hash!] };
  });

  it("pins the genesis in the manifest: chain id, genesis time, hardfork, accounts and the genesis hash", async () => {
    const manifest = JSON.parse(await fs.readFile(path.join(recordedDir, "chain", "manifest.json"), "utf8"));
    expect(manifest.params.chainId).to.equal(31337);
    expect(manifest.genesisHash).to.equal(recorded.hashes[0]);
    expect(manifest.params.accounts.mnemonic).to.equal("test test test test test test test test test test test junk");
    const lines = (await fs.readFile(path.join(recordedDir, "chain", "blocks.jsonl"), "utf8")).trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).hash)).to.deep.equal(recorded.hashes.slice(1));
    // hardhat_mine(100) left 97 reserved blocks (zero parentHash) between real ones, and they replayed.
    expect(lines.filter((l) => JSON.parse(l).parentHash === `0x${"0".repeat(64)}`)).to.have.length(97);
    // The two impersonated transactions are kept as fields to re-send, every other one as signed bytes.
    const txs = lines.flatMap((l) => JSON.parse(l).rawTxs as unknown[]);
    expect(txs.filter((t) => typeof t !== "string").map((t) => (t as { from: string }).from)).to.deep.equal([
      WHALE,
      WHALE,
    ]);
  });

  it("follows evm_revert, keeps every recorded block when the node is killed with SIGKILL, and drops a record cut mid-write", async () => {
    const dataDir = await newDataDir();
    const failures: Error[] = [];
    const chain = await start({ dataDir, port: PORT.kill, onFailure: (err) => failures.push(err) });
    const signer = await chain.provider.getSigner(1);
    for (let i = 0; i < 5; i++) await (await signer.sendTransaction({ to: COINBASE, value: 1000n + BigInt(i) })).wait();
    // evm_revert takes recorded blocks back: the log forgets them and records the blocks that replace them.
    const snapshotId = await chain.provider.send("evm_snapshot", []);
    await (await signer.sendTransaction({ to: COINBASE, value: 1n })).wait();
    await (await signer.sendTransaction({ to: COINBASE, value: 2n })).wait();
    await chain.waitDurable();
    await chain.provider.send("evm_revert", [snapshotId]);
    await (await signer.sendTransaction({ to: COINBASE, value: 3n })).wait();
    const before = await snapshot(chain.provider);
    await chain.waitDurable(before.head);
    const exited = new Promise((resolve) => chain.process.once("exit", resolve));
    chain.process.kill("SIGKILL");
    await exited;
    expect(failures.map((e) => e.message)).to.deep.equal([
      "the hardhat node exited (SIGKILL) while the chain was running",
    ]);
    await chain.stop();
    await fs.appendFile(path.join(dataDir, "chain", "blocks.jsonl"), '{"number":6,"hash":"0x12');

    const again = await start({ dataDir, port: PORT.kill });
    expect(await snapshot(again.provider)).to.deep.equal(before);
    expect(logs.some((l) => l.includes("the node went back from block 7 to 5"))).to.equal(true);
    expect(logs.some((l) => l.includes("dropped an unfinished last record"))).to.equal(true);
  });

  it("survives kill -9 of the process that owns the chain: the node goes down with it and the chain restarts", async () => {
    const dataDir = await newDataDir();
    const { owner, ready } = spawnOwner(dataDir, PORT.owner);
    const reported = await ready;
    owner.kill("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (isAlive(reported.node)) {
      expect(Date.now()).to.be.below(deadline, "the hardhat node outlived its owner");
      await new Promise((r) => setTimeout(r, 50));
    }

    const again = await start({ dataDir, port: PORT.owner });
    expect(await again.provider.getBlockNumber()).to.equal(reported.head);
    expect((await again.provider.getBlock(reported.head))!.hash).to.equal(reported.hash);
  });

  it("on Ctrl-C (SIGINT to the whole process group) the node outlives its owner's shutdown work, which is recorded", async () => {
    const dataDir = await newDataDir();
    const { owner, ready, lines } = spawnOwner(dataDir, PORT.owner);
    await ready;
    const exited = new Promise<number | null>((resolve) => owner.once("exit", resolve));
    process.kill(-owner.pid!, "SIGINT");
    expect(await exited).to.equal(0);
    const stopped = JSON.parse(lines[1]) as { head: number; hash: string };

    const again = await start({ dataDir, port: PORT.owner });
    expect(await again.provider.getBlockNumber()).to.equal(stopped.head);
    expect((await again.provider.getBlock(stopped.head))!.hash).to.equal(stopped.hash);
  });

  it("refuses a tampered record, naming the block and the reset command, and leaves no node behind", async () => {
    const dataDir = await newDataDir();
    await fs.cp(path.join(recordedDir, "chain"), path.join(dataDir, "chain"), { recursive: true });
    const file = path.join(dataDir, "chain", "blocks.jsonl");
    const lines = (await fs.readFile(file, "utf8")).trim().split("\n");
    const tampered = JSON.parse(lines[9]);
    tampered.timestamp += 1;
    lines[9] = JSON.stringify(tampered);
    await fs.writeFile(file, `${lines.join("\n")}\n`);

    const err = await refusal({ dataDir, port: PORT.refuse });
    expect(err.code).to.equal("REPLAY_MISMATCH");
    expect(err.message).to.include("Replaying the recorded chain failed at block 10.");
    expect(err.message).to.include(`recorded hash: ${recorded.hashes[10]}`);
    expect(err.message).to.include(`rm -rf '${path.join(dataDir, "chain")}'`);
    await assertPortFree(PORT.refuse);
  });

  it("drops reserved blocks left at the end of the log by a cut append, and starts from the real block before them", async () => {
    const dataDir = await newDataDir();
    await fs.cp(path.join(recordedDir, "chain"), path.join(dataDir, "chain"), { recursive: true });
    const file = path.join(dataDir, "chain", "blocks.jsonl");
    const lines = (await fs.readFile(file, "utf8")).trim().split("\n");
    const firstReserved = lines.findIndex((l) => JSON.parse(l).parentHash === `0x${"0".repeat(64)}`);
    await fs.writeFile(file, `${lines.slice(0, firstReserved + 10).join("\n")}\n`);

    const chain = await start({ dataDir, port: PORT.refuse });
    expect(chain.replayed.blocks).to.equal(firstReserved);
    expect((await chain.provider.getBlock(firstReserved))!.hash).to.equal(recorded.hashes[firstReserved]);
  });

  it("refuses a log whose lines do not chain (a block removed)", async () => {
    const dataDir = await newDataDir();
    await fs.cp(path.join(recordedDir, "chain"), path.join(dataDir, "chain"), { recursive: true });
    const file = path.join(dataDir, "chain", "blocks.jsonl");
    const lines = (await fs.readFile(file, "utf8")).trim().split("\n");
    lines.splice(4, 1);
    await fs.writeFile(file, `${lines.join("\n")}\n`);

    const err = await refusal({ dataDir, port: PORT.refuse, resetCommand: "npm run reset" });
    expect(err.code).to.equal("CORRUPT_RECORD");
    expect(err.message).to.include(`${file} line 5`);
    expect(err.message).to.include("holds block 6, expected 5");
    expect(err.message).to.include("npm run reset");
  });

  it("refuses a data directory recorded for another chain id", async () => {
    const err = await refusal({ dataDir: recordedDir, port: PORT.refuse, chainId: 1337 });
    expect(err.code).to.equal("CHAIN_MISMATCH");
    expect(err.message).to.include("recorded chain id: 31337");
    expect(err.message).to.include("requested chain id: 1337");
  });

  it("refuses a manifest edited to another chain id: the recorded transactions are signed for 31337", async () => {
    const dataDir = await newDataDir();
    await fs.cp(path.join(recordedDir, "chain"), path.join(dataDir, "chain"), { recursive: true });
    const file = path.join(dataDir, "chain", "manifest.json");
    const manifest = JSON.parse(await fs.readFile(file, "utf8"));
    manifest.params.chainId = 1337;
    await fs.writeFile(file, JSON.stringify(manifest));

    const err = await refusal({ dataDir, port: PORT.refuse });
    expect(err.code).to.equal("REPLAY_MISMATCH");
    expect(err.message).to.include("the node rejected recorded transaction");
  });

  it("refuses a port where a node already runs, and a data directory another chain is using", async () => {
    const other = await startLocalChain(PORT.busy);
    try {
      const err = await startDurableChain({ dataDir: await newDataDir(), port: PORT.busy }).catch((e: Error) => e);
      expect(err).to.be.instanceOf(PortInUseError);
      expect((err as Error).message).to.include(`port ${PORT.busy} on 127.0.0.1 is already in use by a JSON-RPC node`);
    } finally {
      await other.stop();
    }
    const plain = net.createServer((socket) => socket.destroy()).listen(PORT.busy, "127.0.0.1");
    await new Promise((r) => plain.once("listening", r));
    try {
      const err = await startDurableChain({ dataDir: await newDataDir(), port: PORT.busy }).catch((e: Error) => e);
      expect(err).to.be.instanceOf(PortInUseError);
    } finally {
      await new Promise((r) => plain.close(r));
    }

    const dataDir = await newDataDir();
    await start({ dataDir, port: PORT.busy });
    const err = await refusal({ dataDir, port: PORT.refuse });
    expect(err.code).to.equal("DATA_DIR_IN_USE");
  });

  it("records a mined block within milliseconds, and replays 520 recorded blocks (270 with a transfer, 250 empty, each mined on its own); reports both", async () => {
    const dataDir = await newDataDir();
    const chain = await start({ dataDir, port: PORT.bench });
    const [from, to] = ((await chain.provider.send("eth_accounts", [])) as string[]).slice(4, 6);
    for (let i = 0; i < 250; i++) {
      await chain.provider.send("eth_sendTransaction", [{ from, to, value: toQuantity(i + 1) }]);
      await chain.provider.send("evm_mine", []);
    }
    const before = await chain.provider.getBlock("latest");
    expect(before!.number).to.equal(500);

    // How long a mined block stays unrecorded: eth_sendTransaction answers once the block is mined (automine).
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      await chain.provider.send("eth_sendTransaction", [{ from, to, value: "0x1" }]);
      const mined = performance.now(); // automine: the block exists once the send has answered
      await chain.waitDurable();
      latencies.push(performance.now() - mined);
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[10];
    console.log(
      `      ${JSON.stringify({ bench: "durableChain.minedToDurable", samples: 20, medianMs: Math.round(median), maxMs: Math.round(latencies[19]) })}`,
    );
    // Well under the 500 ms fallback poll: the newHeads subscription does the recording.
    expect(median).to.be.below(100);
    await chain.stop();

    const again = await start({ dataDir, port: PORT.bench });
    const { blocks, transactions, milliseconds } = again.replayed;
    expect({ blocks, transactions }).to.deep.equal({ blocks: 520, transactions: 270 });
    expect((await again.provider.getBlock(500))!.hash).to.equal(before!.hash);
    console.log(
      `      ${JSON.stringify({ bench: "durableChain.replay", blocks, transactions, ms: Math.round(milliseconds), blocksPerSecond: Math.round((blocks / milliseconds) * 1000) })}`,
    );
  });
});

/**
 * A separate process that owns a durable chain, as `npm start` does, in its own process group (as a terminal
 * runs it). It mines three blocks and prints {head, hash, node}; on SIGINT it mines one more block, stops the
 * chain and prints the final {head, hash}.
 */
function spawnOwner(dataDir: string, port: number) {
  const owner = spawn(
    process.execPath,
    [
      "-e",
      `require("ts-node").register({ transpileOnly: true });
       const { startDurableChain } = require(${JSON.stringify(path.join(ROOT, "scripts/lib/durableChain.ts"))});
       const report = async (chain, extra) => {
         const head = Number(await chain.provider.send("eth_blockNumber", []));
         const block = await chain.provider.send("eth_getBlockByNumber", ["0x" + head.toString(16), false]);
         console.log(JSON.stringify({ head, hash: block.hash, ...extra }));
       };
       (async () => {
         const chain = await startDurableChain({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} });
         process.on("SIGINT", async () => {
           await chain.provider.send("evm_mine", []);
           await report(chain, {});
           await chain.stop();
           process.exit(0);
         });
         const signer = await chain.provider.getSigner(2);
         for (let i = 0; i < 3; i++) await (await signer.sendTransaction({ to: "${COINBASE}", value: 7n })).wait();
         await chain.waitDurable();
         await report(chain, { node: chain.process.pid });
       })();`,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], detached: true },
  );
  const lines: string[] = [];
  const ready = new Promise<{ head: number; hash: string; node: number }>((resolve, reject) => {
    let out = "";
    owner.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      lines.splice(0, lines.length, ...out.split("\n").filter((l) => l.length > 0));
      if (lines.length === 1 && out.endsWith("\n")) resolve(JSON.parse(lines[0]));
    });
    owner.once("exit", (code) => reject(new Error(`owner exited with ${code} before reporting: ${out}`)));
  });
  return { owner, ready, lines };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
