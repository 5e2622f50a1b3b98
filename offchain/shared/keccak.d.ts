/** Types for the `keccak` package (native Keccak via node-gyp; it ships none). Only what this project uses. */
declare module "keccak" {
  interface KeccakHash {
    update(data: Buffer | string): KeccakHash;
    digest(): Buffer;
  }
  function createKeccakHash(algorithm: "keccak224" | "keccak256" | "keccak384" | "keccak512"): KeccakHash;
  export = createKeccakHash;
}
