import { AUDIT_GENESIS, auditHash } from "./repos/api";
import type { Repositories } from "./store";

export interface AuditVerification {
  ok: boolean;
  entries: number;
  headHash: string;
  /** The first entry whose sequence, link or hash does not check out. */
  brokenAt?: { seq: number; reason: string };
}

/** Walks the audit log from the genesis and recomputes every link and hash. */
export async function verifyAuditChain(
  repos: Pick<Repositories, "audit">,
  pageSize = 1000,
): Promise<AuditVerification> {
  let prev = AUDIT_GENESIS;
  let expectedSeq = 1;
  for (;;) {
    const page = await repos.audit.list(expectedSeq, pageSize);
    for (const e of page) {
      if (e.seq !== expectedSeq)
        return {
          ok: false,
          entries: expectedSeq - 1,
          headHash: prev,
          brokenAt: { seq: e.seq, reason: "gap in sequence" },
        };
      if (e.prevHash !== prev)
        return {
          ok: false,
          entries: expectedSeq - 1,
          headHash: prev,
          brokenAt: { seq: e.seq, reason: "previous hash does not link" },
        };
      if (auditHash(e) !== e.hash)
        return {
          ok: false,
          entries: expectedSeq - 1,
          headHash: prev,
          brokenAt: { seq: e.seq, reason: "entry hash does not match its content" },
        };
      prev = e.hash;
      expectedSeq++;
    }
    if (page.length < pageSize) return { ok: true, entries: expectedSeq - 1, headHash: prev };
  }
}
