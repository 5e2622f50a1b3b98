import { LegalError } from "./errors";

/**
 * A small XML 1.0 writer and reader for the bank messages (pain.001 out, camt.054 in). The reader is
 * non-validating and deliberately narrow: no DTDs (a DOCTYPE is refused, so no entity expansion attacks), only the
 * five predefined entities and character references, namespace prefixes dropped from names (the default namespace
 * is kept in the `xmlns` attribute for the caller to check).
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element (CDATA included), not trimmed. */
  text: string;
  /** 1-based line of the start tag, for error messages. */
  line: number;
}

// XML 1.0 Char production, minus what is never legitimate in a payment message.
const INVALID_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Escapes character data and attribute values; refuses characters XML 1.0 cannot carry at all. */
export function escapeXml(value: string): string {
  if (INVALID_CHARS.test(value)) throw new LegalError("LEGAL_XML", "character not allowed in XML", { value });
  return value.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/** A node to write: `text` for a leaf, `children` for a container; undefined children are skipped. */
export interface XmlNode {
  name: string;
  attrs?: Record<string, string>;
  text?: string;
  children?: (XmlNode | undefined)[];
}

export function el(name: string, content?: string | (XmlNode | undefined)[], attrs?: Record<string, string>): XmlNode {
  return typeof content === "string" ? { name, text: content, attrs } : { name, children: content ?? [], attrs };
}

/** Serialises with two-space indentation and an XML declaration. */
export function writeXml(root: XmlNode): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const walk = (n: XmlNode, depth: number): void => {
    const pad = "  ".repeat(depth);
    const attrs = Object.entries(n.attrs ?? {})
      .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
      .join("");
    if (n.text !== undefined) {
      out.push(`${pad}<${n.name}${attrs}>${escapeXml(n.text)}</${n.name}>`);
      return;
    }
    const kids = (n.children ?? []).filter((c): c is XmlNode => c !== undefined);
    if (kids.length === 0) {
      out.push(`${pad}<${n.name}${attrs}/>`);
      return;
    }
    out.push(`${pad}<${n.name}${attrs}>`);
    for (const k of kids) walk(k, depth + 1);
    out.push(`${pad}</${n.name}>`);
  };
  walk(root, 0);
  return out.join("\n") + "\n";
}

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;

function decodeEntities(raw: string, line: number): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);|&/g, (m, ent: string | undefined) => {
    if (ent === undefined) throw new LegalError("LEGAL_XML", "bare '&' in character data", { line });
    if (ent.startsWith("#")) {
      const code = ent[1] === "x" ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      const ch = String.fromCodePoint(code);
      if (INVALID_CHARS.test(ch)) throw new LegalError("LEGAL_XML", "character reference not allowed", { line, m });
      return ch;
    }
    const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
    if (!(ent in named)) throw new LegalError("LEGAL_XML", "unknown entity", { line, entity: ent });
    return named[ent];
  });
}

/** Parses a document into its root element. Throws LEGAL_XML with a line number on malformed input. */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  let line = 1;
  const fail = (message: string): never => {
    throw new LegalError("LEGAL_XML", message, { line });
  };
  const advance = (n: number): void => {
    for (let k = 0; k < n; k++) if (xml.charCodeAt(i + k) === 10) line++;
    i += n;
  };
  const skipUntil = (end: string): string => {
    const j = xml.indexOf(end, i);
    if (j < 0) fail(`unterminated construct, expected ${end}`);
    const body = xml.slice(i, j);
    advance(j - i + end.length);
    return body;
  };
  if (xml.charCodeAt(0) === 0xfeff) i = 1;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    if (xml.startsWith("<?", i)) {
      advance(2);
      skipUntil("?>");
    } else if (xml.startsWith("<!--", i)) {
      advance(4);
      skipUntil("-->");
    } else if (xml.startsWith("<![CDATA[", i)) {
      if (stack.length === 0) fail("CDATA outside the root element");
      advance(9);
      stack[stack.length - 1].text += skipUntil("]]>");
    } else if (xml.startsWith("<!", i)) {
      fail("DOCTYPE and other declarations are not accepted");
    } else if (xml.startsWith("</", i)) {
      advance(2);
      const m = NAME.exec(xml.slice(i, i + 200));
      if (!m) fail("bad end tag");
      advance(m![0].length);
      while (/\s/.test(xml[i] ?? "")) advance(1);
      if (xml[i] !== ">") fail("bad end tag");
      advance(1);
      const open = stack.pop();
      const local = m![0].replace(/^.*:/, "");
      if (!open || open.name !== local) fail(`end tag </${local}> does not match <${open?.name ?? ""}>`);
      if (stack.length === 0) root = open;
    } else if (xml[i] === "<") {
      if (root) fail("content after the root element");
      const startLine = line;
      advance(1);
      const m = NAME.exec(xml.slice(i, i + 200));
      if (!m) fail("bad start tag");
      advance(m![0].length);
      const attrs: Record<string, string> = {};
      for (;;) {
        const ws = /^\s*/.exec(xml.slice(i, i + 1000))![0];
        advance(ws.length);
        if (xml.startsWith("/>", i) || xml[i] === ">") break;
        if (ws.length === 0) fail("attributes must be separated by whitespace");
        const a = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(xml.slice(i, i + 10_000));
        if (!a) fail("bad attribute");
        const key = a![1].startsWith("xmlns") ? a![1] : a![1].replace(/^.*:/, "");
        if (key in attrs) fail(`duplicate attribute ${key}`);
        attrs[key] = decodeEntities(a![3] ?? a![4], line);
        advance(a![0].length);
      }
      const element: XmlElement = { name: m![0].replace(/^.*:/, ""), attrs, children: [], text: "", line: startLine };
      if (stack.length > 0) stack[stack.length - 1].children.push(element);
      if (xml.startsWith("/>", i)) {
        advance(2);
        if (stack.length === 0) root = element;
      } else {
        advance(1);
        stack.push(element);
      }
    } else {
      const j = xml.indexOf("<", i);
      const raw = xml.slice(i, j < 0 ? xml.length : j);
      if (stack.length === 0) {
        if (raw.trim() !== "") fail("text outside the root element");
      } else {
        stack[stack.length - 1].text += decodeEntities(raw, line);
      }
      advance(raw.length);
    }
  }
  if (stack.length > 0) fail(`unclosed element <${stack[stack.length - 1].name}>`);
  if (!root) fail("no root element");
  return root!;
}

/** The first child named `name`, if any. */
export function child(e: XmlElement, name: string): XmlElement | undefined {
  return e.children.find((c) => c.name === name);
}

/** Follows a path of child names; undefined when any step is missing. */
export function at(e: XmlElement | undefined, ...path: string[]): XmlElement | undefined {
  let cur = e;
  for (const p of path) cur = cur ? child(cur, p) : undefined;
  return cur;
}

/** Trimmed text at a path, or undefined. */
export function textAt(e: XmlElement | undefined, ...path: string[]): string | undefined {
  return at(e, ...path)?.text.trim();
}
