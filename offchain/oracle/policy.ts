/** When a reporter pushes a new round: by heartbeat, or when the price moved enough. */
export interface PushPolicy {
  /** Push when the latest round is at least this old (seconds), even if the price did not move. */
  heartbeatSeconds: number;
  /** Push when |candidate − on-chain answer| / on-chain answer ≥ this many basis points. */
  deviationBps: number;
}

/** What the feed holds now. */
export interface FeedState {
  /** 0n before the first round. */
  latestRound: bigint;
  answer: bigint;
  /** Block time of the latest round (unix seconds); 0 before the first round. */
  updatedAt: number;
}

export type PushReason = "first" | "heartbeat" | "deviation";

/**
 * Why a round should be pushed now, or undefined. Deviation is exact integer arithmetic:
 * |candidate − answer| · 10 000 ≥ deviationBps · answer.
 */
export function pushReason(
  state: FeedState,
  candidate: bigint,
  now: number,
  policy: PushPolicy,
): PushReason | undefined {
  if (state.latestRound === 0n || state.answer <= 0n) return "first";
  if (now - state.updatedAt >= policy.heartbeatSeconds) return "heartbeat";
  const diff = candidate > state.answer ? candidate - state.answer : state.answer - candidate;
  if (diff * 10_000n >= BigInt(policy.deviationBps) * state.answer) return "deviation";
  return undefined;
}
