/**
 * One implementation of the reserves benchmark, run in its own process (so that peak RSS is its own):
 *   ts-node bench/reserves/impl.ts <impl> <accounts> <assets> [--oz-proofs] [--threads N]
 * Prints one JSON line.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { MerkleTree } from "merkletreejs";
import { buildSumTree, HashPool, snapshotId } from "../../offchain/reserves";
import { addressOf, syntheticAccounts } from "./accounts";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const createKeccakHash = require("keccak") as (alg: string) => { update(b: Buffer): { digest(): Buffer } };

const seconds = (t0: number): number => Number(((performance.now() - t0) / 1000).toFixed(3));
const rssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

async function marginbridge(n: number, assets: number, threads: number): Promise<Record<string, unknown>> {
  const accounts = syntheticAccounts(n, assets);
  const assetIds = Array.from({ length: assets }, (_, a) => addressOf(0xa0 + a));
  const sid = snapshotId(31337n, addressOf(0xbeef), 1n, 1n);
  let t0 = performance.now();
  const pool = await HashPool.start(threads);
  const poolStart = seconds(t0);
  t0 = performance.now();
  const tree = await buildSumTree({ assets: assetIds, snapshotBlock: 1n, accounts }, { snapshotId: sid, pool });
  const build = seconds(t0);
  t0 = performance.now();
  const per = tree.size / pool.size;
  const results = await pool.runAll(
    Array.from({ length: pool.size }, (_, i) => ({
      kind: "proofs" as const,
      tree: tree.buffers,
      from: i * per,
      count: per,
    })),
  );
  const proofs = seconds(t0);
  const produced = results.reduce((s, r) => s + (r.produced ?? 0), 0);
  await pool.close();
  if (produced !== n) throw new Error(`produced ${produced} proofs for ${n} accounts`);
  const hashes = n + 2 * tree.size - 1;
  return {
    build_s: build,
    proofs_s: proofs,
    total_s: Number((build + proofs).toFixed(3)),
    prepare_s: Number(tree.timings!.prepareSeconds.toFixed(3)),
    hash_s: Number(tree.timings!.hashSeconds.toFixed(3)),
    pool_start_s: poolStart,
    depth: tree.depth,
    hashes,
    proof_bytes: tree.depth * (32 + 32 * assets),
    threads: pool.size,
    root: tree.root,
  };
}

function ozTree(n: number, withProofs: boolean): Record<string, unknown> {
  const accounts = syntheticAccounts(n, 1);
  const values = accounts.map((a, i) => [addressOf(i + 1), a.owed[0].toString()]);
  let t0 = performance.now();
  const tree = StandardMerkleTree.of(values, ["address", "uint256"]);
  const build = seconds(t0);
  let proofs: number | null = null;
  if (withProofs) {
    t0 = performance.now();
    for (let i = 0; i < n; i++) tree.getProof(i);
    proofs = seconds(t0);
  }
  return { build_s: build, proofs_s: proofs, root: tree.root };
}

function merkletreejs(n: number): Record<string, unknown> {
  const accounts = syntheticAccounts(n, 1);
  const keccak = (b: Buffer): Buffer => createKeccakHash("keccak256").update(b).digest();
  let t0 = performance.now();
  const leaves = accounts.map((a, i) => {
    const buf = Buffer.alloc(52);
    buf.write(addressOf(i + 1).slice(2), 0, "hex");
    buf.write(a.owed[0].toString(16).padStart(64, "0"), 20, "hex");
    return keccak(buf);
  });
  const tree = new MerkleTree(leaves, keccak, { sortPairs: true });
  const build = seconds(t0);
  t0 = performance.now();
  for (let i = 0; i < n; i++) tree.getHexProof(leaves[i], i);
  const proofs = seconds(t0);
  return { build_s: build, proofs_s: proofs, root: tree.getHexRoot() };
}

/** Raw hash-wasm keccak-256 rate on 64-byte inputs, on one thread and on `threads` threads at once. */
async function keccakFloor(n: number, threads: number): Promise<Record<string, unknown>> {
  const count = 2_000_000;
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    require("hash-wasm").createKeccak(256).then((h) => {
      const buf = new Uint8Array(64);
      const t0 = performance.now();
      for (let i = 0; i < workerData; i++) { buf[i & 63] = i; h.init(); h.update(buf); h.digest("binary"); }
      parentPort.postMessage(performance.now() - t0);
    });`;
  const run = (w: number, per: number): Promise<number> => {
    const t0 = performance.now();
    return Promise.all(
      Array.from(
        { length: w },
        () =>
          new Promise<number>((resolve, reject) => {
            const worker = new Worker(code, { eval: true, workerData: per });
            worker.once("message", (ms: number) => {
              void worker.terminate();
              resolve(ms);
            });
            worker.once("error", reject);
          }),
      ),
    ).then(() => performance.now() - t0);
  };
  const one = (await run(1, count)) / 1000;
  const all = (await run(threads, count / threads)) / 1000;
  const rate1 = count / one;
  const rateAll = count / all;
  return {
    build_s: Number(((2 * n) / rateAll).toFixed(3)),
    proofs_s: null,
    hashes_per_s_1_thread: Math.round(rate1),
    hashes_per_s_all_threads: Math.round(rateAll),
    threads,
    input_bytes: 64,
  };
}

async function main(): Promise<void> {
  const [impl, nArg, assetsArg, ...rest] = process.argv.slice(2);
  const n = Number(nArg);
  const assets = Number(assetsArg);
  const threadsAt = rest.indexOf("--threads");
  const threads = threadsAt >= 0 ? Number(rest[threadsAt + 1]) : availableParallelism();
  let result: Record<string, unknown>;
  let implAssets = 1;
  switch (impl) {
    case "marginbridge":
      result = await marginbridge(n, assets, threads);
      implAssets = assets;
      break;
    case "@openzeppelin/merkle-tree":
      result = ozTree(n, rest.includes("--oz-proofs"));
      break;
    case "merkletreejs":
      result = merkletreejs(n);
      break;
    case "keccak-floor":
      result = await keccakFloor(n, threads);
      break;
    default:
      throw new Error(`unknown impl ${impl}`);
  }
  console.log(JSON.stringify({ bench: "reserves", impl, accounts: n, assets: implAssets, ...result, rss_mb: rssMb() }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
