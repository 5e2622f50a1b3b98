import { expect } from "chai";
import fc from "fast-check";
import { Signature, TypedDataEncoder, Wallet, getAddress, hexlify, toBeHex, verifyTypedData } from "ethers";
import { OrderSignatureError, OrderVerifier } from "../../../offchain/settlement/orderSignature";
import {
  ORDER_TYPES,
  orderId,
  settlementDomain,
  signOrder,
  type SignedOrderFields,
} from "../../../offchain/settlement/orders";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HUB = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(hexlify(b)));
const order = (account: fc.Arbitrary<string>): fc.Arbitrary<SignedOrderFields> =>
  fc.record({
    account,
    instrument: address,
    side: fc.constantFrom(0 as const, 1 as const),
    expiry: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    limitPrice: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
    quantity: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
    nonce: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  });

/** The fast order verifier (precomputed domain, hand-encoded struct, WASM keccak and libsecp256k1) against ethers. */
describe("OrderVerifier (fast EIP-712 order signatures)", function () {
  const wallets = Array.from({ length: 8 }, () => Wallet.createRandom());
  const domain = settlementDomain(31337, HUB);
  let verifier: OrderVerifier;

  before(async function () {
    verifier = await OrderVerifier.create(domain);
  });

  it("hashes every order exactly as ethers' TypedDataEncoder (struct hash and digest), on any domain", async function () {
    await fc.assert(
      fc.asyncProperty(order(address), fc.integer({ min: 1, max: 2 ** 40 }), address, async (o, chainId, hub) => {
        const d = settlementDomain(chainId, hub);
        const v = await OrderVerifier.create(d);
        expect("0x" + v.structHash(o).toString("hex")).to.equal(orderId(o));
        expect("0x" + v.digest(o).toString("hex")).to.equal(TypedDataEncoder.hash(d, ORDER_TYPES, o));
      }),
      { numRuns: 300 },
    );
  });

  it("recovers the same signer as ethers' verifyTypedData for orders signed by random keys", async function () {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: wallets.length - 1 }), order(address), async (k, o) => {
        const w = wallets[k];
        const sig = await signOrder(w, domain, { ...o, account: w.address });
        const signed = { ...o, account: w.address };
        const expected = verifyTypedData(
          domain,
          ORDER_TYPES,
          signed,
          Signature.from({ r: sig.r, yParityAndS: sig.vs }),
        );
        expect(verifier.recover(signed, sig)).to.equal(expected).and.to.equal(w.address);
        // any change to a signed field recovers someone else
        expect(verifier.recover({ ...signed, nonce: signed.nonce ^ 1n }, sig)).to.not.equal(w.address);
      }),
      { numRuns: 150 },
    );
  });

  it("refuses what OpenZeppelin's ECDSA refuses: the high-s twin, s = 0, r = 0, r ≥ n, and malformed words", async function () {
    const w = wallets[0];
    const o: SignedOrderFields = {
      account: w.address,
      instrument: HUB,
      side: 1,
      expiry: 2_000_000_000n,
      limitPrice: 10_000n,
      quantity: 5n,
      nonce: 1n,
    };
    const sig = await signOrder(w, domain, o);
    expect(verifier.recover(o, sig)).to.equal(w.address);
    const parsed = Signature.from({ r: sig.r, yParityAndS: sig.vs });
    // s above n/2 (still below 2^255, so EIP-2098 can carry it) is refused before recovery, as OZ's ECDSA does.
    expect(() => verifier.recover(o, { r: sig.r, vs: toBeHex((N >> 1n) + 1n, 32) })).to.throw(
      OrderSignatureError,
      /lower half/,
    );
    // The malleable twin (n − s, flipped parity) does not fit a compact signature: its top bit collides with the
    // parity bit, so what it encodes never recovers the signer (it is refused or recovers another key).
    const twinVs = toBeHex(((N - BigInt(parsed.s)) | (BigInt(1 - parsed.yParity) << 255n)) & ((1n << 256n) - 1n), 32);
    let twin: string | undefined;
    try {
      twin = verifier.recover(o, { r: sig.r, vs: twinVs });
    } catch (err) {
      expect(err).to.be.instanceOf(OrderSignatureError);
    }
    expect(twin).to.not.equal(w.address);
    expect(() => verifier.recover(o, { r: sig.r, vs: toBeHex(0n, 32) })).to.throw(OrderSignatureError, /lower half/);
    expect(() => verifier.recover(o, { r: toBeHex(0n, 32), vs: sig.vs })).to.throw(OrderSignatureError, /r is out/);
    expect(() => verifier.recover(o, { r: toBeHex(N, 32), vs: sig.vs })).to.throw(OrderSignatureError, /r is out/);
    expect(() => verifier.recover(o, { r: sig.r.slice(0, 40), vs: sig.vs })).to.throw(OrderSignatureError, /32 bytes/);
    expect(() => verifier.recover({ ...o, side: 256 as 0 }, sig)).to.throw(OrderSignatureError, /out of range/);
    expect(() => verifier.recover({ ...o, expiry: 1n << 64n }, sig)).to.throw(OrderSignatureError, /out of range/);
    expect(() => verifier.recover({ ...o, account: "0x1234" }, sig)).to.throw(OrderSignatureError, /not an address/);
  });
});
