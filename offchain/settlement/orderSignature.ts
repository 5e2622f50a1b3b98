import { createKeccak, type IHasher } from "hash-wasm";
import secp256k1 from "secp256k1";
import { TypedDataEncoder, type TypedDataDomain } from "ethers";
import { ORDER_TYPES, type CompactSignature, type SignedOrderFields } from "./orders";

/** secp256k1 group order n and n/2: OpenZeppelin's ECDSA accepts only s ≤ n/2 (no malleable twin). */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N >> 1n;
const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;

/** Thrown for a signature the hub would refuse before recovery (bad length, s above n/2, r or s out of range). */
export class OrderSignatureError extends Error {}

/**
 * Verifies SettlementHub order signatures without ethers' generic EIP-712 encoder: the domain separator and type
 * hash are computed once; each order's struct is ABI-encoded by hand into one buffer (8 words), hashed with
 * hash-wasm's keccak-256 (synchronous once created, a few µs per call against about 15 µs for the `keccak`
 * package's stream per hash), and the signer recovered with libsecp256k1. The acceptance rules are the hub's
 * (OpenZeppelin ECDSA.tryRecover over an EIP-2098 compact signature): r and s in [1, n), s ≤ n/2, v from the top
 * bit of vs. Equal to ethers' `verifyTypedData` on every valid input (test/offchain/settlement/orderSignature.test.ts).
 */
export class OrderVerifier {
  private readonly prefix: Buffer;
  private readonly typeHash: Buffer;
  private readonly struct = Buffer.alloc(8 * 32);
  private readonly digestInput = Buffer.alloc(2 + 32 + 32);

  private constructor(
    domain: TypedDataDomain,
    private readonly hasher: IHasher,
  ) {
    this.typeHash = this.keccak256(Buffer.from(TypedDataEncoder.from(ORDER_TYPES).encodeType("Order"), "utf8"));
    this.prefix = Buffer.concat([
      Buffer.from([0x19, 0x01]),
      Buffer.from(TypedDataEncoder.hashDomain(domain).slice(2), "hex"),
    ]);
    this.prefix.copy(this.digestInput, 0);
  }

  static async create(domain: TypedDataDomain): Promise<OrderVerifier> {
    return new OrderVerifier(domain, await createKeccak(256));
  }

  private keccak256(data: Uint8Array): Buffer {
    const h = this.hasher.init();
    h.update(data);
    const out = h.digest("binary");
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  /** The order's EIP-712 struct hash (the hub's `orderHash`, offchain `orderId`), as 32 bytes. */
  structHash(o: SignedOrderFields): Buffer {
    const b = this.struct;
    this.typeHash.copy(b, 0);
    writeAddress(b, 32, o.account);
    writeAddress(b, 64, o.instrument);
    writeUint(b, 96, BigInt(o.side), 255n);
    writeUint(b, 128, o.expiry, MAX_UINT64);
    writeUint(b, 160, o.limitPrice, MAX_UINT256);
    writeUint(b, 192, o.quantity, MAX_UINT256);
    writeUint(b, 224, o.nonce, MAX_UINT256);
    return this.keccak256(b);
  }

  /** The digest the owner signs: keccak256(0x1901 ‖ domainSeparator ‖ structHash). */
  digest(o: SignedOrderFields, structHash: Buffer = this.structHash(o)): Buffer {
    structHash.copy(this.digestInput, 34);
    return this.keccak256(this.digestInput);
  }

  /**
   * The checksummed address that signed `o`, or an OrderSignatureError for a signature the hub refuses. A caller
   * that also needs the struct hash passes it, so it is computed once.
   */
  recover(o: SignedOrderFields, sig: CompactSignature, structHash: Buffer = this.structHash(o)): string {
    const r = word(sig.r, "r");
    const vs = word(sig.vs, "vs");
    const recid = vs[0] >> 7;
    const rs = Buffer.alloc(64);
    r.copy(rs, 0);
    vs.copy(rs, 32);
    rs[32] &= 0x7f;
    const rv = BigInt("0x" + r.toString("hex"));
    const sv = BigInt("0x" + rs.subarray(32).toString("hex"));
    if (rv === 0n || rv >= N) throw new OrderSignatureError("signature r is out of range");
    if (sv === 0n || sv > HALF_N) throw new OrderSignatureError("signature s is not in the lower half order");
    let pub: Uint8Array;
    try {
      pub = secp256k1.ecdsaRecover(rs, recid, this.digest(o, structHash), false);
    } catch (err) {
      throw new OrderSignatureError(`signature does not recover a key: ${(err as Error).message}`);
    }
    return this.checksummed(this.keccak256(pub.subarray(1)).subarray(12).toString("hex"));
  }

  /** EIP-55 checksum casing of a lowercase 40-hex-digit address (what ethers' getAddress returns). */
  private checksummed(lower: string): string {
    const h = this.keccak256(Buffer.from(lower, "ascii"));
    let out = "0x";
    for (let i = 0; i < 40; i++) {
      const nibble = (h[i >> 1] >> (i % 2 === 0 ? 4 : 0)) & 0xf;
      out += nibble >= 8 ? lower[i].toUpperCase() : lower[i];
    }
    return out;
  }
}

function word(hex: string, what: string): Buffer {
  if (typeof hex !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hex))
    throw new OrderSignatureError(`signature ${what} must be 32 bytes of hex`);
  return Buffer.from(hex.slice(2), "hex");
}

function writeAddress(b: Buffer, at: number, address: string): void {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new OrderSignatureError(`not an address: ${address}`);
  b.fill(0, at, at + 12);
  b.write(address.slice(2), at + 12, 20, "hex");
}

function writeUint(b: Buffer, at: number, v: bigint, max: bigint): void {
  if (v < 0n || v > max) throw new OrderSignatureError(`value ${v} is out of range for its field`);
  b.write(v.toString(16).padStart(64, "0"), at, 32, "hex");
}
