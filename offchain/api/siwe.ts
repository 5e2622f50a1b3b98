import { verifyMessage } from "ethers";
import { SiweMessage as Eip4361 } from "siwe";
import { AppError } from "../shared/errors";

/**
 * Sign-In with Ethereum (EIP-4361): the message a wallet signs with personal_sign (EIP-191). Parsing and writing
 * are the reference implementation's (`siwe`, whose parser runs the EIP's ABNF grammar through apg-js): a message
 * the grammar does not produce is refused. On top, the service checks what it expects (verifySiwe).
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

function invalid(message: string): AppError {
  return new AppError("VALIDATION_FAILED", `sign-in message: ${message}`, {
    details: { issues: [{ field: "body.message", message }] },
  });
}

const OPTIONAL = ["scheme", "statement", "expirationTime", "notBefore", "requestId", "resources"] as const;

/** Parses an EIP-4361 message (the `siwe` reference parser); throws VALIDATION_FAILED saying what is wrong. */
export function parseSiweMessage(text: string): SiweMessage {
  let m: Eip4361;
  try {
    m = new Eip4361(text);
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err));
  }
  // the reference parser accepts text after the last field; the EIP's grammar does not
  if (m.prepareMessage() !== text) throw invalid("the text is not exactly the message the grammar produces");
  if (m.version !== "1") throw invalid("version must be 1");
  const out: SiweMessage = {
    domain: m.domain,
    address: m.address,
    uri: m.uri,
    version: "1",
    chainId: m.chainId,
    nonce: m.nonce,
    issuedAt: m.issuedAt!,
  };
  for (const k of OPTIONAL) if (m[k] !== undefined && m[k] !== null) Object.assign(out, { [k]: m[k] });
  return out;
}

/** The message text for the given fields (the reference implementation's writer), as the console builds it. */
export function formatSiweMessage(m: SiweMessage): string {
  return new Eip4361({ ...m }).prepareMessage();
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
