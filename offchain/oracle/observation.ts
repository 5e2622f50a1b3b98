import { Signature, type TypedDataDomain, type TypedDataField } from "ethers";

/** EIP-712 domain name and version of every MedianPriceFeed (contracts/oracle/MedianPriceFeed.sol). */
export const FEED_DOMAIN_NAME = "MarginBridge MedianPriceFeed";
export const FEED_DOMAIN_VERSION = "1";

/** The struct reporters sign: Observation(address feed,uint80 roundId,int256 answer,uint64 observedAt). */
export const OBSERVATION_TYPES: Record<string, TypedDataField[]> = {
  Observation: [
    { name: "feed", type: "address" },
    { name: "roundId", type: "uint80" },
    { name: "answer", type: "int256" },
    { name: "observedAt", type: "uint64" },
  ],
};

/** What one reporter observed for one round of one feed. `answer` is in the feed's decimals (8). */
export interface Observation {
  feed: string;
  chainId: bigint;
  roundId: bigint;
  answer: bigint;
  /** Unix seconds. */
  observedAt: bigint;
}

/** An observation with its signer's signature, shaped as MedianPriceFeed.transmit expects. */
export interface SignedObservation {
  signer: string;
  answer: bigint;
  observedAt: bigint;
  signature: string;
}

/** Anything that signs EIP-712 typed data: an ethers Wallet, a JSON-RPC signer, a KMS-backed signer. */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

export function feedDomain(feed: string, chainId: bigint): TypedDataDomain {
  return { name: FEED_DOMAIN_NAME, version: FEED_DOMAIN_VERSION, chainId, verifyingContract: feed };
}

/** Signs `obs` with `signer` (EIP-712) and returns it ready to relay. */
export async function signObservation(signer: TypedDataSigner, obs: Observation): Promise<SignedObservation> {
  const value = { feed: obs.feed, roundId: obs.roundId, answer: obs.answer, observedAt: obs.observedAt };
  const raw = await signer.signTypedData(feedDomain(obs.feed, obs.chainId), OBSERVATION_TYPES, value);
  return {
    signer: await signer.getAddress(),
    answer: obs.answer,
    observedAt: obs.observedAt,
    // Normalised (low-s, 65 bytes) so that the contract's malleability check accepts it.
    signature: Signature.from(raw).serialized,
  };
}
