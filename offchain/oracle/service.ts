import type { ContractRunner } from "ethers";
import type { TypedDataSigner } from "./observation";
import type { PushPolicy } from "./policy";
import { reportFeed, type FeedOutcome, type FeedTarget, type ReporterQuote } from "./reportFeed";
import { noopLogger, type PriceQuote, type PriceSource, type ReporterLogger } from "./types";

/** One reporter: its own key and its own (or a shared) price source. */
export interface Reporter {
  signer: TypedDataSigner;
  source: PriceSource;
}

export interface PriceReporterOptions {
  feeds: FeedTarget[];
  reporters: Reporter[];
  /** Relays the rounds (pays gas); needs no role. Injected: offchain/chain owns providers and signers. */
  relayer: ContractRunner;
  /** The relayer's next nonce, when the caller manages nonces (see ReportFeedDeps.nonce). */
  nonce?: () => Promise<number>;
  chainId: bigint;
  policy: PushPolicy;
  /** Time between ticks when all is well (ms). */
  intervalMs: number;
  /** After failures the next tick waits min(baseMs·2^(failures−1), maxMs) instead (ms). */
  backoff: { baseMs: number; maxMs: number };
  /** Unix seconds now (awaited at the start of every tick; must not throw); the wall clock by default. */
  clock?: () => number | Promise<number>;
  log?: ReporterLogger;
}

export interface TickResult {
  at: number;
  outcomes: FeedOutcome[];
  failures: { symbol: string; error: string }[];
}

/**
 * The price reporter: every tick, each distinct source is read once, each feed is brought up to date by
 * heartbeat or deviation (reportFeed), and failures (an RPC outage, a source down) are logged and retried on a
 * backoff schedule. Several reporters with their own keys run in one process for the local chain.
 */
export class PriceReporterService {
  private readonly log: ReporterLogger;
  private readonly clock: () => number | Promise<number>;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  private running = false;
  private consecutiveFailures = 0;

  constructor(private readonly opts: PriceReporterOptions) {
    this.log = opts.log ?? noopLogger;
    this.clock = opts.clock ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Failed ticks in a row (0 after a clean tick). */
  get failureStreak(): number {
    return this.consecutiveFailures;
  }

  /** Delay before the next tick: the interval, or the backoff after failures. */
  nextDelayMs(): number {
    if (this.consecutiveFailures === 0) return this.opts.intervalMs;
    const { baseMs, maxMs } = this.opts.backoff;
    return Math.min(baseMs * 2 ** (this.consecutiveFailures - 1), maxMs);
  }

  /** Runs ticks until stop(); the first one at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async (): Promise<void> => {
      if (!this.running) return;
      this.inFlight = this.tick();
      await this.inFlight;
      this.inFlight = undefined;
      if (this.running) this.timer = setTimeout(() => void loop(), this.nextDelayMs());
    };
    void loop();
  }

  /** Stops the loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  /** One pass over every feed. Never throws: failures are returned, logged and counted for the backoff. */
  async tick(): Promise<TickResult> {
    const now = await this.clock();
    const symbols = this.opts.feeds.map((f) => f.symbol);
    const bySource = new Map<PriceSource, PriceQuote[]>();
    for (const source of new Set(this.opts.reporters.map((r) => r.source))) {
      try {
        bySource.set(source, await source.read(symbols, now));
      } catch (err) {
        this.log.warn("oracle.source_failed", { source: source.name, error: err });
        bySource.set(source, []);
      }
    }
    const result: TickResult = { at: now, outcomes: [], failures: [] };
    for (const target of this.opts.feeds) {
      const quotes: ReporterQuote[] = [];
      for (const r of this.opts.reporters) {
        const quote = bySource.get(r.source)!.find((q) => q.symbol === target.symbol);
        if (quote) quotes.push({ signer: r.signer, quote });
      }
      try {
        result.outcomes.push(
          await reportFeed(
            {
              relayer: this.opts.relayer,
              chainId: this.opts.chainId,
              policy: this.opts.policy,
              log: this.log,
              nonce: this.opts.nonce,
            },
            target,
            quotes,
            now,
          ),
        );
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.log.warn("oracle.feed_failed", { symbol: target.symbol, error: err });
        result.failures.push({ symbol: target.symbol, error: message });
      }
    }
    this.consecutiveFailures = result.failures.length > 0 ? this.consecutiveFailures + 1 : 0;
    if (this.consecutiveFailures > 0) {
      this.log.warn("oracle.backoff", { failures: this.consecutiveFailures, nextDelayMs: this.nextDelayMs() });
    }
    return result;
  }
}
