/**
 * Use case: snapshot → build → write the data set → publish the root on the ReserveLedger.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ZeroHash } from "ethers";
import type { ReserveLedger } from "../../typechain-types";
import { buildSumTree } from "./buildTree";
import { FILES, LineWriter, leafLine, type Manifest } from "./dataset";
import { ENCODING_VERSION, snapshotId } from "./encoding";
import { ReservesError } from "./errors";
import type { LiabilitySource } from "./liabilities";
import { buildPlainTree } from "./plainExport";
import type { HashPool } from "./pool";
import type { ClientProofFile } from "./proof";

export interface PublishOptions {
  /** The ledger, connected to the reserve publisher's signer. */
  ledger: ReserveLedger;
  source: LiabilitySource;
  /** Data root; the epoch goes to <dataDir>/<chainId>/epoch-<n>/. */
  dataDir: string;
  /**
   * Published URI of the data set (public, on-chain); default `<chainId>/epoch-<n>/`, relative to the publisher's
   * data directory — never a path of the publishing machine.
   */
  uri?: string;
  minDepth?: number;
  /** Also export the StandardMerkleTree (@openzeppelin/merkle-tree) and put its proofs in the client files. */
  plainExport?: boolean;
  pool?: HashPool;
  seed?: Uint8Array;
  /** Called as work advances (phase name, done, total), e.g. to draw a progress bar. */
  progress?: (phase: string, done: number, total: number) => void;
}

export interface PublishResult {
  /** Where the data set was written (local; not for publication). */
  dir: string;
  /** The data set's URI as published on-chain. */
  uri: string;
  manifest: Manifest;
  txHash: string;
}

export async function publishEpoch(opts: PublishOptions): Promise<PublishResult> {
  const progress = opts.progress ?? (() => {});
  const { ledger } = opts;
  const provider = ledger.runner?.provider;
  if (!provider) throw new ReservesError("INVALID_INPUT", "the ledger must be connected to a signer with a provider");
  const chainId = (await provider.getNetwork()).chainId;
  const ledgerAddress = await ledger.getAddress();
  const epoch = (await ledger.latestEpoch()) + 1n;
  const assets = (await ledger.assets()).map((a) => a.toLowerCase());

  progress("snapshot", 0, 1);
  const set = await opts.source.load();
  if (set.assets.length !== assets.length || set.assets.some((a, i) => a.toLowerCase() !== assets[i])) {
    throw new ReservesError("ASSET_MISMATCH", "the liabilities' assets are not the ledger's, in its order", {
      ledger: assets,
      liabilities: set.assets,
    });
  }
  const sid = snapshotId(chainId, ledgerAddress, epoch, set.snapshotBlock);
  const onChainSid = await ledger.snapshotIdOf(epoch, set.snapshotBlock);
  if (onChainSid !== sid) throw new ReservesError("INVALID_INPUT", "snapshot id differs from the ledger's");
  progress("snapshot", 1, 1);

  progress("build", 0, 1);
  const tree = await buildSumTree(set, { snapshotId: sid, minDepth: opts.minDepth, pool: opts.pool, seed: opts.seed });
  progress("build", 1, 1);

  const dir = path.join(opts.dataDir, chainId.toString(), `epoch-${epoch}`);
  mkdirSync(dir, { recursive: true });
  const plain = opts.plainExport === false ? undefined : buildPlainTree(tree, sid);
  if (plain) writeFileSync(path.join(dir, FILES.plainTree), JSON.stringify(plain.tree.dump()));
  else rmSync(path.join(dir, FILES.plainTree), { force: true }); // never leave another epoch's export behind
  const plainRoot = plain ? plain.tree.root : ZeroHash;

  const totals = tree.totals;
  const leaves = await LineWriter.open(path.join(dir, FILES.leaves));
  for (let p = 0; p < tree.size; p++) {
    const s = tree.leafSumsAt(p);
    leaves.line(leafLine(p, { commitment: tree.commitmentAt(p), ...s, padding: tree.isPadding(p) }));
    if ((p & 0xffff) === 0) progress("leaves", p, tree.size);
  }
  const dataHash = leaves.close();
  progress("leaves", tree.size, tree.size);

  const common = {
    format: "marginbridge-por-proof" as const,
    encodingVersion: ENCODING_VERSION,
    chainId: chainId.toString(),
    ledger: ledgerAddress,
    epoch: epoch.toString(),
    snapshotBlock: set.snapshotBlock.toString(),
    snapshotId: sid,
    assets: await ledger.assets(),
    depth: tree.depth,
    leafCount: tree.leafCount,
    root: tree.root,
    liabilities: totals.owed.map(String),
    debt: totals.debt.map(String),
  };
  const proofs = await LineWriter.open(path.join(dir, FILES.proofs));
  const index = new Map<string, [number, number]>(); // a Map: account ids such as "__proto__" stay plain keys
  set.accounts.forEach((acc, a) => {
    const position = tree.positionOf(a);
    const pathOf = tree.path(position);
    const file: ClientProofFile = {
      ...common,
      account: { accountId: acc.accountId, secret: acc.secret.toLowerCase(), commitment: tree.commitmentAt(position) },
      leaf: { index: position, owed: acc.owed.map(String), debt: acc.debt.map(String) },
      siblings: pathOf.siblings.map((s) => ({ hash: s.hash, owed: s.owed.map(String), debt: s.debt.map(String) })),
      ...(plain ? { plain: { root: plainRoot, proof: plain.tree.getProof(plain.valueIndexAt[position]) } } : {}),
    };
    index.set(acc.accountId, proofs.line(JSON.stringify(file)));
    if ((a & 0xffff) === 0) progress("proofs", a, set.accounts.length);
  });
  proofs.close();
  writeFileSync(path.join(dir, FILES.proofsIndex), JSON.stringify(Object.fromEntries(index)));
  progress("proofs", set.accounts.length, set.accounts.length);

  const uri = opts.uri ?? `${chainId}/epoch-${epoch}/`;
  progress("publish", 0, 1);
  const tx = await ledger.publish({
    epoch,
    snapshotBlock: set.snapshotBlock,
    root: tree.root,
    depth: tree.depth,
    leafCount: tree.leafCount,
    liabilities: totals.owed,
    debt: totals.debt,
    dataHash,
    plainRoot,
    uri,
  });
  await tx.wait();
  progress("publish", 1, 1);

  const manifest: Manifest = {
    format: "marginbridge-por-dataset",
    encodingVersion: ENCODING_VERSION,
    chainId: chainId.toString(),
    ledger: ledgerAddress,
    epoch: epoch.toString(),
    snapshotBlock: set.snapshotBlock.toString(),
    snapshotId: sid,
    assets: common.assets,
    depth: tree.depth,
    leafCount: tree.leafCount,
    root: tree.root,
    liabilities: common.liabilities,
    debt: common.debt,
    dataHash,
    plainRoot,
    source: opts.source.description,
    builtAt: new Date().toISOString(),
    publishTx: tx.hash,
  };
  writeFileSync(path.join(dir, FILES.manifest), JSON.stringify(manifest, null, 2) + "\n");
  return { dir, uri, manifest, txHash: tx.hash };
}
