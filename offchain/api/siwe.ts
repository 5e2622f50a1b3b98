import { getAddress, verifyMessage } from "ethers";
import { AppError } from "../shared/errors";

/**
 * Sign-In with Ethereum (EIP-4361): the message a wallet signs with personal_sign (EIP-191), parsed strictly by the
 * ABNF of the EIP and checked against what this service expects. No SIWE library is installed here (no `viem`, no
 * `siwe`), so the parser follows the EIP's grammar line by line; it refuses anything the grammar does not produce.
 */
export interface SiweMessage {
  /** RFC 3986 authority (host[:port]) that asks for the sign-in. */
  domain: string;
  scheme?: string;
  /** EIP-55 checksummed, as the EIP requires. */
  address: string;
  statement?: string;
  uri: string;
  version: "1";
  chainId: number;
  nonce: string;
  issuedAt: string;
  expirationTime?: string;
  notBefore?: string;
  requestId?: string;
  resources?: string[];
}

const HEADER_SUFFIX = " wants you to sign in with your Ethereum account:";
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const NONCE = /^[A-Za-z0-9]{8,}$/;
const AUTHORITY = /^[A-Za-z0-9.\-_~%!$&'()*+,;=:@[\]]+$/;
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/;

function invalid(message: string, field: string): AppError {
  return new AppError("VALIDATION_FAILED", `sign-in message: ${message}`, {
    details: { issues: [{ field: `body.message.${field}`, message }] },
  });
}

function dateTime(value: string, field: string): string {
  if (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) throw invalid("not an RFC 3339 date-time", field);
  return value;
}

/** Parses an EIP-4361 message; throws VALIDATION_FAILED naming the first line that does not follow the grammar. */
export function parseSiweMessage(text: string): SiweMessage {
  const lines = text.split("\n");
  let i = 0;
  const next = (): string => {
    if (i >= lines.length) throw invalid("message ends early", "message");
    return lines[i++];
  };
  const head = next();
  if (!head.endsWith(HEADER_SUFFIX)) throw invalid("first line must end with the EIP-4361 preamble", "domain");
  let origin = head.slice(0, -HEADER_SUFFIX.length);
  let scheme: string | undefined;
  const sep = origin.indexOf("://");
  if (sep > 0) [scheme, origin] = [origin.slice(0, sep), origin.slice(sep + 3)];
  if (!AUTHORITY.test(origin)) throw invalid("domain is not an RFC 3986 authority", "domain");
  const rawAddress = next();
  if (!/^0x[0-9a-fA-F]{40}$/.test(rawAddress) || getAddress(rawAddress) !== rawAddress)
    throw invalid("address must be EIP-55 checksummed", "address");
  if (next() !== "") throw invalid("a blank line must follow the address", "address");
  let statement: string | undefined;
  let line = next();
  if (line !== "") {
    if (line.startsWith("URI: ")) throw invalid("a blank line must precede URI", "statement");
    statement = line;
    if (next() !== "") throw invalid("a blank line must follow the statement", "statement");
  }
  line = next();
  const field = (name: string, value: string): string => {
    const prefix = `${name}: `;
    if (!value.startsWith(prefix)) throw invalid(`expected "${prefix}"`, name);
    return value.slice(prefix.length);
  };
  const uri = field("URI", line);
  if (!URI.test(uri)) throw invalid("URI is not an RFC 3986 URI", "uri");
  if (field("Version", next()) !== "1") throw invalid("version must be 1", "version");
  const chain = field("Chain ID", next());
  if (!/^[1-9][0-9]{0,15}$/.test(chain)) throw invalid("chain id must be a positive integer", "chainId");
  const nonce = field("Nonce", next());
  if (!NONCE.test(nonce)) throw invalid("nonce must be at least 8 alphanumeric characters", "nonce");
  const issuedAt = dateTime(field("Issued At", next()), "issuedAt");
  const msg: SiweMessage = {
    domain: origin,
    ...(scheme ? { scheme } : {}),
    address: rawAddress,
    ...(statement !== undefined ? { statement } : {}),
    uri,
    version: "1",
    chainId: Number(chain),
    nonce,
    issuedAt,
  };
  const optional: [string, (v: string) => void][] = [
    ["Expiration Time", (v) => (msg.expirationTime = dateTime(v, "expirationTime"))],
    ["Not Before", (v) => (msg.notBefore = dateTime(v, "notBefore"))],
    ["Request ID", (v) => (msg.requestId = v)],
  ];
  for (const [name, set] of optional) {
    if (i < lines.length && lines[i].startsWith(`${name}: `)) set(field(name, next()));
  }
  if (i < lines.length && lines[i] === "Resources:") {
    i++;
    msg.resources = [];
    while (i < lines.length && lines[i].startsWith("- ")) {
      const r = next().slice(2);
      if (!URI.test(r)) throw invalid("resource is not a URI", "resources");
      msg.resources.push(r);
    }
  }
  if (i !== lines.length) throw invalid(`unexpected line ${i + 1}`, "message");
  return msg;
}

/** The message text for the given fields (the inverse of parseSiweMessage), as the console builds it. */
export function formatSiweMessage(m: SiweMessage): string {
  const lines = [`${m.scheme ? `${m.scheme}://` : ""}${m.domain}${HEADER_SUFFIX}`, m.address, ""];
  // the ABNF: address LF LF [ statement LF ] LF "URI: " — without a statement, two blank lines
  lines.push(...(m.statement !== undefined ? [m.statement, ""] : [""]));
  lines.push(`URI: ${m.uri}`, `Version: ${m.version}`, `Chain ID: ${m.chainId}`, `Nonce: ${m.nonce}`);
  lines.push(`Issued At: ${m.issuedAt}`);
  if (m.expirationTime) lines.push(`Expiration Time: ${m.expirationTime}`);
  if (m.notBefore) lines.push(`Not Before: ${m.notBefore}`);
  if (m.requestId !== undefined) lines.push(`Request ID: ${m.requestId}`);
  if (m.resources) lines.push("Resources:", ...m.resources.map((r) => `- ${r}`));
  return lines.join("\n");
}

/** What the service expects of a sign-in message. */
export interface SiweExpectation {
  /** The authority the browser talked to (the request's Host), or the configured one. */
  domains: readonly string[];
  chainId: number;
  now: number;
  /** How far Issued At may lie in the future (clock skew) and in the past. */
  maxSkewMs: number;
  maxAgeMs: number;
}

function refused(reason: string, message: string): AppError {
  return new AppError("UNAUTHENTICATED", `sign-in refused: ${message}`, { details: { reason } });
}

/**
 * Parses and checks a signed sign-in message: the signature recovers the message's address (EIP-191), the domain
 * is this service's, the URI is on that domain, the chain is the deployment's, and the message is within its
 * time bounds. The nonce is checked by the caller (it must be one this service issued and consume it once).
 */
export function verifySiwe(text: string, signature: string, expect: SiweExpectation): SiweMessage {
  const m = parseSiweMessage(text);
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) throw refused("bad_signature", "signature must be 65 bytes hex");
  let signer: string;
  try {
    signer = verifyMessage(text, signature);
  } catch {
    throw refused("bad_signature", "signature does not recover");
  }
  if (signer !== m.address) throw refused("bad_signature", "the signature is not the address's");
  if (!expect.domains.includes(m.domain)) throw refused("wrong_domain", `domain ${m.domain} is not this service's`);
  let uriHost: string;
  try {
    uriHost = new URL(m.uri).host;
  } catch {
    throw refused("wrong_uri", "URI does not parse");
  }
  if (uriHost !== m.domain) throw refused("wrong_uri", "URI is not on the signed-in domain");
  if (m.chainId !== expect.chainId) throw refused("wrong_chain", `chain ${m.chainId} is not ${expect.chainId}`);
  const issued = Date.parse(m.issuedAt);
  if (issued > expect.now + expect.maxSkewMs) throw refused("not_yet_valid", "issued in the future");
  if (issued < expect.now - expect.maxAgeMs) throw refused("expired", "issued too long ago");
  if (m.expirationTime && Date.parse(m.expirationTime) <= expect.now) throw refused("expired", "message expired");
  if (m.notBefore && Date.parse(m.notBefore) > expect.now + expect.maxSkewMs)
    throw refused("not_yet_valid", "not valid before its Not Before time");
  return m;
}
