/** Why the durable chain refused to start or stopped recording. */
export type DurableChainProblem =
  | "CHAIN_MISMATCH" // the node's chain id or genesis differs from the data directory's manifest
  | "REPLAY_MISMATCH" // a replayed block's hash differs from the recorded one, or the node rejected a recorded transaction
  | "CORRUPT_RECORD" // the block log cannot be read as one unbroken chain
  | "DATA_DIR_IN_USE" // another live process holds the data directory's lock
  | "UNRECORDABLE_BLOCK"; // a mined block holds a transaction whose signed bytes cannot be rebuilt

/**
 * A refusal with the reason, the values that disagree and the command that discards the recorded chain.
 * The message is meant to be printed as is by `npm start`.
 */
export class DurableChainError extends Error {
  constructor(
    readonly code: DurableChainProblem,
    readonly summary: string,
    readonly details: Record<string, string | number>,
    readonly resetCommand: string,
  ) {
    const lines = Object.entries(details).map(([k, v]) => `  ${k}: ${v}`);
    const advice =
      code === "DATA_DIR_IN_USE"
        ? "Stop the other process first."
        : "Refusing to start rather than mix two chains. To discard the recorded chain and start a new one " +
          `(the service state built on it must be discarded too), run:\n  ${resetCommand}`;
    super([summary, ...lines, advice].join("\n"));
    this.name = "DurableChainError";
  }
}
