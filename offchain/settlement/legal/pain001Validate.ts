import { readFileSync } from "node:fs";
import path from "node:path";
import { validateXML } from "xmllint-wasm";
import { CURRENCY_MINOR_UNITS, PAIN001_NAMESPACE, sumDecimals } from "./pain001";
import { parseXml, type XmlElement } from "./xml";

/**
 * pain.001 validation in two layers. First the ISO 20022 schema itself (schemas/pain.001.001.10.xsd, unchanged)
 * with libxml2's XSD validator (xmllint-wasm, libxml2 compiled to WebAssembly): names, order, cardinality,
 * namespaces, every simple type and facet, exactly as a bank's gateway would check it. Then, on a schema-valid
 * document, the business rules no XSD can express: NbOfTxs and CtrlSum equal the transactions' count and sum (the
 * group and each PmtInf), unique PmtInfId and EndToEndId, positive amounts with no more decimals than the
 * currency's minor unit, IBAN mod-97 check digits, and the profile rule that every transfer names its Cdtr and
 * CdtrAcct (optional in the schema).
 */
export interface ValidationIssue {
  path: string;
  message: string;
  /** "schema" (the ISO XSD refused it) or "rule" (a business rule on a schema-valid document). */
  layer: "schema" | "rule";
}

export interface ValidationResult {
  valid: boolean;
  issues: ValidationIssue[];
  transactions: number;
  controlSum: string;
}

/** The schema file MarginBridge validates against (the version pain001.ts writes). */
export const PAIN001_XSD_FILE = path.join(__dirname, "schemas", "pain.001.001.10.xsd");
let xsd: string | undefined;
const schemaText = (): string => (xsd ??= readFileSync(PAIN001_XSD_FILE, "utf8"));

/** The ISO schema's verdict: libxml2's messages, with the line each refers to. */
async function schemaIssues(xml: string): Promise<ValidationIssue[]> {
  const r = await validateXML({
    xml: [{ fileName: "pain001.xml", contents: xml }],
    schema: [{ fileName: "pain.001.001.10.xsd", contents: schemaText() }],
  });
  return r.errors.map((e) => ({
    path: e.loc ? `line ${e.loc.lineNumber}` : "/",
    message: e.message.trim(),
    layer: "schema" as const,
  }));
}

/** Validates a pain.001 document (text) against the ISO schema, then the business rules. Never throws for content. */
export async function validatePain001(xml: string): Promise<ValidationResult> {
  const schema = await schemaIssues(xml);
  if (schema.length > 0) return { valid: false, issues: schema, transactions: 0, controlSum: "0" };
  const issues: ValidationIssue[] = [];
  const root = localNames(parseXml(xml));
  const { transactions, controlSum } = checkRules(root, issues);
  return { valid: issues.length === 0, issues, transactions, controlSum };
}

/** The tree by local names (a schema-valid document may use a prefix for the pain.001 namespace). */
function localNames(e: XmlElement): XmlElement {
  return { ...e, name: e.name.slice(e.name.indexOf(":") + 1), children: e.children.map(localNames) };
}

const kidsNamed = (e: XmlElement | undefined, name: string): XmlElement[] =>
  e?.children.filter((c) => c.name === name) ?? [];
const txt = (e: XmlElement | undefined, name: string): string | undefined => kidsNamed(e, name)[0]?.text.trim();
/** Fraction digits that carry value (trailing zeros write the same number). */
const fractionDigits = (v: string): number => (v.split(".")[1] ?? "").replace(/0+$/, "").length;

/** An xs:decimal as written (an optional sign, leading zeros) in plain form: "+0108000.50" → "108000.50". */
function plainDecimal(v: string): string {
  const [i, f] = v.replace(/^\+/, "").split(".");
  return f === undefined ? String(BigInt(i)) : `${BigInt(i)}.${f}`;
}

function ibanChecksumOk(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  const numeric = moved.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  return BigInt(numeric) % 97n === 1n;
}

function checkRules(root: XmlElement, issues: ValidationIssue[]): { transactions: number; controlSum: string } {
  const rule = (p: string, message: string) => issues.push({ path: p, message, layer: "rule" });
  const init = kidsNamed(root, "CstmrCdtTrfInitn")[0];
  const hdr = kidsNamed(init, "GrpHdr")[0];
  const payments = kidsNamed(init, "PmtInf");
  const all: string[] = [];
  const endToEnd = new Set<string>();
  const paymentIds = new Set<string>();
  for (const iban of ibans(root))
    if (!ibanChecksumOk(iban.text.trim())) rule(iban.path, "IBAN check digits do not verify");
  payments.forEach((p, k) => {
    const pPath = `/Document/CstmrCdtTrfInitn/PmtInf[${k + 1}]`;
    const id = txt(p, "PmtInfId")!;
    if (paymentIds.has(id)) rule(pPath, `duplicate PmtInfId ${id}`);
    paymentIds.add(id);
    const txs = kidsNamed(p, "CdtTrfTxInf");
    const amounts: string[] = [];
    txs.forEach((t, j) => {
      const tPath = `${pPath}/CdtTrfTxInf[${j + 1}]`;
      const e2e = txt(kidsNamed(t, "PmtId")[0], "EndToEndId")!;
      if (endToEnd.has(e2e)) rule(tPath, `duplicate EndToEndId ${e2e}`);
      endToEnd.add(e2e);
      if (kidsNamed(t, "Cdtr").length === 0) rule(tPath, "names no Cdtr (the profile requires the payee)");
      if (kidsNamed(t, "CdtrAcct").length === 0) rule(tPath, "names no CdtrAcct (the profile requires the account)");
      const amt = kidsNamed(kidsNamed(t, "Amt")[0], "InstdAmt")[0];
      if (amt === undefined) {
        rule(`${tPath}/Amt`, "the profile pays instructed amounts (InstdAmt) only");
        return;
      }
      const value = plainDecimal(amt.text.trim());
      amounts.push(value);
      if (/^0+(\.0+)?$/.test(value)) rule(`${tPath}/Amt/InstdAmt`, "amount must be positive");
      const minor = CURRENCY_MINOR_UNITS[amt.attrs.Ccy ?? ""];
      if (minor === undefined) rule(`${tPath}/Amt/InstdAmt/@Ccy`, `the platform does not pay in ${amt.attrs.Ccy}`);
      else if (fractionDigits(value) > minor)
        rule(`${tPath}/Amt/InstdAmt`, `more decimals than ${amt.attrs.Ccy} has (${minor})`);
    });
    const nb = txt(p, "NbOfTxs");
    if (nb !== undefined && nb !== String(txs.length))
      rule(`${pPath}/NbOfTxs`, `says ${nb}, the PmtInf has ${txs.length}`);
    const cs = txt(p, "CtrlSum");
    if (cs !== undefined && amounts.length > 0 && !sameDecimal(cs, sumDecimals(amounts)))
      rule(`${pPath}/CtrlSum`, `says ${cs}, the amounts sum to ${sumDecimals(amounts)}`);
    all.push(...amounts);
  });
  const transactions = payments.reduce((s, p) => s + kidsNamed(p, "CdtTrfTxInf").length, 0);
  const nb = txt(hdr, "NbOfTxs");
  if (nb !== String(transactions))
    rule("/Document/CstmrCdtTrfInitn/GrpHdr/NbOfTxs", `says ${nb}, the message has ${transactions}`);
  const controlSum = all.length > 0 ? sumDecimals(all) : "0";
  const cs = txt(hdr, "CtrlSum");
  if (cs !== undefined && !sameDecimal(cs, controlSum))
    rule("/Document/CstmrCdtTrfInitn/GrpHdr/CtrlSum", `says ${cs}, the amounts sum to ${controlSum}`);
  if (root.attrs.xmlns !== undefined && root.attrs.xmlns !== PAIN001_NAMESPACE)
    rule("/Document", `default namespace must be ${PAIN001_NAMESPACE}`);
  return { transactions, controlSum };
}

/** Every IBAN element, with its path. */
function ibans(e: XmlElement, parent = ""): { text: string; path: string }[] {
  const here = `${parent}/${e.name}`;
  return [...(e.name === "IBAN" ? [{ text: e.text, path: here }] : []), ...e.children.flatMap((c) => ibans(c, here))];
}

function sameDecimal(a: string, b: string): boolean {
  const norm = (v: string): string => {
    const [i, f = ""] = plainDecimal(v).split(".");
    return `${BigInt(i)}.${f.replace(/0+$/, "")}`;
  };
  return norm(a) === norm(b);
}
