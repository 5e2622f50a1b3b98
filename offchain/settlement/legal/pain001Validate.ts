import { PAIN001_NAMESPACE, CURRENCY_MINOR_UNITS, sumDecimals } from "./pain001";
import { LegalError } from "./errors";
import { parseXml, type XmlElement } from "./xml";

/**
 * Structural validator for pain.001.001.09 (no XSD engine is available offline), covering the subset MarginBridge
 * writes. It checks what the XSD checks for that subset — element names, order and cardinality (xs:sequence and
 * xs:choice), the simple types (Max35Text, Max140Text, Max34Text, Max15NumericText, ISODate, ISODateTime,
 * DecimalNumber: 18 digits / 17 fraction, ActiveOrHistoricCurrencyAndAmount: 18 digits / 5 fraction, Ccy
 * [A-Z]{3}, IBAN2007Identifier, BICFIDec2014Identifier, code lists) — and the rules the XSD cannot express:
 * NbOfTxs and CtrlSum equal the transactions' count and sum (group and each PmtInf), unique PmtInfId and
 * EndToEndId, positive amounts with no more decimals than the currency's minor unit, IBAN mod-97 check digits.
 * Profile rule (stricter than the XSD, where they are optional): every transfer names its Cdtr and CdtrAcct.
 * Elements outside the modelled subset are reported as unexpected.
 */
export interface ValidationIssue {
  path: string;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  issues: ValidationIssue[];
  transactions: number;
  controlSum: string;
}

type SimpleType =
  | "Max35Text"
  | "Max70Text"
  | "Max140Text"
  | "Max34Text"
  | "Max4Text"
  | "Max15NumericText"
  | "ISODate"
  | "ISODateTime"
  | "DecimalNumber"
  | "Amount"
  | "IBAN"
  | "BICFI"
  | "LEI"
  | "CurrencyCode"
  | "PaymentMethod"
  | "ChargeBearer"
  | "Boolean";

interface Spec {
  name: string;
  min: number;
  max: number;
  type?: SimpleType;
  seq?: Spec[];
  choice?: Spec[];
  attrs?: { name: string; type: SimpleType }[];
}

const one = (name: string, rest: Omit<Spec, "name" | "min" | "max"> = {}): Spec => ({ name, min: 1, max: 1, ...rest });
const opt = (name: string, rest: Omit<Spec, "name" | "min" | "max"> = {}): Spec => ({ name, min: 0, max: 1, ...rest });
const many = (name: string, min: number, rest: Omit<Spec, "name" | "min" | "max"> = {}): Spec => ({
  name,
  min,
  max: Infinity,
  ...rest,
});

const CODE_OR_PROPRIETARY = [one("Cd", { type: "Max4Text" }), one("Prtry", { type: "Max35Text" })];
const GENERIC_ID = [
  one("Id", { type: "Max35Text" }),
  opt("SchmeNm", { choice: CODE_OR_PROPRIETARY }),
  opt("Issr", { type: "Max35Text" }),
];

const PARTY: Spec[] = [
  opt("Nm", { type: "Max140Text" }),
  opt("Id", {
    choice: [
      one("OrgId", {
        seq: [opt("AnyBIC", { type: "BICFI" }), opt("LEI", { type: "LEI" }), many("Othr", 0, { seq: GENERIC_ID })],
      }),
    ],
  }),
  opt("CtryOfRes", { type: "Max4Text" }),
];

const ACCOUNT: Spec[] = [
  one("Id", {
    choice: [
      one("IBAN", { type: "IBAN" }),
      one("Othr", {
        seq: [
          one("Id", { type: "Max34Text" }),
          opt("SchmeNm", { choice: CODE_OR_PROPRIETARY }),
          opt("Issr", { type: "Max35Text" }),
        ],
      }),
    ],
  }),
  opt("Ccy", { type: "CurrencyCode" }),
  opt("Nm", { type: "Max70Text" }),
];

const AGENT: Spec[] = [
  one("FinInstnId", {
    seq: [
      opt("BICFI", { type: "BICFI" }),
      opt("ClrSysMmbId", {
        seq: [opt("ClrSysId", { choice: CODE_OR_PROPRIETARY }), one("MmbId", { type: "Max35Text" })],
      }),
      opt("LEI", { type: "LEI" }),
      opt("Nm", { type: "Max140Text" }),
      opt("Othr", { seq: GENERIC_ID }),
    ],
  }),
];

const TRANSACTION: Spec[] = [
  one("PmtId", {
    seq: [opt("InstrId", { type: "Max35Text" }), one("EndToEndId", { type: "Max35Text" })],
  }),
  one("Amt", { choice: [one("InstdAmt", { type: "Amount", attrs: [{ name: "Ccy", type: "CurrencyCode" }] })] }),
  opt("ChrgBr", { type: "ChargeBearer" }),
  opt("CdtrAgt", { seq: AGENT }),
  one("Cdtr", { seq: PARTY }),
  one("CdtrAcct", { seq: ACCOUNT }),
  opt("RmtInf", { seq: [many("Ustrd", 0, { type: "Max140Text" })] }),
];

export const PAIN001_SCHEMA: Spec = one("Document", {
  attrs: [],
  seq: [
    one("CstmrCdtTrfInitn", {
      seq: [
        one("GrpHdr", {
          seq: [
            one("MsgId", { type: "Max35Text" }),
            one("CreDtTm", { type: "ISODateTime" }),
            one("NbOfTxs", { type: "Max15NumericText" }),
            opt("CtrlSum", { type: "DecimalNumber" }),
            one("InitgPty", { seq: PARTY }),
          ],
        }),
        many("PmtInf", 1, {
          seq: [
            one("PmtInfId", { type: "Max35Text" }),
            one("PmtMtd", { type: "PaymentMethod" }),
            opt("BtchBookg", { type: "Boolean" }),
            opt("NbOfTxs", { type: "Max15NumericText" }),
            opt("CtrlSum", { type: "DecimalNumber" }),
            one("ReqdExctnDt", { choice: [one("Dt", { type: "ISODate" }), one("DtTm", { type: "ISODateTime" })] }),
            one("Dbtr", { seq: PARTY }),
            one("DbtrAcct", { seq: ACCOUNT }),
            one("DbtrAgt", { seq: AGENT }),
            opt("ChrgBr", { type: "ChargeBearer" }),
            many("CdtTrfTxInf", 1, { seq: TRANSACTION }),
          ],
        }),
      ],
    }),
  ],
});

function digits(v: string): { total: number; fraction: number } {
  const [i, f = ""] = v.split(".");
  return { total: i.replace(/^0+(?=\d)/, "").length + f.length, fraction: f.length };
}

function ibanChecksumOk(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  const numeric = moved.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rem = 0;
  for (const ch of numeric) rem = (rem * 10 + Number(ch)) % 97;
  return rem === 1;
}

/** Checks a value against a simple type; returns the problem or undefined. */
export function checkSimpleType(type: SimpleType, v: string): string | undefined {
  const len = [...v].length;
  const maxText = (n: number): string | undefined =>
    len < 1 || len > n
      ? `length ${len} outside 1..${n}`
      : v.trim() !== v || v.trim() === ""
        ? "leading/trailing blanks"
        : undefined;
  switch (type) {
    case "Max35Text":
      return maxText(35);
    case "Max70Text":
      return maxText(70);
    case "Max140Text":
      return maxText(140);
    case "Max34Text":
      return maxText(34);
    case "Max4Text":
      return maxText(4);
    case "Max15NumericText":
      return /^[0-9]{1,15}$/.test(v) ? undefined : "not 1-15 digits";
    case "ISODate": {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return "not YYYY-MM-DD";
      return new Date(`${v}T00:00:00Z`).toISOString().startsWith(v) ? undefined : "no such date";
    }
    case "ISODateTime":
      return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/.test(v) &&
        !Number.isNaN(Date.parse(v.length === 19 ? `${v}Z` : v))
        ? undefined
        : "not an ISO date-time";
    case "DecimalNumber": {
      if (!/^\d+(\.\d+)?$/.test(v)) return "not a non-negative decimal";
      const d = digits(v);
      return d.total > 18 ? "more than 18 digits" : d.fraction > 17 ? "more than 17 fraction digits" : undefined;
    }
    case "Amount": {
      if (!/^\d+(\.\d+)?$/.test(v)) return "not a non-negative decimal amount";
      const d = digits(v);
      return d.total > 18 ? "more than 18 digits" : d.fraction > 5 ? "more than 5 fraction digits" : undefined;
    }
    case "IBAN":
      if (!/^[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}$/.test(v)) return "not an IBAN";
      return ibanChecksumOk(v.toUpperCase()) ? undefined : "IBAN check digits do not verify";
    case "BICFI":
      return /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(v) ? undefined : "not a BIC";
    case "LEI":
      return /^[A-Z0-9]{18}[0-9]{2}$/.test(v) ? undefined : "not an LEI";
    case "CurrencyCode":
      return /^[A-Z]{3}$/.test(v) ? undefined : "not an ISO 4217 code";
    case "PaymentMethod":
      return ["TRF", "CHK", "TRA"].includes(v) ? undefined : "PmtMtd must be TRF, CHK or TRA";
    case "ChargeBearer":
      return ["DEBT", "CRED", "SHAR", "SLEV"].includes(v) ? undefined : "not a charge bearer code";
    case "Boolean":
      return ["true", "false", "1", "0"].includes(v) ? undefined : "not a boolean";
  }
}

function validateElement(e: XmlElement, spec: Spec, path: string, issues: ValidationIssue[]): void {
  const allowedAttrs = new Set((spec.attrs ?? []).map((a) => a.name));
  for (const a of spec.attrs ?? []) {
    const v = e.attrs[a.name];
    if (v === undefined) issues.push({ path, message: `missing attribute ${a.name}` });
    else {
      const bad = checkSimpleType(a.type, v);
      if (bad) issues.push({ path: `${path}/@${a.name}`, message: bad });
    }
  }
  for (const k of Object.keys(e.attrs)) {
    if (!allowedAttrs.has(k) && !k.startsWith("xmlns")) issues.push({ path, message: `unexpected attribute ${k}` });
  }
  if (spec.type) {
    if (e.children.length > 0) issues.push({ path, message: "a simple element must not contain elements" });
    const bad = checkSimpleType(spec.type, e.text);
    if (bad) issues.push({ path, message: `${spec.type}: ${bad} ("${e.text.slice(0, 60)}")` });
    return;
  }
  if (e.text.trim() !== "") issues.push({ path, message: "unexpected text in a complex element" });
  const kids = e.children;
  if (spec.choice) {
    if (kids.length !== 1) {
      issues.push({ path, message: `exactly one of ${spec.choice.map((c) => c.name).join("|")} expected` });
    }
    for (const k of kids) {
      const s = spec.choice.find((c) => c.name === k.name);
      if (!s) issues.push({ path: `${path}/${k.name}`, message: "unexpected element" });
      else validateElement(k, s, `${path}/${k.name}`, issues);
    }
    return;
  }
  let i = 0;
  const counters = new Map<string, number>();
  for (const s of spec.seq ?? []) {
    let n = 0;
    while (i < kids.length && kids[i].name === s.name && n < s.max) {
      const idx = counters.get(s.name) ?? 0;
      counters.set(s.name, idx + 1);
      validateElement(kids[i], s, `${path}/${s.name}${s.max > 1 ? `[${idx + 1}]` : ""}`, issues);
      i++;
      n++;
    }
    if (n < s.min) issues.push({ path, message: `missing ${s.name}${s.min > 1 ? ` (at least ${s.min})` : ""}` });
  }
  for (; i < kids.length; i++) {
    issues.push({ path: `${path}/${kids[i].name}`, message: "unexpected element (unknown, repeated or out of order)" });
  }
}

const kidsNamed = (e: XmlElement | undefined, name: string): XmlElement[] =>
  e?.children.filter((c) => c.name === name) ?? [];
const txt = (e: XmlElement | undefined, name: string): string | undefined => kidsNamed(e, name)[0]?.text;

/** Validates a pain.001.001.09 document (text). Never throws for invalid content; malformed XML is one issue. */
export function validatePain001(xml: string): ValidationResult {
  const issues: ValidationIssue[] = [];
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    const msg = e instanceof LegalError ? `${e.message} (line ${String(e.details.line)})` : String(e);
    return {
      valid: false,
      issues: [{ path: "/", message: `not well-formed XML: ${msg}` }],
      transactions: 0,
      controlSum: "0",
    };
  }
  if (root.name !== "Document") issues.push({ path: "/", message: `root must be Document, not ${root.name}` });
  if (root.attrs.xmlns !== PAIN001_NAMESPACE) {
    issues.push({ path: "/Document", message: `namespace must be ${PAIN001_NAMESPACE}` });
  }
  validateElement(root, PAIN001_SCHEMA, "/Document", issues);

  const init = kidsNamed(root, "CstmrCdtTrfInitn")[0];
  const hdr = kidsNamed(init, "GrpHdr")[0];
  const payments = kidsNamed(init, "PmtInf");
  const all: string[] = [];
  const endToEnd = new Set<string>();
  const paymentIds = new Set<string>();
  payments.forEach((p, k) => {
    const path = `/Document/CstmrCdtTrfInitn/PmtInf[${k + 1}]`;
    const id = txt(p, "PmtInfId");
    if (id !== undefined) {
      if (paymentIds.has(id)) issues.push({ path, message: `duplicate PmtInfId ${id}` });
      paymentIds.add(id);
    }
    const amounts: string[] = [];
    kidsNamed(p, "CdtTrfTxInf").forEach((t, j) => {
      const tpath = `${path}/CdtTrfTxInf[${j + 1}]`;
      const e2e = txt(kidsNamed(t, "PmtId")[0], "EndToEndId");
      if (e2e !== undefined) {
        if (endToEnd.has(e2e)) issues.push({ path: tpath, message: `duplicate EndToEndId ${e2e}` });
        endToEnd.add(e2e);
      }
      const amt = kidsNamed(kidsNamed(t, "Amt")[0], "InstdAmt")[0];
      if (!amt || checkSimpleType("Amount", amt.text) !== undefined) return;
      amounts.push(amt.text);
      if (/^0+(\.0+)?$/.test(amt.text))
        issues.push({ path: `${tpath}/Amt/InstdAmt`, message: "amount must be positive" });
      const minor = CURRENCY_MINOR_UNITS[amt.attrs.Ccy ?? ""];
      if (minor !== undefined && digits(amt.text).fraction > minor) {
        issues.push({ path: `${tpath}/Amt/InstdAmt`, message: `more decimals than ${amt.attrs.Ccy} has (${minor})` });
      }
    });
    const nb = txt(p, "NbOfTxs");
    if (nb !== undefined && nb !== String(kidsNamed(p, "CdtTrfTxInf").length)) {
      issues.push({
        path: `${path}/NbOfTxs`,
        message: `says ${nb}, the PmtInf has ${kidsNamed(p, "CdtTrfTxInf").length}`,
      });
    }
    const cs = txt(p, "CtrlSum");
    if (cs !== undefined && amounts.length > 0 && !sameDecimal(cs, sumDecimals(amounts))) {
      issues.push({ path: `${path}/CtrlSum`, message: `says ${cs}, the amounts sum to ${sumDecimals(amounts)}` });
    }
    all.push(...amounts);
  });
  const total = payments.reduce((s, p) => s + kidsNamed(p, "CdtTrfTxInf").length, 0);
  const nb = txt(hdr, "NbOfTxs");
  if (nb !== undefined && nb !== String(total)) {
    issues.push({ path: "/Document/CstmrCdtTrfInitn/GrpHdr/NbOfTxs", message: `says ${nb}, the message has ${total}` });
  }
  const controlSum = all.length > 0 ? sumDecimals(all) : "0";
  const cs = txt(hdr, "CtrlSum");
  if (cs !== undefined && !sameDecimal(cs, controlSum)) {
    issues.push({
      path: "/Document/CstmrCdtTrfInitn/GrpHdr/CtrlSum",
      message: `says ${cs}, the amounts sum to ${controlSum}`,
    });
  }
  return { valid: issues.length === 0, issues, transactions: total, controlSum };
}

function sameDecimal(a: string, b: string): boolean {
  const norm = (v: string): string => {
    const [i, f = ""] = v.split(".");
    return `${BigInt(i)}.${f.replace(/0+$/, "")}`;
  };
  return /^\d+(\.\d+)?$/.test(a) && norm(a) === norm(b);
}
