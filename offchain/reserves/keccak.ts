import { createKeccak, type IHasher } from "hash-wasm";

/**
 * The fast keccak-256 (WASM, about 4–10× ethers' keccak256 per call); byte-identical to ethers' keccak256, which a
 * test checks. One hasher per thread: `init → update → digest` is synchronous once created.
 */
export type Keccak = IHasher;

export function createKeccak256(): Promise<Keccak> {
  return createKeccak(256);
}
