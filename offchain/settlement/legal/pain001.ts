import { formatUnits, rescale } from "./amounts";
import { LegalError } from "./errors";
import { el, writeXml, type XmlNode } from "./xml";

export const PAIN001_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10";

/**
 * The schema's limits on what the builder writes (ISO 20022 pain.001.001.10 simple types). Identifiers and codes
 * that break them are refused, naming the field; names and remittance text are cut to the schema's length (a
 * bank reads the first 140 characters anyway).
 */
const MAX35 = 35;
const MAX34 = 34;
const MAX140 = 140;
const IBAN = /^[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}$/;
const BIC = /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

/** An identifier the schema bounds (Max35Text, Max34Text): 1..max characters after trimming, else refused. */
function ident(value: string, max: number, field: string): string {
  const v = value.trim();
  if ([...v].length < 1 || [...v].length > max)
    throw new LegalError("LEGAL_INVALID_INPUT", `${field} must be 1 to ${max} characters`, { field, value });
  return v;
}

/** A name or free text (Max140Text): trimmed, cut to 140 characters; empty is refused. */
function text140(value: string, field: string): string {
  const chars = [...value.trim()];
  if (chars.length === 0) throw new LegalError("LEGAL_INVALID_INPUT", `${field} must not be empty`, { field });
  return chars.slice(0, MAX140).join("");
}

function pattern(value: string, re: RegExp, field: string, what: string): string {
  if (!re.test(value)) throw new LegalError("LEGAL_INVALID_INPUT", `${field} is not ${what}`, { field, value });
  return value;
}

/** ISO 4217 minor units of the currencies the platform pays in. */
export const CURRENCY_MINOR_UNITS: Record<string, number> = { CNY: 2, HKD: 2, USD: 2, EUR: 2, GBP: 2, SGD: 2, JPY: 0 };

/** An account: an IBAN where the country has them, otherwise the bank's own account number (Othr/Id). */
export type BankAccount = { iban: string } | { other: string; scheme?: string };

/** A bank: its BIC, or a clearing-system member id (e.g. CNAPS code) when it has no BIC. */
export type BankAgent = { bic: string } | { clearingMemberId: string; clearingSystem?: string };

export interface CreditTransfer {
  /** Unique per message; the reference the bank reports back in camt.054 and that reconciliation matches on. */
  endToEndId: string;
  instructionId?: string;
  /** Amount in base units of a token with `decimals` decimals (mbCNY: 6); must be a whole minor unit of `currency`. */
  amount: bigint;
  decimals: number;
  currency: string;
  creditor: { name: string };
  creditorAccount: BankAccount;
  creditorAgent?: BankAgent;
  remittance?: string;
}

export interface PaymentInstruction {
  paymentInfoId: string;
  /** YYYY-MM-DD. */
  requestedExecutionDate: string;
  debtor: { name: string };
  debtorAccount: BankAccount;
  debtorAgent: BankAgent;
  chargeBearer?: "SLEV" | "DEBT" | "CRED" | "SHAR";
  transfers: CreditTransfer[];
}

export interface CreditTransferMessage {
  messageId: string;
  /** ISO 8601 date-time, e.g. 2027-01-02T09:00:00+08:00. */
  createdAt: string;
  initiatingParty: { name: string; orgId?: string };
  payments: PaymentInstruction[];
}

/** The amount as the bank sees it: exact in the currency's minor units, written with that many decimals. */
export function bankAmount(t: Pick<CreditTransfer, "amount" | "decimals" | "currency" | "endToEndId">): string {
  const minor = CURRENCY_MINOR_UNITS[t.currency];
  if (minor === undefined)
    throw new LegalError("LEGAL_INVALID_INPUT", "unsupported currency", { currency: t.currency });
  if (t.amount <= 0n)
    throw new LegalError("LEGAL_INVALID_INPUT", "amount must be positive", { endToEndId: t.endToEndId });
  try {
    return formatUnits(rescale(t.amount, t.decimals, minor, "exact"), minor);
  } catch (cause) {
    throw new LegalError(
      "LEGAL_INVALID_INPUT",
      `amount is not a whole ${t.currency} minor unit; round it (down) before paying`,
      { endToEndId: t.endToEndId, amount: t.amount.toString() },
      { cause },
    );
  }
}

/** Sum of decimal strings, exact (for CtrlSum). */
export function sumDecimals(values: string[]): string {
  const scale = Math.max(0, ...values.map((v) => (v.split(".")[1] ?? "").length));
  const total = values.reduce((s, v) => {
    const [i, f = ""] = v.split(".");
    return s + BigInt(i + f.padEnd(scale, "0"));
  }, 0n);
  return formatUnits(total, scale);
}

function account(a: BankAccount, field: string): XmlNode[] {
  return [
    el(
      "Id",
      "iban" in a
        ? [el("IBAN", pattern(a.iban.replace(/\s+/g, "").toUpperCase(), IBAN, `${field}.iban`, "an IBAN"))]
        : [
            el("Othr", [
              el("Id", ident(a.other, MAX34, `${field}.other`)),
              a.scheme ? el("SchmeNm", [el("Prtry", ident(a.scheme, MAX35, `${field}.scheme`))]) : undefined,
            ]),
          ],
    ),
  ];
}

function agent(a: BankAgent, field: string): XmlNode {
  return el("FinInstnId", [
    "bic" in a
      ? el("BICFI", pattern(a.bic.toUpperCase(), BIC, `${field}.bic`, "a BIC"))
      : el("ClrSysMmbId", [
          a.clearingSystem
            ? el("ClrSysId", [el("Prtry", ident(a.clearingSystem, MAX35, `${field}.clearingSystem`))])
            : undefined,
          el("MmbId", ident(a.clearingMemberId, MAX35, `${field}.clearingMemberId`)),
        ]),
  ]);
}

/**
 * Writes a pain.001.001.10 CustomerCreditTransferInitiation: one group header, one PmtInf per debtor account and
 * execution date, one CdtTrfTxInf per payout. NbOfTxs and CtrlSum are computed (group and each PmtInf); every text
 * is XML-escaped; identifiers outside the schema's lengths and patterns are refused (LEGAL_INVALID_INPUT naming
 * the field), names and remittance cut to 140 characters. Validate the result with validatePain001 (the ISO XSD
 * and the business rules) before storing or sending it.
 */
export function buildPain001(msg: CreditTransferMessage): string {
  const all = msg.payments.flatMap((p) => p.transfers.map(bankAmount));
  const doc = el(
    "Document",
    [
      el("CstmrCdtTrfInitn", [
        el("GrpHdr", [
          el("MsgId", ident(msg.messageId, MAX35, "messageId")),
          el("CreDtTm", msg.createdAt),
          el("NbOfTxs", String(all.length)),
          el("CtrlSum", sumDecimals(all)),
          el("InitgPty", [
            el("Nm", text140(msg.initiatingParty.name, "initiatingParty.name")),
            msg.initiatingParty.orgId
              ? el("Id", [
                  el("OrgId", [
                    el("Othr", [el("Id", ident(msg.initiatingParty.orgId, MAX35, "initiatingParty.orgId"))]),
                  ]),
                ])
              : undefined,
          ]),
        ]),
        ...msg.payments.map((p, i) => {
          const amounts = p.transfers.map(bankAmount);
          const at = `payments[${i}]`;
          return el("PmtInf", [
            el("PmtInfId", ident(p.paymentInfoId, MAX35, `${at}.paymentInfoId`)),
            el("PmtMtd", "TRF"),
            el("NbOfTxs", String(p.transfers.length)),
            el("CtrlSum", sumDecimals(amounts)),
            el("ReqdExctnDt", [el("Dt", p.requestedExecutionDate)]),
            el("Dbtr", [el("Nm", text140(p.debtor.name, `${at}.debtor.name`))]),
            el("DbtrAcct", account(p.debtorAccount, `${at}.debtorAccount`)),
            el("DbtrAgt", [agent(p.debtorAgent, `${at}.debtorAgent`)]),
            p.chargeBearer ? el("ChrgBr", p.chargeBearer) : undefined,
            ...p.transfers.map((t, k) => {
              const tx = `${at}.transfers[${k}]`;
              return el("CdtTrfTxInf", [
                el("PmtId", [
                  t.instructionId ? el("InstrId", ident(t.instructionId, MAX35, `${tx}.instructionId`)) : undefined,
                  el("EndToEndId", ident(t.endToEndId, MAX35, `${tx}.endToEndId`)),
                ]),
                el("Amt", [el("InstdAmt", amounts[k], { Ccy: t.currency })]),
                t.creditorAgent ? el("CdtrAgt", [agent(t.creditorAgent, `${tx}.creditorAgent`)]) : undefined,
                el("Cdtr", [el("Nm", text140(t.creditor.name, `${tx}.creditor.name`))]),
                el("CdtrAcct", account(t.creditorAccount, `${tx}.creditorAccount`)),
                t.remittance ? el("RmtInf", [el("Ustrd", text140(t.remittance, `${tx}.remittance`))]) : undefined,
              ]);
            }),
          ]);
        }),
      ]),
    ],
    { xmlns: PAIN001_NAMESPACE },
  );
  return writeXml(doc);
}
