import type { ContractRunner } from "ethers";
import { MedianPriceFeed__factory } from "../../typechain-types";
import { medianOf } from "./decimal";
import { signObservation, type SignedObservation, type TypedDataSigner } from "./observation";
import { pushReason, type FeedState, type PushPolicy, type PushReason } from "./policy";
import type { PriceQuote, ReporterLogger } from "./types";

/** A feed the service reports to. */
export interface FeedTarget {
  symbol: string;
  address: string;
}

/** One reporter's contribution to a round: its key and what its source quoted. */
export interface ReporterQuote {
  signer: TypedDataSigner;
  quote: PriceQuote;
}

export type FeedOutcome =
  | { symbol: string; action: "pushed"; roundId: bigint; answer: bigint; reason: PushReason; txHash: string }
  | { symbol: string; action: "skipped"; reason: "fresh" | "no-quorum" }
  | { symbol: string; action: "raced"; roundId: bigint };

export interface ReportFeedDeps {
  /** Sends the relay transaction and reads the feed (a Signer with a provider). */
  relayer: ContractRunner;
  chainId: bigint;
  policy: PushPolicy;
  log: ReporterLogger;
  /** The relayer's next nonce, when the caller manages nonces (ethers caches identical reads for 250 ms). */
  nonce?: () => Promise<number>;
}

/**
 * One feed, one tick: read the feed, decide by heartbeat or deviation on the median of the reporters' quotes,
 * have each reporter sign its own observation for round latest + 1, and relay them in one transaction.
 * Idempotent across retries: the round id is re-read every time, and the feed accepts only latest + 1, so a
 * relay whose receipt was lost is never repeated as a second round.
 */
export async function reportFeed(
  deps: ReportFeedDeps,
  target: FeedTarget,
  quotes: ReporterQuote[],
  now: number,
): Promise<FeedOutcome> {
  const feed = MedianPriceFeed__factory.connect(target.address, deps.relayer);
  const [latestRound, quorum, [maxAge, maxFuture]] = await Promise.all([
    feed.latestRound(),
    feed.quorum(),
    feed.observationWindow(),
  ]);
  const state: FeedState = { latestRound, answer: 0n, updatedAt: 0 };
  if (latestRound > 0n) {
    const [, answer, , updatedAt] = await feed.latestRoundData();
    state.answer = answer;
    state.updatedAt = Number(updatedAt);
  }
  // Observations the feed would refuse for their time are not worth signing.
  const usable = quotes.filter(
    (q) => q.quote.observedAt + Number(maxAge) > now && q.quote.observedAt <= now + Number(maxFuture),
  );
  if (usable.length < Number(quorum)) {
    deps.log.warn("oracle.quorum_unavailable", {
      symbol: target.symbol,
      quotes: usable.length,
      quorum: Number(quorum),
    });
    return { symbol: target.symbol, action: "skipped", reason: "no-quorum" };
  }
  const candidate = medianOf(usable.map((q) => q.quote.price));
  const reason = pushReason(state, candidate, now, deps.policy);
  if (!reason) return { symbol: target.symbol, action: "skipped", reason: "fresh" };

  const roundId = latestRound + 1n;
  const signed: SignedObservation[] = await Promise.all(
    usable.map((q) =>
      signObservation(q.signer, {
        feed: target.address,
        chainId: deps.chainId,
        roundId,
        answer: q.quote.price,
        observedAt: BigInt(q.quote.observedAt),
      }),
    ),
  );
  try {
    const tx = await feed.transmit(
      roundId,
      signed.map((s) => ({ answer: s.answer, observedAt: s.observedAt, signature: s.signature })),
      deps.nonce ? { nonce: await deps.nonce() } : {},
    );
    const receipt = await tx.wait();
    const [, answer] = await feed.getRoundData(roundId);
    deps.log.info("oracle.round_pushed", {
      symbol: target.symbol,
      roundId: roundId.toString(),
      answer: answer.toString(),
      reason,
      reporters: signed.length,
      gasUsed: receipt?.gasUsed.toString(),
    });
    return { symbol: target.symbol, action: "pushed", roundId, answer, reason, txHash: tx.hash };
  } catch (err) {
    // Another relayer (or our own earlier attempt whose receipt was lost) got there first.
    if (revertName(err) === "FeedInvalidRound") {
      deps.log.info("oracle.round_raced", { symbol: target.symbol, roundId: roundId.toString() });
      return { symbol: target.symbol, action: "raced", roundId };
    }
    throw err;
  }
}

/** The custom error name of a reverted call, when ethers decoded it against the contract's ABI. */
export function revertName(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    const o = e as { revert?: { name?: unknown }; cause?: unknown; error?: unknown };
    if (o.revert && typeof o.revert.name === "string") return o.revert.name;
    e = o.cause ?? o.error;
  }
  return undefined;
}
