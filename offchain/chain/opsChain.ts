import { Wallet, encodeBytes32String, type Interface } from "ethers";
import {
  MedianPriceFeed__factory,
  OracleRouter__factory,
  ProtocolAccessManager__factory,
  RiskGuardian__factory,
} from "../../typechain-types";
import type { Logger } from "../shared/logger";
import type { ChainGateway } from "./gateway";
import { valueAccounts, type AccountValuation } from "./batchRead";
import { withRetry } from "./retry";
import { TxSender } from "./sender";

/** The router's PriceStatus enum, by index (IOracleRouter.PriceStatus). */
export const PRICE_STATUS = ["Safe", "Stale", "Deviating", "CircuitBroken", "Closed", "Unset"] as const;

/** One security's oracle as the console shows it: the feed's last round, the router's view and its breaker. */
export interface OracleAssetReading {
  asset: string;
  feed: string;
  /** The feed's last round, its answer in the feed's decimals and when it was updated (unix seconds, 0: none). */
  roundId: bigint;
  answer: bigint;
  decimals: number;
  updatedAt: number;
  /** The reporters that signed the last accepted report (ReportAccepted of `roundId`); empty before any. */
  reporters: string[];
  quorum: number;
  /** The router's price (18 decimals) and status at the head. */
  price: bigint;
  status: (typeof PRICE_STATUS)[number];
  tripped: boolean;
  trippedRoundId: bigint;
  lastRoundId: bigint;
  maxMove: bigint;
  maxStaleness: number;
}

/** How the configured key may re-arm a breaker now: through the RiskGuardian, the router itself, or not at all. */
export type BreakerResetPath =
  | { via: "guardian" | "router"; signer: string }
  | { via: null; signer: string | null; reason: string; delaySeconds?: number };

/** One AccessManager operation's life: scheduled, then executed or cancelled (by nonce). */
export interface ManagerOperation {
  operationId: string;
  nonce: bigint;
  schedule: number;
  caller: string;
  target: string;
  data: string;
  block: number;
  txHash: string;
  closed: { event: "executed" | "canceled"; block: number; txHash: string } | null;
  /** The manager's schedule of the operation now: 0 when it ran, was cancelled or expired. */
  currentSchedule: number;
  currentNonce: bigint;
}

/** The ops console's reads of the oracle and the access manager, and the breaker re-arm (with a key that may). */
export interface OpsChain {
  chainTime(): Promise<{ block: number; timestamp: number }>;
  oracle(assets: string[]): Promise<OracleAssetReading[]>;
  resetPath(): Promise<BreakerResetPath>;
  /**
   * Re-arms the asset's breaker on the path resetPath gives; `ref` (ASCII, at most 31 bytes: the request's id) is
   * the guardian's bytes32 reason. A refusal is CHAIN_REVERTED with `details.effect` (TxSender).
   */
  resetBreaker(asset: string, ref: string): Promise<{ txHash: string; blockNumber: number; via: string }>;
  /** Whether the router's breaker of `asset` is tripped at the head. */
  tripped(asset: string): Promise<boolean>;
  /** The engine's view of `accounts` at one block (the batch lens, `chunk` accounts per call). */
  valueAccounts(accounts: string[], assets: string[], chunk: number): Promise<AccountValuation[]>;
  /** Every operation the AccessManager scheduled since deployment, with its end (logs read in `batchBlocks`). */
  managerOperations(batchBlocks: number): Promise<ManagerOperation[]>;
}

/**
 * Reads for the ops console and the one write it makes: the breaker re-arm, sent only with `resetKey` (config
 * `risk.breakerResetKey`) and only on a path its roles allow at once. RISK_OFFICER may call
 * OracleRouter.resetCircuitBreaker, but people hold that role with the execution delay (86,400 s outside
 * development), so a direct call would have to be scheduled; GUARDIAN calls RiskGuardian.rearmBreaker without delay
 * (the guardian holds RISK_OFFICER without delay and checks the price is Safe again after the reset).
 */
export function opsChain(gateway: ChainGateway, resetKey: string | undefined, log: Logger): OpsChain {
  const { provider, deployment, retry } = gateway;
  const c = deployment.contracts;
  const router = OracleRouter__factory.connect(c.OracleRouter, provider);
  const manager = ProtocolAccessManager__factory.connect(c.AccessManager, provider);
  const guardian = c.RiskGuardian ? RiskGuardian__factory.connect(c.RiskGuardian, provider) : undefined;
  const wallet = resetKey ? new Wallet(resetKey, provider) : undefined;
  const errors: Interface[] = [
    OracleRouter__factory.createInterface(),
    RiskGuardian__factory.createInterface(),
    ProtocolAccessManager__factory.createInterface(),
  ];
  const sender = wallet ? new TxSender(wallet, errors, retry, log.child({ signer: "breakerReset" })) : undefined;
  const feedIface = MedianPriceFeed__factory.createInterface();
  const read = <T>(fn: () => Promise<T>): Promise<T> => withRetry(fn, retry);

  async function reporters(feed: string, roundId: bigint): Promise<string[]> {
    if (roundId === 0n) return [];
    const topics = feedIface.encodeFilterTopics("ReportAccepted", [roundId]);
    const logs = await read(() =>
      provider.getLogs({ address: feed, topics, fromBlock: deployment.deployBlock, toBlock: "latest" }),
    );
    const last = logs.at(-1);
    return last ? (feedIface.parseLog(last)?.args.signers as string[]).map(String) : [];
  }

  async function readAsset(asset: string): Promise<OracleAssetReading> {
    const [params, state, quote] = await Promise.all([
      read(() => router.assetParams(asset)),
      read(() => router.assetState(asset)),
      read(() => router.getPrice(asset)),
    ]);
    const feed = MedianPriceFeed__factory.connect(params.primary, provider);
    const [round, decimals, quorum] = await Promise.all([
      read(() => feed.latestRoundData()),
      read(() => feed.decimals()),
      read(() => feed.quorum()),
    ]);
    return {
      asset,
      feed: params.primary,
      roundId: round.roundId,
      answer: round.answer,
      decimals: Number(decimals),
      updatedAt: Number(round.updatedAt),
      reporters: await reporters(params.primary, round.roundId),
      quorum: Number(quorum),
      price: quote.price,
      status: PRICE_STATUS[Number(quote.status)],
      tripped: state.tripped,
      trippedRoundId: state.trippedRoundId,
      lastRoundId: state.lastRoundId,
      maxMove: params.maxMove,
      maxStaleness: Number(params.maxStaleness),
    };
  }

  async function resetPath(): Promise<BreakerResetPath> {
    if (!wallet)
      return { via: null, signer: null, reason: "no breaker reset key is configured (risk.breakerResetKey)" };
    const signer = wallet.address;
    if (guardian) {
      const selector = guardian.interface.getFunction("rearmBreaker").selector;
      const [immediate] = await read(() => manager.canCall(signer, c.RiskGuardian, selector));
      if (immediate) return { via: "guardian", signer };
    }
    const selector = router.interface.getFunction("resetCircuitBreaker").selector;
    const [immediate, delay] = await read(() => manager.canCall(signer, c.OracleRouter, selector));
    if (immediate) return { via: "router", signer };
    if (delay > 0n)
      return {
        via: null,
        signer,
        delaySeconds: Number(delay),
        reason: `the key holds RISK_OFFICER with a ${delay} s execution delay: the reset must be scheduled through the AccessManager`,
      };
    return { via: null, signer, reason: "the key holds neither GUARDIAN nor RISK_OFFICER" };
  }

  return {
    async chainTime() {
      const block = await read(() => provider.getBlock("latest"));
      return { block: block!.number, timestamp: block!.timestamp };
    },
    oracle: (assets) => Promise.all(assets.map(readAsset)),
    resetPath,
    async resetBreaker(asset, ref) {
      const path = await resetPath();
      if (!sender || path.via === null) throw new Error("no path to reset the breaker");
      const sent =
        path.via === "guardian"
          ? await sender.send(guardian!, "rearmBreaker", [asset, encodeBytes32String(ref)])
          : await sender.send(router, "resetCircuitBreaker", [asset]);
      return { txHash: sent.hash, blockNumber: sent.receipt.blockNumber, via: path.via };
    },
    async tripped(asset) {
      return (await read(() => router.assetState(asset))).tripped;
    },
    async valueAccounts(accounts, assets, chunk) {
      const contracts = { engine: c.MarginEngine, router: c.OracleRouter };
      const block = await read(() => provider.getBlockNumber());
      const out: AccountValuation[] = [];
      for (let i = 0; i < accounts.length; i += chunk)
        out.push(
          ...(await valueAccounts(provider, contracts, accounts.slice(i, i + chunk), assets, retry, block)).accounts,
        );
      return out;
    },
    managerOperations: (batchBlocks) => readManagerOperations(manager, deployment.deployBlock, batchBlocks, read),
  };
}

/** The manager's OperationScheduled / Executed / Canceled logs, read in ranges of `batchBlocks` with retries. */
async function readManagerOperations(
  manager: ReturnType<typeof ProtocolAccessManager__factory.connect>,
  fromBlock: number,
  batchBlocks: number,
  read: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<ManagerOperation[]> {
  const head = await read(() => manager.runner!.provider!.getBlockNumber());
  const f = manager.filters;
  const scheduled = [];
  const closed = new Map<string, ManagerOperation["closed"]>();
  for (let lo = fromBlock; lo <= head; lo += batchBlocks) {
    const hi = Math.min(head, lo + batchBlocks - 1);
    const [s, e, x] = await Promise.all([
      read(() => manager.queryFilter(f.OperationScheduled(), lo, hi)),
      read(() => manager.queryFilter(f.OperationExecuted(), lo, hi)),
      read(() => manager.queryFilter(f.OperationCanceled(), lo, hi)),
    ]);
    scheduled.push(...s);
    for (const [list, event] of [
      [e, "executed"],
      [x, "canceled"],
    ] as const)
      for (const l of list)
        closed.set(`${l.args.operationId}:${l.args.nonce}`, {
          event,
          block: l.blockNumber,
          txHash: l.transactionHash,
        });
  }
  return Promise.all(
    scheduled.map(async (l) => {
      const { operationId, nonce, schedule, caller, target, data } = l.args;
      const [currentSchedule, currentNonce] = await Promise.all([
        read(() => manager.getSchedule(operationId, { blockTag: head })),
        read(() => manager.getNonce(operationId, { blockTag: head })),
      ]);
      return {
        operationId,
        nonce,
        schedule: Number(schedule),
        caller,
        target,
        data,
        block: l.blockNumber,
        txHash: l.transactionHash,
        closed: closed.get(`${operationId}:${nonce}`) ?? null,
        currentSchedule: Number(currentSchedule),
        currentNonce,
      };
    }),
  );
}
