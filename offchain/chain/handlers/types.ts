import type { Interface } from "ethers";
import type { Repositories } from "../../store";

/** A decoded log, identical whether it comes from the node or is replayed from the store after a rewind. */
export interface IndexedEvent {
  contract: string;
  address: string;
  event: string;
  /** Named arguments as decoded by ethers (uint → bigint). */
  args: Record<string, unknown>;
  blockNumber: number;
  logIndex: number;
  blockHash: string;
  txHash: string;
}

/**
 * What a capability registers with the indexer for one deployed contract. `handle` runs inside the indexer's
 * transaction (with `tx`); `reset` wipes the handler's projections so a rewind can replay the surviving events.
 */
export interface ContractHandler {
  /** A stable name (e.g. "KycRegistry", "mbCNY"); events are stored under it. */
  contract: string;
  address: string;
  iface: Interface;
  /** Event names to index; the rest of the contract's events are ignored. */
  events: string[];
  handle(event: IndexedEvent, tx: Repositories): Promise<void>;
  reset(tx: Repositories): Promise<void>;
}
