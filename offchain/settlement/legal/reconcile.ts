import { encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import { parseUnits } from "./amounts";
import { LegalError } from "./errors";
import { at, parseXml, textAt, type XmlElement } from "./xml";

/**
 * Cash-leg reconciliation: the custodian bank's booked entries against the chain's mint and redeem events.
 *
 * Link: every cash movement carries one EndToEndId end to end. The custodian mints with
 * `depositRef = chainReference(EndToEndId)` and a redeem carries `payoutRef = chainReference(EndToEndId)`:
 * the id itself as a bytes32 string when it fits (<= 31 UTF-8 bytes, readable on a block explorer), otherwise
 * keccak256 of its UTF-8 bytes. A bank credit (money received at the custodian) matches a mint; a bank debit
 * (a payout) matches a redeem.
 *
 * Bank files accepted: camt.054 (BankToCustomerDebitCreditNotification, any version 001.02+; one entry per
 * Ntry/NtryDtls/TxDtls, EndToEndId from TxDtls/Refs, amount from TxDtls/Amt or the entry's Amt, status from
 * Sts/Cd or Sts) or a CSV with header `endToEndId,direction,amount,currency,bookingDate,status,bankRef`
 * (direction credit|debit, amount a decimal in the currency, status booked|pending).
 */
export interface BankConfirmation {
  endToEndId: string;
  direction: "credit" | "debit";
  /** Decimal string in the currency ("100000.00"). */
  amount: string;
  currency: string;
  bookingDate: string;
  status: "booked" | "pending" | "other";
  bankRef?: string;
}

export interface ChainCashEvent {
  kind: "mint" | "redeem";
  /** bytes32 depositRef / payoutRef as 0x-hex. */
  ref: string;
  account: string;
  /** Token base units. */
  amount: bigint;
  decimals: number;
  currency: string;
  txHash: string;
  blockNumber: number;
}

export interface ReconciliationReport {
  matched: { endToEndId: string; ref: string; amount: string; currency: string; txHash: string; bookingDate: string }[];
  mismatched: { endToEndId: string; reasons: string[]; bank: BankConfirmation; chain: ChainCashEvent }[];
  /** Booked at the bank, no event on-chain (e.g. a deposit the custodian has not minted yet). */
  missingOnChain: BankConfirmation[];
  /** On-chain, never booked at the bank (e.g. a redeem the bank has not paid). */
  missingAtBank: ChainCashEvent[];
  /** Bank entries not yet booked; not reconciled. */
  pending: BankConfirmation[];
  /** Second and later bank entries or chain events with the same reference. */
  duplicates: { ref: string; endToEndId?: string; source: "bank" | "chain" }[];
  summary: { matched: number; mismatched: number; missingOnChain: number; missingAtBank: number; pending: number };
}

/** The bytes32 the chain carries for an EndToEndId (see the module comment). */
export function chainReference(endToEndId: string): string {
  if (endToEndId.length === 0) throw new LegalError("LEGAL_INVALID_INPUT", "empty EndToEndId");
  return toUtf8Bytes(endToEndId).length <= 31 ? encodeBytes32String(endToEndId) : keccak256(toUtf8Bytes(endToEndId));
}

const kids = (e: XmlElement | undefined, name: string): XmlElement[] =>
  e?.children.filter((c) => c.name === name) ?? [];

/** Reads the booked entries of a camt.054 notification. */
export function parseCamt054(xml: string): BankConfirmation[] {
  const root = parseXml(xml);
  const ns = root.attrs.xmlns ?? "";
  if (root.name !== "Document" || !ns.startsWith("urn:iso:std:iso:20022:tech:xsd:camt.054.")) {
    throw new LegalError("LEGAL_XML", "not a camt.054 document", { root: root.name, namespace: ns });
  }
  const body = at(root, "BkToCstmrDbtCdtNtfctn");
  if (!body) throw new LegalError("LEGAL_XML", "missing BkToCstmrDbtCdtNtfctn");
  const out: BankConfirmation[] = [];
  for (const ntf of kids(body, "Ntfctn")) {
    for (const ntry of kids(ntf, "Ntry")) {
      const ind = textAt(ntry, "CdtDbtInd");
      if (ind !== "CRDT" && ind !== "DBIT") throw new LegalError("LEGAL_XML", "bad CdtDbtInd", { line: ntry.line });
      const sts = textAt(ntry, "Sts", "Cd") ?? textAt(ntry, "Sts");
      const status = sts === "BOOK" ? "booked" : sts === "PDNG" ? "pending" : "other";
      const bookingDate = textAt(ntry, "BookgDt", "Dt") ?? textAt(ntry, "BookgDt", "DtTm")?.slice(0, 10) ?? "";
      const entryAmt = at(ntry, "Amt");
      const txs = kids(ntry, "NtryDtls").flatMap((d) => kids(d, "TxDtls"));
      if (txs.length === 0)
        throw new LegalError("LEGAL_XML", "entry without TxDtls: no EndToEndId", { line: ntry.line });
      for (const tx of txs) {
        const endToEndId = textAt(tx, "Refs", "EndToEndId");
        if (!endToEndId) throw new LegalError("LEGAL_XML", "TxDtls without Refs/EndToEndId", { line: tx.line });
        const amt = at(tx, "Amt") ?? (txs.length === 1 ? entryAmt : undefined);
        if (!amt) throw new LegalError("LEGAL_XML", "no amount for a batched entry's transaction", { line: tx.line });
        out.push({
          endToEndId,
          direction: ind === "CRDT" ? "credit" : "debit",
          amount: amt.text.trim(),
          currency: amt.attrs.Ccy ?? "",
          bookingDate,
          status,
          bankRef: textAt(tx, "Refs", "AcctSvcrRef") ?? textAt(ntry, "AcctSvcrRef"),
        });
      }
    }
  }
  return out;
}

/** Reads the simple CSV confirmation format (header required; RFC 4180 quoting). */
export function parseConfirmationCsv(csv: string): BankConfirmation[] {
  const rows = parseCsv(csv).filter((r) => r.length > 1 || r[0] !== "");
  const header = rows.shift() ?? [];
  const want = ["endToEndId", "direction", "amount", "currency", "bookingDate", "status", "bankRef"];
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0 && name !== "bankRef")
      throw new LegalError("LEGAL_INVALID_INPUT", `CSV header lacks ${name}`, { header });
    return i;
  };
  const idx = Object.fromEntries(want.map((w) => [w, col(w)]));
  return rows.map((r, n) => {
    const direction = r[idx.direction];
    const status = r[idx.status];
    if (direction !== "credit" && direction !== "debit")
      throw new LegalError("LEGAL_INVALID_INPUT", "direction must be credit or debit", { row: n + 2 });
    return {
      endToEndId: r[idx.endToEndId],
      direction,
      amount: r[idx.amount],
      currency: r[idx.currency],
      bookingDate: r[idx.bookingDate],
      status: status === "booked" ? "booked" : status === "pending" ? "pending" : "other",
      bankRef: idx.bankRef >= 0 ? r[idx.bankRef] || undefined : undefined,
    };
  });
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** Matches bank entries to chain events by EndToEndId → chain reference; see ReconciliationReport. */
export function reconcile(bank: BankConfirmation[], chain: ChainCashEvent[]): ReconciliationReport {
  const report: ReconciliationReport = {
    matched: [],
    mismatched: [],
    missingOnChain: [],
    missingAtBank: [],
    pending: [],
    duplicates: [],
    summary: { matched: 0, mismatched: 0, missingOnChain: 0, missingAtBank: 0, pending: 0 },
  };
  const byRef = new Map<string, ChainCashEvent>();
  for (const ev of chain) {
    const ref = ev.ref.toLowerCase();
    if (byRef.has(ref)) report.duplicates.push({ ref, source: "chain" });
    else byRef.set(ref, ev);
  }
  const seen = new Set<string>();
  const used = new Set<string>();
  for (const b of bank) {
    if (b.status !== "booked") {
      report.pending.push(b);
      continue;
    }
    const ref = chainReference(b.endToEndId).toLowerCase();
    if (seen.has(ref)) {
      report.duplicates.push({ ref, endToEndId: b.endToEndId, source: "bank" });
      continue;
    }
    seen.add(ref);
    const ev = byRef.get(ref);
    if (!ev) {
      report.missingOnChain.push(b);
      continue;
    }
    used.add(ref);
    const reasons: string[] = [];
    const expectedKind = b.direction === "credit" ? "mint" : "redeem";
    if (ev.kind !== expectedKind) reasons.push(`bank ${b.direction} but chain ${ev.kind}`);
    if (b.currency !== ev.currency) reasons.push(`currency ${b.currency} at the bank, ${ev.currency} on-chain`);
    let bankUnits: bigint | undefined;
    try {
      bankUnits = parseUnits(b.amount, ev.decimals);
    } catch {
      reasons.push(`bank amount ${b.amount} is not a valid amount`);
    }
    if (bankUnits !== undefined && bankUnits !== ev.amount)
      reasons.push(`amount ${bankUnits} at the bank, ${ev.amount} on-chain (base units)`);
    if (reasons.length > 0) report.mismatched.push({ endToEndId: b.endToEndId, reasons, bank: b, chain: ev });
    else
      report.matched.push({
        endToEndId: b.endToEndId,
        ref,
        amount: b.amount,
        currency: b.currency,
        txHash: ev.txHash,
        bookingDate: b.bookingDate,
      });
  }
  for (const [ref, ev] of byRef) if (!used.has(ref)) report.missingAtBank.push(ev);
  report.summary = {
    matched: report.matched.length,
    mismatched: report.mismatched.length,
    missingOnChain: report.missingOnChain.length,
    missingAtBank: report.missingAtBank.length,
    pending: report.pending.length,
  };
  return report;
}
