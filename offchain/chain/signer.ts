import { Transaction, Wallet, type FeeData } from "ethers";

/** One contract call to sign: the caller chose the nonce (and journals the bytes before anything is sent). */
export interface CallToSign {
  to: string;
  data: string;
  nonce: number;
  gasLimit: bigint;
  chainId: bigint;
  fee: FeeData;
}

/**
 * A key held by chain/ that signs raw transactions without sending them, for writers that must journal the signed
 * bytes before the broadcast (the liquidation keeper: a retry re-sends exactly the journaled bytes). The key never
 * leaves chain/; callers see the address and the signed bytes.
 */
export interface RawSigner {
  readonly address: string;
  sign(call: CallToSign): Promise<{ raw: string; hash: string }>;
}

/** A RawSigner over a private key (EIP-1559 when the node reports maxFeePerGas, legacy gas price otherwise). */
export function rawSigner(privateKey: string): RawSigner {
  const wallet = new Wallet(privateKey);
  return {
    address: wallet.address,
    async sign({ to, data, nonce, gasLimit, chainId, fee }) {
      const tx = Transaction.from({
        to,
        data,
        nonce,
        chainId,
        gasLimit,
        ...(fee.maxFeePerGas !== null
          ? { type: 2, maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas ?? 0n }
          : { type: 0, gasPrice: fee.gasPrice ?? 0n }),
      });
      const raw = await wallet.signTransaction(tx);
      return { raw, hash: Transaction.from(raw).hash! };
    },
  };
}
