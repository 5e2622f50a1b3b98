/**
 * The published data set of one epoch, a directory:
 *   manifest.json   epoch metadata, totals, dataHash, file names (public)
 *   leaves.ndjson   every leaf in position order: commitment, values, padding flag (auditors; dataHash covers it)
 *   proofs.ndjson   one client proof file per line, with the client's secret (private: served per client)
 *   proofs.index.json  accountId → [byte offset, byte length] of its line in proofs.ndjson (private)
 *   plain-tree.json the StandardMerkleTree dump (auditors), when exported
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import path from "node:path";
import { hexlify } from "ethers";
import { z } from "zod";
import { ENCODING_VERSION } from "./encoding";
import { ReservesError } from "./errors";
import { createKeccak256 } from "./keccak";
import type { PublishedLeaf } from "./buildTree";
import { parseClientProof, type ClientProofFile } from "./proof";

export const FILES = {
  manifest: "manifest.json",
  leaves: "leaves.ndjson",
  proofs: "proofs.ndjson",
  proofsIndex: "proofs.index.json",
  plainTree: "plain-tree.json",
} as const;

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const uint = z.string().regex(/^[0-9]+$/);

export const manifestSchema = z
  .object({
    format: z.literal("marginbridge-por-dataset"),
    encodingVersion: z.literal(ENCODING_VERSION),
    chainId: uint,
    ledger: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    epoch: uint,
    snapshotBlock: uint,
    snapshotId: hex32,
    assets: z.array(z.string()),
    depth: z.number().int(),
    leafCount: z.number().int(),
    root: hex32,
    liabilities: z.array(uint),
    debt: z.array(uint),
    dataHash: hex32,
    plainRoot: hex32,
    source: z.string(),
    builtAt: z.string(),
    publishTx: z.string().optional(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, FILES.manifest);
  if (!existsSync(file)) throw new ReservesError("DATASET_INVALID", `no ${FILES.manifest} in ${dir}`);
  const r = manifestSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!r.success) throw new ReservesError("DATASET_INVALID", "invalid manifest", { issues: r.error.issues });
  return r.data;
}

/** Appends lines to a file in large writes and hashes the bytes written (keccak-256). */
export class LineWriter {
  private readonly fd: number;
  private chunk: string[] = [];
  private size = 0;
  /** Bytes written so far, including buffered lines. */
  offset = 0;
  private constructor(
    file: string,
    private readonly hasher: Awaited<ReturnType<typeof createKeccak256>>,
  ) {
    this.fd = openSync(file, "w");
    hasher.init();
  }

  static async open(file: string): Promise<LineWriter> {
    return new LineWriter(file, await createKeccak256());
  }

  /** Appends one line; returns its byte offset and length (without the newline). */
  line(s: string): [number, number] {
    const at = this.offset;
    const len = Buffer.byteLength(s, "utf8");
    this.offset += len + 1;
    this.chunk.push(s);
    this.size += s.length;
    if (this.size > 1 << 22) this.flush();
    return [at, len];
  }

  private flush(): void {
    if (this.chunk.length === 0) return;
    const buf = Buffer.from(this.chunk.join("\n") + "\n", "utf8");
    this.hasher.update(buf);
    writeSync(this.fd, buf);
    this.chunk = [];
    this.size = 0;
  }

  /** Closes the file and returns keccak256 of its bytes. */
  close(): string {
    this.flush();
    closeSync(this.fd);
    return hexlify(this.hasher.digest("binary"));
  }
}

export function leafLine(position: number, leaf: PublishedLeaf): string {
  return JSON.stringify({
    position,
    commitment: leaf.commitment,
    owed: leaf.owed.map(String),
    debt: leaf.debt.map(String),
    ...(leaf.padding ? { padding: true } : {}),
  });
}

const leafLineSchema = z
  .object({
    position: z.number().int().min(0),
    commitment: hex32,
    owed: z.array(z.string().regex(/^-?[0-9]+$/)),
    debt: z.array(z.string().regex(/^-?[0-9]+$/)),
    padding: z.literal(true).optional(),
  })
  .strict();

/** Reads leaves.ndjson, checking positions run 0, 1, 2, … and returns the leaves and keccak256 of the file. */
export async function readLeaves(dir: string): Promise<{ leaves: PublishedLeaf[]; fileHash: string }> {
  const bytes = readFileSync(path.join(dir, FILES.leaves));
  const h = await createKeccak256();
  h.init();
  h.update(bytes);
  const fileHash = hexlify(h.digest("binary"));
  const leaves: PublishedLeaf[] = [];
  for (const text of bytes.toString("utf8").split("\n")) {
    if (text === "") continue;
    const r = leafLineSchema.safeParse(JSON.parse(text));
    if (!r.success) throw new ReservesError("DATASET_INVALID", `bad leaf line ${leaves.length}`);
    if (r.data.position !== leaves.length) {
      throw new ReservesError("DATASET_INVALID", `leaf at line ${leaves.length} has position ${r.data.position}`);
    }
    leaves.push({
      commitment: r.data.commitment,
      owed: r.data.owed.map((v) => BigInt(v)),
      debt: r.data.debt.map((v) => BigInt(v)),
      padding: r.data.padding === true,
    });
  }
  return { leaves, fileHash };
}

/**
 * The proof file of one client, from a data set (undefined when the account is not in it): one read at the offset
 * given by proofs.index.json, so that serving a proof does not scan the (multi-gigabyte at scale) proofs file.
 */
export function findClientProof(dir: string, accountId: string): ClientProofFile | undefined {
  const index = JSON.parse(readFileSync(path.join(dir, FILES.proofsIndex), "utf8")) as Record<string, [number, number]>;
  if (!Object.prototype.hasOwnProperty.call(index, accountId)) return undefined;
  const [offset, length] = index[accountId];
  const buf = Buffer.alloc(length);
  const fd = openSync(path.join(dir, FILES.proofs), "r");
  try {
    readSync(fd, buf, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  const proof = parseClientProof(JSON.parse(buf.toString("utf8")));
  return proof.account.accountId === accountId ? proof : undefined;
}
