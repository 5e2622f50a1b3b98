import { SimpleMerkleTree } from "@openzeppelin/merkle-tree";
import { keccak256, toUtf8Bytes, verifyTypedData, ZeroHash, type TypedDataDomain, type TypedDataField } from "ethers";
import { amendmentMessage, AGREEMENT_AMENDMENT_TYPES } from "./amendmentSignature";
import { canonicalHash, canonicalize } from "./canonicalJson";
import { LegalError } from "./errors";
import type { AmendmentRecord } from "./port";

export type EvidenceKind =
  | "agreement"
  | "amendment"
  | "order"
  | "trade"
  | "batch"
  | "transaction"
  | "oracle-round"
  | "liquidation"
  | "statement"
  | "audit-log"
  | "document"
  | "note";

/** An EIP-712 signature carried with an item (an order signed by its owner, an agreement, an oracle report). */
export interface SignedTypedData {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, unknown>;
  signature: string;
  signer: string;
}

/** One piece of evidence; `data` is any canonical-JSON value (integers as bigint or decimal strings). */
export interface EvidenceItem {
  kind: EvidenceKind;
  id: string;
  data: unknown;
  signed?: SignedTypedData[];
  /**
   * The accounts whose own data the item carries (an order: its account). A client sees such an item only when
   * it is among them; for anyone else it is redacted. Absent: a fact of the subject every party may see.
   */
  parties?: string[];
  /** Set on a redacted copy: the item's content is withheld; its manifest hash and proof still commit to it. */
  redacted?: true;
}

/**
 * The hash-chained audit log entry the verifier checks by default:
 * hash = keccak256(canonical JSON of {seq, at, actor, action, payload, prevHash}); the first entry's prevHash is the
 * previous entry's hash (or 32 zero bytes for the log's very first entry). Another log format plugs in its own
 * `auditEntryHash`.
 */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  payload: unknown;
  prevHash: string;
  hash: string;
}

export function defaultAuditEntryHash(e: AuditEntry): string {
  return canonicalHash({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    payload: e.payload,
    prevHash: e.prevHash,
  });
}

export interface EvidenceBundle {
  schema: "marginbridge/evidence-bundle@1";
  disputeId: string;
  subject: { kind: string; ref: string };
  createdAt: string;
  items: EvidenceItem[];
  manifest: {
    itemHash: "keccak256(canonical-json(item))";
    tree: "@openzeppelin/merkle-tree SimpleMerkleTree (sorted leaves, sorted-pair keccak256)";
    entries: { index: number; kind: EvidenceKind; id: string; hash: string; proof: string[] }[];
    root: string;
  };
}

/**
 * An agreement's amendment as evidence: its full text (both languages) and hash, what changed and from when, the
 * operation behind it, its status with when and by whom it was answered, and the client's countersignature as typed
 * data (a third party re-verifies it with plain ethers). The client's own data: another account sees it redacted.
 */
export function amendmentEvidenceItem(a: AmendmentRecord, domain: TypedDataDomain): EvidenceItem {
  const { revision: _revision, countersignature, ...data } = a;
  return {
    kind: "amendment",
    id: a.id,
    parties: [a.client.toLowerCase()],
    data: { ...data, countersignature: countersignature ?? null },
    ...(countersignature
      ? {
          signed: [
            {
              domain,
              types: AGREEMENT_AMENDMENT_TYPES,
              primaryType: "AgreementAmendment",
              message: { ...amendmentMessage(a) },
              signature: countersignature,
              signer: a.client,
            },
          ],
        }
      : {}),
  };
}

/** keccak256 of an item's canonical JSON. */
export function evidenceItemHash(item: EvidenceItem): string {
  return canonicalHash(item);
}

/**
 * Assembles a bundle: items sorted by (kind, id), each hashed, a Merkle tree over the hashes, and every item's
 * proof in the manifest. The root is what the dispute record (and, if wanted, the chain) keeps.
 */
export function buildEvidenceBundle(args: {
  disputeId: string;
  subject: { kind: string; ref: string };
  createdAt: string;
  items: EvidenceItem[];
}): EvidenceBundle {
  const items = [...args.items].sort((a, b) => (a.kind === b.kind ? cmp(a.id, b.id) : cmp(a.kind, b.kind)));
  for (let i = 1; i < items.length; i++) {
    if (items[i].kind === items[i - 1].kind && items[i].id === items[i - 1].id) {
      throw new LegalError("LEGAL_INVALID_INPUT", "duplicate evidence item", { kind: items[i].kind, id: items[i].id });
    }
  }
  // Canonicalise once so that anything not representable fails here, not at verification.
  const hashes = items.map((it) => keccak256(toUtf8Bytes(canonicalize(it))));
  const tree = SimpleMerkleTree.of(hashes.length > 0 ? hashes : [ZeroHash]);
  return {
    schema: "marginbridge/evidence-bundle@1",
    disputeId: args.disputeId,
    subject: args.subject,
    createdAt: args.createdAt,
    items,
    manifest: {
      itemHash: "keccak256(canonical-json(item))",
      tree: "@openzeppelin/merkle-tree SimpleMerkleTree (sorted leaves, sorted-pair keccak256)",
      entries: items.map((it, index) => ({
        index,
        kind: it.kind,
        id: it.id,
        hash: hashes[index],
        proof: tree.getProof(hashes[index]),
      })),
      root: tree.root,
    },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The bundle as `viewer` (a client's account) may see it: items carrying another account's data (`parties`
 * without the viewer) are replaced by `{kind, id, redacted: true}`; the manifest is unchanged, so the root still
 * verifies and every redacted item is still proven committed (its hash and Merkle proof).
 */
export function redactEvidenceBundle(bundle: EvidenceBundle, viewer: string): EvidenceBundle {
  const me = viewer.toLowerCase();
  return {
    ...bundle,
    items: bundle.items.map((it) =>
      it.parties && !it.parties.some((p) => p.toLowerCase() === me)
        ? { kind: it.kind, id: it.id, data: null, redacted: true as const }
        : it,
    ),
  };
}

export interface VerificationReport {
  valid: boolean;
  root: string;
  checks: { check: string; ok: boolean; detail?: string }[];
}

/**
 * What a third party runs on a bundle (JSON-parsed as received; no trust in the service): every item's hash, every
 * Merkle proof and the root, every EIP-712 signature (recovered with plain ethers and compared to the claimed
 * signer), and the audit log's hash chain (contiguous sequence numbers, each prevHash = the previous hash, each
 * hash recomputed). Optional: `expectedRoot` (e.g. as recorded in the dispute or on-chain), `auditHead` (the
 * latest hash the operator published: the last entry must equal it), `auditEntryHash` for another log format.
 */
export function verifyEvidenceBundle(
  bundle: EvidenceBundle,
  opts: { expectedRoot?: string; auditHead?: string; auditEntryHash?: (e: AuditEntry) => string } = {},
): VerificationReport {
  const checks: VerificationReport["checks"] = [];
  const check = (name: string, ok: boolean, detail?: string): void => {
    checks.push(detail === undefined ? { check: name, ok } : { check: name, ok, detail });
  };
  const m = bundle.manifest;
  check("manifest lists every item once, in order", m.entries.length === bundle.items.length);
  bundle.items.forEach((item, i) => {
    const entry = m.entries[i];
    const label = `${item.kind}/${item.id}`;
    if (item.redacted) {
      // Withheld from this reader: the manifest still commits to an item of this kind and id.
      const committed = !!entry && entry.kind === item.kind && entry.id === item.id;
      check(
        `redacted ${label} is committed by its manifest hash`,
        committed && SimpleMerkleTree.verify(m.root, entry.hash, entry.proof),
      );
      return;
    }
    let hash = "";
    try {
      hash = evidenceItemHash(item);
    } catch (e) {
      check(`item ${i} is canonical JSON`, false, String(e));
      return;
    }
    check(`hash of ${label}`, !!entry && entry.hash === hash && entry.kind === item.kind && entry.id === item.id);
    check(`merkle proof of ${label}`, !!entry && SimpleMerkleTree.verify(m.root, hash, entry.proof));
    for (const [k, s] of (item.signed ?? []).entries()) {
      let ok = false;
      let detail: string | undefined;
      try {
        const recovered = verifyTypedData(s.domain, s.types, s.message, s.signature);
        ok = recovered.toLowerCase() === s.signer.toLowerCase();
        if (!ok) detail = `recovered ${recovered}, claimed ${s.signer}`;
      } catch (e) {
        detail = String(e);
      }
      check(`signature ${k} on ${label} by ${s.signer}`, ok, detail);
    }
  });
  if (bundle.items.length > 0) {
    const leaves = m.entries.map((e) => e.hash);
    check("root rebuilt from the item hashes", SimpleMerkleTree.of(leaves).root === m.root);
  }
  if (opts.expectedRoot !== undefined) check("root equals the recorded root", m.root === opts.expectedRoot);

  const audit = bundle.items
    .filter((i) => i.kind === "audit-log" && !i.redacted)
    .map((i) => i.data as AuditEntry)
    .sort((a, b) => Number(a.seq) - Number(b.seq));
  if (audit.length > 0) {
    const hashOf = opts.auditEntryHash ?? defaultAuditEntryHash;
    let ok = true;
    let detail: string | undefined;
    for (let i = 0; i < audit.length && ok; i++) {
      const e = audit[i];
      if (hashOf(e) !== e.hash) [ok, detail] = [false, `entry ${e.seq}: hash does not match its content`];
      else if (i > 0 && Number(e.seq) !== Number(audit[i - 1].seq) + 1)
        [ok, detail] = [false, `entry ${e.seq}: sequence gap after ${audit[i - 1].seq}`];
      else if (i > 0 && e.prevHash !== audit[i - 1].hash)
        [ok, detail] = [false, `entry ${e.seq}: prevHash is not entry ${audit[i - 1].seq}'s hash`];
    }
    check("audit-log hash chain", ok, detail);
    if (opts.auditHead !== undefined)
      check("audit-log ends at the published head", audit[audit.length - 1].hash === opts.auditHead);
  }
  return { valid: checks.every((c) => c.ok), root: m.root, checks };
}
