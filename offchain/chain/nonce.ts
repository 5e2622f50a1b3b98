import type { Provider } from "ethers";

/**
 * Hands out consecutive nonces for one signing address. The next nonce is read from the node's pending count
 * the first time and after any failure, so a restart (or a transaction sent by another tool) is picked up.
 * Callers use `withNonce` to keep the reservation and the broadcast together: a failed broadcast never leaves
 * a gap.
 */
export class NonceManager {
  private next: number | undefined;
  private gate: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly provider: Provider,
    readonly address: string,
  ) {}

  /** Runs `broadcast(nonce)` exclusively; on failure the cached nonce is dropped and re-read next time. */
  withNonce<T>(broadcast: (nonce: number) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.next === undefined) this.next = await this.provider.getTransactionCount(this.address, "pending");
      const nonce = this.next;
      try {
        const out = await broadcast(nonce);
        this.next = nonce + 1;
        return out;
      } catch (err) {
        this.next = undefined;
        throw err;
      }
    };
    const result = this.gate.then(run, run);
    this.gate = result.catch(() => undefined);
    return result;
  }

  /** Forgets the cached nonce (e.g. after the node was reset). */
  reset(): void {
    this.next = undefined;
  }
}
