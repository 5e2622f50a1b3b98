import {
  Transaction,
  type BaseContract,
  type FeeData,
  type Interface,
  type TransactionReceipt,
  type Wallet,
} from "ethers";
import { AppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import { NonceManager } from "./nonce";
import { decodeRevert } from "./revert";
import { isTransient, withRetry, type RetryOptions } from "./retry";

/**
 * What a failed send did on-chain, in every AppError the sender throws (`details.effect`): "none" when nothing can
 * have happened (refused in simulation or by the node, or mined and reverted), "unknown" when the transaction may
 * be (or become) mined — a broadcast whose answer was lost, a receipt that did not come in time. A caller that
 * claimed a record before sending releases it on "none" and leaves "unknown" to its reconciliation.
 */
export type SendEffect = "none" | "unknown";

function withEffect(err: unknown, effect: SendEffect): AppError {
  const e =
    err instanceof AppError
      ? err
      : isTransient(err)
        ? new AppError("CHAIN_UNAVAILABLE", "the chain's RPC endpoint did not answer", { cause: err })
        : new AppError("INTERNAL", "the transaction could not be sent", { cause: err });
  e.details.effect = effect;
  return e;
}

export interface SentTransaction {
  hash: string;
  nonce: number;
  receipt: TransactionReceipt;
}

/**
 * Sends contract calls for one key: simulate (reverts decoded to custom errors) → reserve nonce → sign →
 * broadcast (retried with backoff; the same signed bytes are re-sent, so a retry can never double-spend) →
 * wait for the receipt.
 */
export class TxSender {
  readonly nonces: NonceManager;

  constructor(
    private readonly wallet: Wallet,
    private readonly errorInterfaces: Interface[],
    private readonly retry: RetryOptions,
    private readonly log: Logger,
  ) {
    this.nonces = new NonceManager(wallet.provider!, wallet.address);
  }

  get address(): string {
    return this.wallet.address;
  }

  /**
   * `gasEstimate`: the caller's own eth_estimateGas of exactly this call, made just before (the settlement batcher
   * sizes each batch by one). The sender then skips its own: on a node that executes a large batch slowly, a second
   * estimate doubles the time the node is busy with it. Should the call revert in between, it is mined as a failed
   * transaction (CHAIN_REVERTED, effect "none"), and the caller plans again.
   */
  async send(
    contract: BaseContract,
    method: string,
    args: unknown[],
    confirmations = 1,
    gasEstimate?: bigint,
  ): Promise<SentTransaction> {
    const to = await contract.getAddress();
    const data = contract.interface.encodeFunctionData(method, args);
    return this.sendRequest(
      { to, data, value: 0n },
      [contract.interface, ...this.errorInterfaces],
      method,
      confirmations,
      gasEstimate,
    );
  }

  /** A plain transfer of `value` wei (gas money for another key this service holds). */
  async sendValue(to: string, value: bigint, confirmations = 1): Promise<SentTransaction> {
    return this.sendRequest({ to, data: "0x", value }, this.errorInterfaces, "transfer", confirmations);
  }

  private async sendRequest(
    call: { to: string; data: string; value: bigint },
    interfaces: Interface[],
    method: string,
    confirmations: number,
    gasEstimate?: bigint,
  ): Promise<SentTransaction> {
    const provider = this.wallet.provider!;
    const { to } = call;
    const request = { ...call, from: this.wallet.address };
    let gasLimit: bigint;
    let network: { chainId: bigint };
    let fee: FeeData;
    try {
      gasLimit = gasEstimate ?? (await withRetry(() => provider.estimateGas(request), this.retry));
      network = await withRetry(() => provider.getNetwork(), this.retry);
      fee = await withRetry(() => provider.getFeeData(), this.retry);
    } catch (err) {
      throw withEffect(decodeRevert(err, interfaces), "none");
    }
    const broadcastWithNonce = (nonce: number): Promise<{ hash: string; nonce: number }> =>
      this.broadcast(request, gasLimit, network.chainId, fee, nonce);
    let sent: { hash: string; nonce: number };
    for (let attempt = 0; ; attempt++) {
      try {
        sent = await this.nonces.withNonce(broadcastWithNonce);
        break;
      } catch (err) {
        // Another sender used our nonce (a second instance, a restart mid-send): re-read and try again.
        if (attempt < 3 && isNonceError(err)) {
          this.log.warn("nonce already used; resynchronising", { attempt: attempt + 1 });
          continue;
        }
        // A node that refused the transaction did not take it; a broadcast whose answers were lost may have.
        throw withEffect(decodeRevert(err, interfaces), isTransient(err) ? "unknown" : "none");
      }
    }
    this.log.info("transaction sent", { hash: sent.hash, nonce: sent.nonce, method, to });
    let receipt: TransactionReceipt;
    try {
      receipt = await this.waitForReceipt(sent.hash, confirmations);
    } catch (err) {
      throw withEffect(err, "unknown");
    }
    if (receipt.status !== 1) {
      throw new AppError("CHAIN_REVERTED", "transaction reverted on-chain", {
        details: { hash: sent.hash, method, effect: "none" },
      });
    }
    return { ...sent, receipt };
  }

  /** Polls for the receipt (ethers' event-based wait can stall on some nodes); transient errors are retried. */
  private async waitForReceipt(hash: string, confirmations: number, timeoutMs = 120_000): Promise<TransactionReceipt> {
    const provider = this.wallet.provider!;
    const deadline = Date.now() + timeoutMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      const receipt = await withRetry(() => provider.getTransactionReceipt(hash), this.retry);
      if (receipt && (confirmations <= 1 || (await receipt.confirmations()) >= confirmations)) return receipt;
      if (Date.now() > deadline)
        throw new AppError("CHAIN_UNAVAILABLE", "no receipt in time", { details: { hash, timeoutMs } });
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async broadcast(
    request: { to: string; data: string; value: bigint },
    gasLimit: bigint,
    chainId: bigint,
    fee: FeeData,
    nonce: number,
  ): Promise<{ hash: string; nonce: number }> {
    const provider = this.wallet.provider!;
    const { to, data, value } = request;
    const tx = Transaction.from({
      to,
      data,
      value,
      nonce,
      chainId,
      gasLimit: (gasLimit * 12n) / 10n,
      ...(fee.maxFeePerGas !== null
        ? { type: 2, maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas ?? 0n }
        : { type: 0, gasPrice: fee.gasPrice ?? 0n }),
    });
    const raw = await this.wallet.signTransaction(tx);
    const hash = Transaction.from(raw).hash!;
    await withRetry(async () => {
      try {
        await provider.broadcastTransaction(raw);
      } catch (err) {
        // After a transport failure the first attempt may have arrived; the node then knows the hash.
        if (!isTransient(err) && (await provider.getTransaction(hash))) return;
        throw err;
      }
    }, this.retry);
    return { hash, nonce };
  }
}

function isNonceError(err: unknown): boolean {
  const o = err as { code?: unknown; message?: unknown };
  return (
    o?.code === "NONCE_EXPIRED" ||
    /nonce too low|nonce has already been used|replacement transaction underpriced/i.test(String(o?.message))
  );
}
