/**
 * A strict little XML well-formedness checker for the SVG tests (no XML parser is installed): one root element,
 * properly nested and closed tags, quoted and unique attributes, only the five predefined entities or character
 * references, no stray '<' or '&'. Returns the element tree so tests can count what was drawn.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;

export function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed at ${i}: ${why} near ${JSON.stringify(source.slice(i, i + 40))}`);
  };
  const skipSpace = () => {
    while (i < source.length && /\s/.test(source[i])) i++;
  };
  const checkText = (text: string) => {
    for (let k = 0; k < text.length; k++) {
      if (text[k] === "<") fail("'<' in text");
      if (text[k] === "&" && !ENTITY.test(text.slice(k))) fail("bad entity");
    }
    return text;
  };

  if (source.startsWith("<?xml")) {
    const end = source.indexOf("?>");
    if (end < 0) fail("unterminated XML declaration");
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < source.length) {
    if (source.startsWith("<!--", i)) {
      const end = source.indexOf("-->", i);
      if (end < 0) fail("unterminated comment");
      i = end + 3;
    } else if (source.startsWith("</", i)) {
      i += 2;
      const name = NAME.exec(source.slice(i))?.[0] ?? fail("closing tag without a name");
      i += name.length;
      skipSpace();
      if (source[i] !== ">") fail("closing tag not ended");
      i++;
      const open = stack.pop();
      if (!open || open.name !== name) fail(`</${name}> closes <${open?.name}>`);
    } else if (source[i] === "<") {
      i++;
      const name = NAME.exec(source.slice(i))?.[0] ?? fail("tag without a name");
      i += name.length;
      const attributes: Record<string, string> = {};
      for (;;) {
        const before = i;
        skipSpace();
        if (source.startsWith("/>", i) || source[i] === ">") break;
        if (i === before) fail("attributes must be separated by space");
        const attr = NAME.exec(source.slice(i))?.[0] ?? fail("bad attribute name");
        i += attr.length;
        if (attr in attributes) fail(`duplicate attribute ${attr}`);
        skipSpace();
        if (source[i] !== "=") fail("attribute without '='");
        i++;
        skipSpace();
        const quote = source[i];
        if (quote !== '"' && quote !== "'") fail("unquoted attribute value");
        const end = source.indexOf(quote, i + 1);
        if (end < 0) fail("unterminated attribute value");
        attributes[attr] = checkText(source.slice(i + 1, end));
        i = end + 1;
      }
      const element: XmlElement = { name, attributes, children: [], text: "" };
      if (stack.length) stack[stack.length - 1].children.push(element);
      else if (root) fail("more than one root element");
      else root = element;
      if (source.startsWith("/>", i)) i += 2;
      else {
        i++;
        stack.push(element);
      }
    } else {
      const next = source.indexOf("<", i);
      const text = source.slice(i, next < 0 ? source.length : next);
      if (stack.length) stack[stack.length - 1].text += checkText(text);
      else if (text.trim()) fail("text outside the root element");
      i += text.length;
    }
  }
  if (stack.length) fail(`<${stack[stack.length - 1].name}> is never closed`);
  return root ?? fail("no root element");
}

/** Every element named `name` in the tree. */
export function findAll(element: XmlElement, name: string): XmlElement[] {
  return [...(element.name === name ? [element] : []), ...element.children.flatMap((c) => findAll(c, name))];
}
