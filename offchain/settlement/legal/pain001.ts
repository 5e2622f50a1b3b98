import { formatUnits, rescale } from "./amounts";
import { LegalError } from "./errors";
import { el, writeXml, type XmlNode } from "./xml";

export const PAIN001_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

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

function account(a: BankAccount): XmlNode[] {
  return [
    el(
      "Id",
      "iban" in a
        ? [el("IBAN", a.iban.replace(/\s+/g, "").toUpperCase())]
        : [el("Othr", [el("Id", a.other), a.scheme ? el("SchmeNm", [el("Prtry", a.scheme)]) : undefined])],
    ),
  ];
}

function agent(a: BankAgent): XmlNode {
  return el("FinInstnId", [
    "bic" in a
      ? el("BICFI", a.bic)
      : el("ClrSysMmbId", [
          a.clearingSystem ? el("ClrSysId", [el("Prtry", a.clearingSystem)]) : undefined,
          el("MmbId", a.clearingMemberId),
        ]),
  ]);
}

/**
 * Writes a pain.001.001.09 CustomerCreditTransferInitiation: one group header, one PmtInf per debtor account and
 * execution date, one CdtTrfTxInf per payout. NbOfTxs and CtrlSum are computed (group and each PmtInf); every text
 * is XML-escaped. Validate the result with validatePain001 before sending it.
 */
export function buildPain001(msg: CreditTransferMessage): string {
  const all = msg.payments.flatMap((p) => p.transfers.map(bankAmount));
  const doc = el(
    "Document",
    [
      el("CstmrCdtTrfInitn", [
        el("GrpHdr", [
          el("MsgId", msg.messageId),
          el("CreDtTm", msg.createdAt),
          el("NbOfTxs", String(all.length)),
          el("CtrlSum", sumDecimals(all)),
          el("InitgPty", [
            el("Nm", msg.initiatingParty.name),
            msg.initiatingParty.orgId
              ? el("Id", [el("OrgId", [el("Othr", [el("Id", msg.initiatingParty.orgId)])])])
              : undefined,
          ]),
        ]),
        ...msg.payments.map((p) => {
          const amounts = p.transfers.map(bankAmount);
          return el("PmtInf", [
            el("PmtInfId", p.paymentInfoId),
            el("PmtMtd", "TRF"),
            el("NbOfTxs", String(p.transfers.length)),
            el("CtrlSum", sumDecimals(amounts)),
            el("ReqdExctnDt", [el("Dt", p.requestedExecutionDate)]),
            el("Dbtr", [el("Nm", p.debtor.name)]),
            el("DbtrAcct", account(p.debtorAccount)),
            el("DbtrAgt", [agent(p.debtorAgent)]),
            p.chargeBearer ? el("ChrgBr", p.chargeBearer) : undefined,
            ...p.transfers.map((t, k) =>
              el("CdtTrfTxInf", [
                el("PmtId", [
                  t.instructionId ? el("InstrId", t.instructionId) : undefined,
                  el("EndToEndId", t.endToEndId),
                ]),
                el("Amt", [el("InstdAmt", amounts[k], { Ccy: t.currency })]),
                t.creditorAgent ? el("CdtrAgt", [agent(t.creditorAgent)]) : undefined,
                el("Cdtr", [el("Nm", t.creditor.name)]),
                el("CdtrAcct", account(t.creditorAccount)),
                t.remittance ? el("RmtInf", [el("Ustrd", t.remittance)]) : undefined,
              ]),
            ),
          ]);
        }),
      ]),
    ],
    { xmlns: PAIN001_NAMESPACE },
  );
  return writeXml(doc);
}
