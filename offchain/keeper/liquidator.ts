import type { FeeData, JsonRpcProvider, Log, TransactionReceipt } from "ethers";
import { MarginEngine__factory, OracleRouter__factory } from "../../typechain-types";
import { decodeRevert, withRetry, type RawSigner, type RetryOptions } from "../chain";
import { isAppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import { IntentConflictError, type LiquidationIntent, type Store } from "../store";

/**
 * Most gas one transaction may ask for (EIP-7825, 2^24): nodes refuse a higher gas limit outright, so a journaled
 * transaction above it could never be sent. Batches are sized to stay under it with the 30 % margin.
 */
export const TX_GAS_CAP = 16_777_216n;

/** What a liquidateMany costs besides its accounts (the transaction, the liquidator's checks, the pool's accrual). */
const BATCH_BASE_GAS = 120_000n;

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

/** What submitBatch did with each group of accounts it was given (a batch over the gas budget is split). */
export type BatchOutcome =
  | { kind: "sent"; intent: LiquidationIntent; accounts: string[]; gas: bigint; settled?: Settled }
  | { kind: "busy"; accounts: string[] }
  | { kind: "refused"; accounts: string[]; error: string }
  | { kind: "policy"; accounts: string[]; reason: string };

export interface Settled {
  intent: LiquidationIntent;
  status: "mined" | "reverted" | "dropped";
  latencyMs?: number;
  /** Every account the transaction named, and those it liquidated (the rest were skipped or it failed). */
  accounts: string[];
  liquidated: string[];
  gasUsed?: bigint;
}

/** One account for a batch: the trigger is the round (or deadline) that made it liquidatable. */
export interface BatchItem {
  account: string;
  trigger: Trigger;
}

/**
 * Sends liquidations so that none is ever sent twice: each transaction is signed first, journaled in the store
 * (its accounts and their epochs, nonce, hash, raw bytes), and only then broadcast. Retries — after an RPC outage
 * or a restart — re-send exactly the journaled bytes, which the chain can include at most once. A new epoch for an
 * account starts only after every earlier transaction naming it is settled (mined, reverted, or its nonce consumed
 * otherwise). Signs through a RawSigner held by chain/ (the chain gateway's signer for the keeper's key).
 */
export class Liquidator {
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
    private readonly signer: RawSigner,
    private readonly log: Logger,
    private readonly retry: RetryOptions,
  ) {
    this.engine = MarginEngine__factory.connect(engineAddress, provider);
    this.errorIfaces = [MarginEngine__factory.createInterface(), OracleRouter__factory.createInterface()];
  }

  get address(): string {
    return this.signer.address;
  }

  /** A read of the node, retried on transient failures (connection resets of a busy node). */
  private read<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, this.retry);
  }

  /**
   * Settles journaled intents against the chain: mined (receipt), dropped (nonce used by another transaction)
   * or still pending (re-broadcast the same bytes). Called at start before anything new, and on every tick.
   */
  async reconcile(): Promise<Settled[]> {
    const out: Settled[] = [];
    const pending = await this.store.keeper.pendingIntents();
    if (pending.length === 0) return out;
    const latestNonce = await this.read(() => this.provider.getTransactionCount(this.signer.address, "latest"));
    for (const i of pending) {
      const settled = await this.settleIfMined(i);
      if (settled) {
        if (settled !== "already") out.push(settled);
        continue;
      }
      if (latestNonce > i.nonce && !(await this.read(() => this.provider.getTransaction(i.txHash)))) {
        const now = Date.now();
        // Our nonce was consumed by another transaction: this one can never be mined.
        if (await this.store.keeper.settleIntent(i.id, { status: "dropped", error: "nonce consumed" }, now)) {
          const accounts = (await this.store.keeper.intentAccounts(i.id)).map((m) => m.account);
          out.push({ intent: i, status: "dropped", accounts, liquidated: [] });
        }
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
    const receipt = await this.read(() => this.provider.getTransactionReceipt(i.txHash));
    if (!receipt) return undefined;
    return this.settleMined(i, receipt);
  }

  private async settleMined(i: LiquidationIntent, receipt: TransactionReceipt): Promise<Settled | "already"> {
    const now = Date.now();
    const status = receipt.status === 1 ? "mined" : "reverted";
    const members = (await this.store.keeper.intentAccounts(i.id)).map((m) => m.account);
    const { liquidated, segments } =
      status === "mined" ? this.outcomes(receipt.logs) : { liquidated: new Set<string>(), segments: 0 };
    const outcomes = new Map<string, "liquidated" | "skipped">();
    if (status === "mined") for (const a of members) outcomes.set(a, liquidated.has(a) ? "liquidated" : "skipped");
    const won = await this.store.transaction(async (tx) => {
      const ok = await tx.keeper.settleIntent(
        i.id,
        { status, minedBlock: receipt.blockNumber, minedAt: now, segments: status === "mined" ? segments : undefined },
        now,
      );
      if (ok) await tx.keeper.setOutcomes(i.id, outcomes);
      return ok;
    });
    if (!won) return "already";
    this.log.info("liquidation settled", {
      account: i.account,
      accounts: members.length,
      liquidated: liquidated.size,
      epoch: i.epoch,
      hash: i.txHash,
      status,
      segments,
    });
    return {
      intent: { ...i, status, segments: status === "mined" ? segments : null },
      status,
      latencyMs: now - i.triggerAt,
      accounts: members,
      liquidated: members.filter((a) => liquidated.has(a)),
      gasUsed: receipt.gasUsed,
    };
  }

  /** Accounts with a Liquidated log from this engine, and the number of segments (one Liquidated log each). */
  private outcomes(logs: readonly Log[]): { liquidated: Set<string>; segments: number } {
    const liquidated = new Set<string>();
    let segments = 0;
    const engine = this.engineAddress.toLowerCase();
    for (const l of logs) {
      if (l.address.toLowerCase() !== engine) continue;
      let parsed;
      try {
        parsed = this.engine.interface.parseLog(l);
      } catch {
        continue;
      }
      if (parsed?.name !== "Liquidated") continue;
      segments++;
      liquidated.add(String(parsed.args.account).toLowerCase());
    }
    return { liquidated, segments };
  }

  /** Simulates, signs, journals, then broadcasts one liquidate call. */
  async submit(account: string, maxSegments: number, trigger: Trigger, maxFeePerGas?: bigint): Promise<SubmitOutcome> {
    if ((await this.store.keeper.lastEpoch(account))?.status === "pending") return { kind: "busy" };
    // Simulation and fees outside the nonce gate (they may run in parallel); journal + send inside it.
    const data = this.engine.interface.encodeFunctionData("liquidate", [account, maxSegments]);
    let gasLimit: bigint;
    try {
      gasLimit = await this.estimate(data);
    } catch (err) {
      const e = decodeRevert(err, this.errorIfaces);
      if (isAppError(e, "CHAIN_REVERTED")) return { kind: "refused", error: e.message };
      throw e;
    }
    const fee = await this.feeData();
    const price = fee.maxFeePerGas ?? fee.gasPrice ?? 0n;
    if (maxFeePerGas !== undefined && price > maxFeePerGas)
      return { kind: "policy", reason: `fee ${price} above cap ${maxFeePerGas}` };
    const out = await this.exclusive(() =>
      this.journalAndSend([{ account, trigger }], maxSegments, trigger, data, gasLimit, fee),
    );
    return out.kind === "sent" ? { kind: "sent", intent: out.intent, settled: out.settled } : { kind: "busy" };
  }

  /**
   * One liquidateMany over `items` (in the given order: deepest shortfall first), journaled and sent like a single
   * liquidation. Accounts already in an unsettled transaction are left out ("busy"). A batch whose simulation needs
   * more than `gasBudget` is split in two, recursively. Each sent batch is broadcast as soon as it is journaled (its
   * nonce follows the previous one), so several batches are in flight while the next is being simulated. An
   * account the engine refuses inside a batch is skipped on-chain (LiquidationSkipped) and re-read by the keeper.
   */
  async submitBatch(
    items: BatchItem[],
    maxSegments: number,
    gasBudget: bigint,
    maxFeePerGas?: bigint,
    gasPerAccount?: bigint,
  ): Promise<BatchOutcome[]> {
    const pending = await this.store.keeper.pendingAccounts();
    const busy = items.filter((i) => pending.has(i.account.toLowerCase())).map((i) => i.account);
    const free = items.filter((i) => !pending.has(i.account.toLowerCase()));
    const out: BatchOutcome[] = busy.length > 0 ? [{ kind: "busy", accounts: busy }] : [];
    if (free.length > 0) out.push(...(await this.sendBatch(free, maxSegments, gasBudget, maxFeePerGas, gasPerAccount)));
    return out;
  }

  private async sendBatch(
    items: BatchItem[],
    maxSegments: number,
    gasBudget: bigint,
    maxFeePerGas?: bigint,
    gasPerAccount?: bigint,
  ): Promise<BatchOutcome[]> {
    const accounts = items.map((i) => i.account.toLowerCase());
    const data = this.engine.interface.encodeFunctionData("liquidateMany", [accounts, maxSegments]);
    let gasLimit: bigint;
    try {
      // sized from the gas per account of earlier mined batches (no simulation), or simulated
      gasLimit =
        gasPerAccount !== undefined ? BATCH_BASE_GAS + gasPerAccount * BigInt(items.length) : await this.estimate(data);
    } catch (err) {
      const e = decodeRevert(err, this.errorIfaces);
      // a batch over the node's gas cap fails its simulation like one over the budget: halve it
      if (items.length > 1 && /gas|out of gas/i.test(String((err as Error)?.message))) gasLimit = gasBudget + 1n;
      else if (isAppError(e, "CHAIN_REVERTED")) return [{ kind: "refused", accounts, error: e.message }];
      else throw e;
    }
    if (gasLimit > gasBudget && items.length > 1) {
      const half = Math.ceil(items.length / 2);
      const a = await this.sendBatch(items.slice(0, half), maxSegments, gasBudget, maxFeePerGas, gasPerAccount);
      const b = await this.sendBatch(items.slice(half), maxSegments, gasBudget, maxFeePerGas, gasPerAccount);
      return [...a, ...b];
    }
    const fee = await this.feeData();
    const price = fee.maxFeePerGas ?? fee.gasPrice ?? 0n;
    if (maxFeePerGas !== undefined && price > maxFeePerGas)
      return [{ kind: "policy", accounts, reason: `fee ${price} above cap ${maxFeePerGas}` }];
    const first = items.reduce((m, i) => (i.trigger.at < m.at ? i.trigger : m), items[0].trigger);
    const trigger = {
      at: first.at,
      reason: items.length > 1 ? `batch of ${items.length}: ${first.reason}` : first.reason,
    };
    const sent = await this.exclusive(() => this.journalAndSend(items, maxSegments, trigger, data, gasLimit, fee));
    if (sent.kind === "busy") return [{ kind: "busy", accounts }];
    return [{ kind: "sent", intent: sent.intent, accounts, gas: gasLimit, settled: sent.settled }];
  }

  /** eth_estimateGas of a call from the liquidator (transient failures retried; a revert passes through). */
  private estimate(data: string): Promise<bigint> {
    return this.read(() => this.provider.estimateGas({ to: this.engineAddress, data, from: this.signer.address }));
  }

  private async feeData(): Promise<FeeData> {
    const now = Date.now();
    if (!this.fee || now - this.fee.at > 1000)
      this.fee = { at: now, data: await this.read(() => this.provider.getFeeData()) };
    return this.fee.data;
  }

  private async chainId(): Promise<bigint> {
    this.cachedChainId ??= (await this.read(() => this.provider.getNetwork())).chainId;
    return this.cachedChainId;
  }

  /** Nonce allocation, signing and journaling happen one transaction at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.gate.then(fn, fn);
    this.gate = result.catch(() => undefined);
    return result;
  }

  /**
   * Signs the call with the next nonce, journals it with every account's next epoch (in one store transaction), and
   * only then broadcasts it. Busy when any account's epoch or the nonce was journaled first (by another instance).
   */
  private async journalAndSend(
    items: BatchItem[],
    maxSegments: number,
    trigger: Trigger,
    data: string,
    gasLimit: bigint,
    fee: FeeData,
  ): Promise<{ kind: "sent"; intent: LiquidationIntent; settled?: Settled } | { kind: "busy" }> {
    const accounts = items.map((i) => i.account.toLowerCase());
    const pending = await this.store.keeper.pendingAccounts();
    if (accounts.some((a) => pending.has(a))) return { kind: "busy" };
    const epochs = await this.store.keeper.lastEpochs(accounts);
    const members = accounts.map((account) => ({ account, epoch: (epochs.get(account) ?? 0) + 1 }));
    const nonce = await this.allocateNonce();
    const { raw, hash } = await this.signer.sign({
      to: this.engineAddress,
      data,
      nonce,
      chainId: await this.chainId(),
      gasLimit: min((gasLimit * 13n) / 10n, TX_GAS_CAP),
      fee,
    });
    const now = Date.now();
    const intent: Omit<LiquidationIntent, "id"> = {
      account: members[0].account,
      epoch: members[0].epoch,
      signer: this.signer.address.toLowerCase(),
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
      accounts: members.length,
    };
    const journaled = await this.store
      .transaction((tx) => tx.keeper.insertIntent(intent, members))
      .catch((err: unknown) => {
        if (err instanceof IntentConflictError) return false;
        throw err;
      });
    if (!journaled) {
      // Another instance journaled this epoch or nonce first: send nothing, re-read the nonce next time.
      this.nextNonce = undefined;
      return { kind: "busy" };
    }
    this.nextNonce = nonce + 1;
    const stored = (await this.store.keeper.lastEpoch(members[0].account))!;
    const delivered = await this.broadcast(stored).then(
      () => true,
      (err) => {
        this.log.warn("broadcast failed; the journal will re-send the same bytes", { hash, err: String(err) });
        return false;
      },
    );
    this.log.info("liquidation sent", {
      account: members[0].account,
      accounts: members.length,
      epoch: intent.epoch,
      nonce,
      hash,
      reason: trigger.reason,
    });
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
    const gasLimit = await this.read(() => this.provider.estimateGas({ to, data, from: this.signer.address }));
    const fee = await this.feeData();
    const nonce = await this.allocateNonce();
    const { raw } = await this.signer.sign({
      to,
      data,
      nonce,
      chainId: await this.chainId(),
      gasLimit: (gasLimit * 13n) / 10n,
      fee,
    });
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
      const node = await this.read(() => this.provider.getTransactionCount(this.signer.address, "pending"));
      const journaled = await this.store.keeper.maxNonce(this.signer.address);
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

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
