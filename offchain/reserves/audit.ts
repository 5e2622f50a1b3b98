/**
 * Use case: the auditor's and the client's verification against the chain. Each returns a report of named checks;
 * nothing throws on a mismatch (a failed check is a result), only on unreadable input.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { ReserveLedger } from "../../typechain-types";
import { buildFromLeaves } from "./buildTree";
import { FILES, readLeaves, readManifest } from "./dataset";
import { ENCODING_VERSION, snapshotId } from "./encoding";
import { ReservesError } from "./errors";
import { PLAIN_LEAF_ENCODING, type PlainLeaf } from "./plainExport";
import type { HashPool } from "./pool";
import { inclusionProofOf, toContractProof, verifyClientProofOffline, type ClientProofFile } from "./proof";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface AuditReport {
  ok: boolean;
  checks: Check[];
}

class Report {
  readonly checks: Check[] = [];
  check(name: string, ok: boolean, detail = ""): boolean {
    this.checks.push({ name, ok, detail });
    return ok;
  }
  eq(name: string, actual: unknown, expected: unknown): boolean {
    const a = String(actual).toLowerCase();
    const e = String(expected).toLowerCase();
    return this.check(name, a === e, a === e ? a : `got ${a}, expected ${e}`);
  }
  done(): AuditReport {
    return { ok: this.checks.length > 0 && this.checks.every((c) => c.ok), checks: this.checks };
  }
}

const list = (xs: readonly (bigint | string)[]): string => xs.map(String).join(",");

/** 18-decimal ratio as a percentage string. */
function percent(ratio: bigint): string {
  if (ratio === (1n << 256n) - 1n) return "∞ (nothing owed)";
  return `${(Number(ratio / 10n ** 12n) / 1e4).toFixed(2)}%`;
}

/**
 * Full audit of a published data set: recomputes the root and the totals from every leaf, checks the on-chain
 * record (root, depth, leaf count, totals, snapshot id, data hash, encoding version), the uniqueness of the
 * commitments, the padding, the reserves and their ratio, and the plain StandardMerkleTree export.
 */
export async function auditDataset(dir: string, ledger: ReserveLedger, pool?: HashPool): Promise<AuditReport> {
  const r = new Report();
  const m = readManifest(dir);
  const provider = ledger.runner?.provider;
  if (!provider) throw new ReservesError("INVALID_INPUT", "the ledger must be connected to a provider");
  const chainId = (await provider.getNetwork()).chainId;
  r.eq("chain id", chainId, m.chainId);
  r.eq("ledger address", await ledger.getAddress(), m.ledger);
  const epoch = BigInt(m.epoch);
  const rec = await ledger.getEpoch(epoch);
  r.eq("encoding version", rec.encodingVersion, ENCODING_VERSION);
  const sid = snapshotId(chainId, await ledger.getAddress(), epoch, BigInt(m.snapshotBlock));
  r.eq("snapshot id (recomputed = on-chain)", sid, rec.snapshotId);
  r.eq("snapshot block", rec.snapshotBlock, m.snapshotBlock);

  const { leaves, fileHash } = await readLeaves(dir);
  r.eq("data hash of leaves file = on-chain dataHash", fileHash, rec.dataHash);
  const k = rec.assets.length;
  let tree;
  try {
    tree = await buildFromLeaves(leaves, k, sid, pool);
  } catch (err) {
    r.check("leaves obey the encoding rules", false, err instanceof Error ? err.message : String(err));
    return r.done();
  }
  r.check("leaves obey the encoding rules", true, `${leaves.length} leaves, ranges and sums within uint128`);
  r.check("account commitments unique across the data set", true, `${leaves.length} distinct`);
  const badPadding = leaves.findIndex((l) => l.padding && [...l.owed, ...l.debt].some((v) => v !== 0n));
  r.check("padding leaves are zero-sum", badPadding < 0, badPadding < 0 ? "" : `position ${badPadding}`);
  r.eq("depth", tree.depth, rec.depth);
  r.eq("leaf count (non-padding leaves) = on-chain leafCount", tree.leafCount, rec.leafCount);
  r.eq("root (recomputed = on-chain)", tree.root, rec.root);
  r.eq("total liabilities per asset", list(tree.totals.owed), list(rec.liabilities));
  r.eq("total debt per asset", list(tree.totals.debt), list(rec.debt));
  r.eq("manifest root", m.root, rec.root);

  // Reserves: as recorded on-chain at publication, and recomputed at the snapshot block.
  for (let i = 0; i < k; i++) {
    const asset = rec.assets[i];
    const owed = rec.liabilities[i];
    const ratio = await ledger.reserveRatio(epoch, i);
    r.check(
      `reserves cover liabilities, asset ${asset}`,
      rec.reserves[i] >= owed,
      `reserves ${rec.reserves[i]} / liabilities ${owed} = ${percent(ratio)}`,
    );
    const atSnapshot = await ledger.currentReserves(asset, { blockTag: Number(rec.snapshotBlock) });
    r.check(
      `reserves at snapshot block cover liabilities, asset ${asset}`,
      atSnapshot >= owed,
      `reserves ${atSnapshot} at block ${rec.snapshotBlock}`,
    );
  }

  const plainFile = path.join(dir, FILES.plainTree);
  if (existsSync(plainFile)) {
    const plain = StandardMerkleTree.load<PlainLeaf>(JSON.parse(readFileSync(plainFile, "utf8")));
    r.eq("plain StandardMerkleTree root = on-chain plainRoot", plain.root, rec.plainRoot);
    const fromTree = new Set<string>();
    for (const [, v] of plain.entries()) fromTree.add(`${v[0]}|${v[1]}|${list(v[2])}|${list(v[3])}`.toLowerCase());
    const real = leaves.filter((l) => !l.padding);
    const same =
      fromTree.size === real.length &&
      real.every((l) => fromTree.has(`${sid}|${l.commitment}|${list(l.owed)}|${list(l.debt)}`.toLowerCase()));
    r.check("plain tree holds exactly the real leaves", same, `${fromTree.size} values`);
    let plainOk = true;
    try {
      plain.validate();
    } catch {
      plainOk = false;
    }
    r.check("plain tree is internally valid (@openzeppelin/merkle-tree)", plainOk);
  } else {
    r.check("plain export absent: on-chain plainRoot is zero", /^0x0+$/.test(rec.plainRoot), rec.plainRoot);
  }
  return r.done();
}

/**
 * A client's check of its own proof file: offline (commitment from its id and secret, path to the root and the
 * totals), then against the chain only (the ledger's epoch record and its verifyInclusion view). No third party
 * learns the balances.
 */
export async function auditClientProof(file: ClientProofFile, ledger: ReserveLedger): Promise<AuditReport> {
  const r = new Report();
  try {
    verifyClientProofOffline(file);
    r.check("proof verifies offline (commitment, path, sums, totals)", true);
  } catch (err) {
    r.check("proof verifies offline (commitment, path, sums, totals)", false, (err as Error).message);
  }
  if (file.plain) {
    const sums = inclusionProofOf(file);
    const leaf: PlainLeaf = [file.snapshotId, file.account.commitment, sums.owed.map(String), sums.debt.map(String)];
    let ok = false;
    try {
      ok = StandardMerkleTree.verify(file.plain.root, PLAIN_LEAF_ENCODING, leaf, file.plain.proof);
    } catch {
      ok = false;
    }
    r.check("plain proof verifies with @openzeppelin/merkle-tree", ok);
  }
  const provider = ledger.runner?.provider;
  if (!provider) throw new ReservesError("INVALID_INPUT", "the ledger must be connected to a provider");
  r.eq("chain id", (await provider.getNetwork()).chainId, file.chainId);
  r.eq("ledger address", await ledger.getAddress(), file.ledger);
  const epoch = BigInt(file.epoch);
  let rec;
  try {
    rec = await ledger.getEpoch(epoch);
  } catch {
    r.check("epoch published on-chain", false, `epoch ${file.epoch}`);
    return r.done();
  }
  r.eq("root = on-chain root", file.root, rec.root);
  r.eq("snapshot id = on-chain", file.snapshotId, rec.snapshotId);
  r.eq("liabilities = on-chain totals", list(file.liabilities), list(rec.liabilities));
  r.eq("debt = on-chain totals", list(file.debt), list(rec.debt));
  if (file.plain) r.eq("plain root = on-chain plainRoot", file.plain.root, rec.plainRoot);
  try {
    await ledger.verifyInclusion(epoch, toContractProof(inclusionProofOf(file)));
    r.check("ReserveLedger.verifyInclusion accepts the proof", true);
  } catch (err) {
    const data = (err as { data?: string }).data;
    const decoded = data ? ledger.interface.parseError(data) : null;
    r.check("ReserveLedger.verifyInclusion accepts the proof", false, decoded?.name ?? (err as Error).message);
  }
  return r.done();
}

export function formatReport(title: string, report: AuditReport): string {
  const lines = [title];
  for (const c of report.checks)
    lines.push(`  ${c.ok ? "PASS" : "FAIL"}  ${c.name}${c.detail ? ` — ${c.detail}` : ""}`);
  lines.push(report.ok ? "RESULT: PASS" : `RESULT: FAIL (${report.checks.filter((c) => !c.ok).length} failed)`);
  return lines.join("\n");
}
