import { Transaction, Wallet, type FeeData, type JsonRpcProvider } from "ethers";
import { MarginEngine__factory, OracleRouter__factory } from "../../typechain-types";
import { decodeRevert } from "../chain";
import { isAppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import type { LiquidationIntent, Store } from "../store";

export interface Trigger {
  /** Unix ms when the keeper saw the round (or deadline) that made the account liquidatable. */
  at: number;
  reason: string;
}

export type SubmitOutcome =
  | { kind: "sent"; intent: LiquidationIntent; settled?: Settled }
  | { kind: "busy" } // an earlier intent of the account is not settled yet
  | { kind: "refused"; error: string } // the simulation reverted (not liquidatable, oracle grace, cap…)
  | { kind: "policy"; reason: string };

export interface Settled {
  intent: LiquidationIntent;
  status: "mined" | "reverted" | "dropped";
  latencyMs?: number;
}

/**
 * Sends liquidations so that none is ever sent twice: each transaction is signed first, journaled in the store
 * (account, epoch, nonce, hash, raw bytes), and only then broadcast. Retries — after an RPC outage or a restart —
 * re-send exactly the journaled bytes, which the chain can include at most once. A new epoch for an account
 * starts only after every earlier intent of it is settled (mined, reverted, or its nonce consumed otherwise).
 */
export class Liquidator {
  readonly wallet: Wallet;
  private nextNonce: number | undefined;
  private gate: Promise<unknown> = Promise.resolve();
  private fee: { at: number; data: FeeData } | undefined;
  private cachedChainId: bigint | undefined;
  private readonly engine;
  private readonly errorIfaces;

  constructor(
    private readonly store: Store,
    private readonly provider: JsonRpcProvider,
    private readonly engineAddress: string,
    signerKey: string,
    private readonly log: Logger,
  ) {
    this.wallet = new Wallet(signerKey, provider);
    this.engine = MarginEngine__factory.connect(engineAddress, this.wallet);
    this.errorIfaces = [MarginEngine__factory.createInterface(), OracleRouter__factory.createInterface()];
  }

  get address(): string {
    return this.wallet.address;
  }

  /**
   * Settles journaled intents against the chain: mined (receipt), dropped (nonce used by another transaction)
   * or still pending (re-broadcast the same bytes). Called at start before anything new, and on every tick.
   */
  async reconcile(): Promise<Settled[]> {
    const out: Settled[] = [];
    const pending = await this.store.keeper.pendingIntents();
    if (pending.length === 0) return out;
    const latestNonce = await this.provider.getTransactionCount(this.wallet.address, "latest");
    for (const i of pending) {
      const settled = await this.settleIfMined(i);
      if (settled) {
        if (settled !== "already") out.push(settled);
        continue;
      }
      if (latestNonce > i.nonce && !(await this.provider.getTransaction(i.txHash))) {
        const now = Date.now();
        // Our nonce was consumed by another transaction: this one can never be mined.
        if (await this.store.keeper.settleIntent(i.id, { status: "dropped", error: "nonce consumed" }, now))
          out.push({ intent: i, status: "dropped" });
        continue;
      }
      await this.broadcast(i).catch((err) =>
        this.log.warn("re-broadcast failed; will retry", { hash: i.txHash, err: String(err) }),
      );
    }
    return out;
  }

  /** Settles `i` when its receipt exists: the Settled record, "already" (another instance settled it) or undefined. */
  private async settleIfMined(i: LiquidationIntent): Promise<Settled | "already" | undefined> {
    const receipt = await this.provider.getTransactionReceipt(i.txHash);
    if (!receipt) return undefined;
    const now = Date.now();
    const status = receipt.status === 1 ? "mined" : "reverted";
    const segments =
      status === "mined" ? receipt.logs.filter((l) => isLiquidatedLog(this.engine, l)).length : undefined;
    if (
      !(await this.store.keeper.settleIntent(
        i.id,
        { status, minedBlock: receipt.blockNumber, minedAt: now, segments },
        now,
      ))
    )
      return "already";
    this.log.info("liquidation settled", { account: i.account, epoch: i.epoch, hash: i.txHash, status, segments });
    return { intent: { ...i, status, segments: segments ?? null }, status, latencyMs: now - i.triggerAt };
  }

  /** Simulates, signs, journals, then broadcasts one liquidate call. */
  async submit(account: string, maxSegments: number, trigger: Trigger, maxFeePerGas?: bigint): Promise<SubmitOutcome> {
    if ((await this.store.keeper.lastEpoch(account))?.status === "pending") return { kind: "busy" };
    // Simulation and fees outside the nonce gate (they may run in parallel); journal + send inside it.
    const data = this.engine.interface.encodeFunctionData("liquidate", [account, maxSegments]);
    let gasLimit: bigint;
    try {
      gasLimit = await this.provider.estimateGas({ to: this.engineAddress, data, from: this.wallet.address });
    } catch (err) {
      const e = decodeRevert(err, this.errorIfaces);
      if (isAppError(e, "CHAIN_REVERTED")) return { kind: "refused", error: e.message };
      throw e;
    }
    const fee = await this.feeData();
    const price = fee.maxFeePerGas ?? fee.gasPrice ?? 0n;
    if (maxFeePerGas !== undefined && price > maxFeePerGas)
      return { kind: "policy", reason: `fee ${price} above cap ${maxFeePerGas}` };
    return this.exclusive(() => this.journalAndSend(account, maxSegments, trigger, data, gasLimit, fee));
  }

  private async feeData(): Promise<FeeData> {
    const now = Date.now();
    if (!this.fee || now - this.fee.at > 1000) this.fee = { at: now, data: await this.provider.getFeeData() };
    return this.fee.data;
  }

  private async chainId(): Promise<bigint> {
    this.cachedChainId ??= (await this.provider.getNetwork()).chainId;
    return this.cachedChainId;
  }

  /** Nonce allocation, signing and journaling happen one transaction at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.gate.then(fn, fn);
    this.gate = result.catch(() => undefined);
    return result;
  }

  private async journalAndSend(
    account: string,
    maxSegments: number,
    trigger: Trigger,
    data: string,
    gasLimit: bigint,
    fee: FeeData,
  ): Promise<SubmitOutcome> {
    const last = await this.store.keeper.lastEpoch(account);
    if (last?.status === "pending") return { kind: "busy" };
    const to = this.engineAddress;
    const nonce = await this.allocateNonce();
    const chainId = await this.chainId();
    const tx = Transaction.from({
      to,
      data,
      nonce,
      chainId,
      gasLimit: (gasLimit * 13n) / 10n,
      ...(fee.maxFeePerGas !== null
        ? { type: 2, maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas ?? 0n }
        : { type: 0, gasPrice: fee.gasPrice ?? 0n }),
    });
    const raw = await this.wallet.signTransaction(tx);
    const hash = Transaction.from(raw).hash!;
    const now = Date.now();
    const intent: Omit<LiquidationIntent, "id"> = {
      account: account.toLowerCase(),
      epoch: (last?.epoch ?? 0) + 1,
      signer: this.wallet.address.toLowerCase(),
      nonce,
      txHash: hash,
      rawTx: raw,
      maxSegments,
      status: "pending",
      triggerAt: trigger.at,
      triggerReason: trigger.reason,
      createdAt: now,
      updatedAt: now,
      minedBlock: null,
      minedAt: null,
      segments: null,
      error: null,
    };
    if (!(await this.store.keeper.insertIntent(intent))) {
      // Another instance journaled this epoch or nonce first: send nothing, re-read the nonce next time.
      this.nextNonce = undefined;
      return { kind: "busy" };
    }
    this.nextNonce = nonce + 1;
    const stored = (await this.store.keeper.lastEpoch(account))!;
    const delivered = await this.broadcast(stored).then(
      () => true,
      (err) => {
        this.log.warn("broadcast failed; the journal will re-send the same bytes", { hash, err: String(err) });
        return false;
      },
    );
    this.log.info("liquidation sent", { account, epoch: intent.epoch, nonce, hash, reason: trigger.reason });
    // On a chain that mines at once (dev, permissioned) the receipt is already there: settle it now. After a
    // failed broadcast the reconciliation of the next tick decides.
    const settled = delivered ? await this.settleIfMined(stored).catch(() => undefined) : undefined;
    return { kind: "sent", intent: stored, settled: settled && settled !== "already" ? settled : undefined };
  }

  /** Sends a transaction that needs no journal (poke: idempotent, harmless when repeated). */
  sendPlain(account: string): Promise<string> {
    const data = this.engine.interface.encodeFunctionData("poke", [account]);
    return this.exclusive(() => this.sendCall(this.engineAddress, data));
  }

  /** OracleRouter.poke(asset): absorbs the feed's new rounds (breaker, volatility) and records when it became Safe. */
  sendRouterPoke(router: string, asset: string): Promise<string> {
    const data = OracleRouter__factory.createInterface().encodeFunctionData("poke", [asset]);
    return this.exclusive(() => this.sendCall(router, data));
  }

  /** A keeper call that is safe to repeat (pokes): signed and broadcast without a journal entry. */
  private async sendCall(to: string, data: string): Promise<string> {
    const gasLimit = await this.provider.estimateGas({ to, data, from: this.wallet.address });
    const fee = await this.feeData();
    const nonce = await this.allocateNonce();
    const tx = Transaction.from({
      to,
      data,
      nonce,
      chainId: await this.chainId(),
      gasLimit: (gasLimit * 13n) / 10n,
      ...(fee.maxFeePerGas !== null
        ? { type: 2, maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas ?? 0n }
        : { type: 0, gasPrice: fee.gasPrice ?? 0n }),
    });
    const raw = await this.wallet.signTransaction(tx);
    try {
      const sent = await this.provider.broadcastTransaction(raw);
      this.nextNonce = nonce + 1;
      return sent.hash;
    } catch (err) {
      this.nextNonce = undefined;
      throw err;
    }
  }

  /** Next nonce: above both the node's pending count and every journaled nonce (a journaled, not yet
   *  broadcast transaction still owns its nonce). */
  private async allocateNonce(): Promise<number> {
    if (this.nextNonce === undefined) {
      const node = await this.provider.getTransactionCount(this.wallet.address, "pending");
      const journaled = await this.store.keeper.maxNonce(this.wallet.address);
      this.nextNonce = Math.max(node, journaled === null ? 0 : journaled + 1);
    }
    return this.nextNonce;
  }

  private async broadcast(i: LiquidationIntent): Promise<void> {
    try {
      await this.provider.broadcastTransaction(i.rawTx);
    } catch (err) {
      // Already known or already mined: the same bytes are in; nothing else to do.
      if (/already known|already imported|nonce too low|known transaction/i.test(String(err))) return;
      throw err;
    }
  }
}

function isLiquidatedLog(
  engine: ReturnType<typeof MarginEngine__factory.connect>,
  log: { topics: readonly string[]; data: string },
): boolean {
  try {
    return engine.interface.parseLog(log)?.name === "Liquidated";
  } catch {
    return false;
  }
}
