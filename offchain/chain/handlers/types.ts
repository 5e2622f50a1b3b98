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

/**
 * Several capabilities may follow the same contract (the keeper and the reserves both read the MarginEngine):
 * their handlers merge into one that indexes the union of their events (stored once, under the first handler's
 * contract name) and passes each event to every handler that asked for it.
 */
export function combineHandlers(handlers: ContractHandler[]): ContractHandler {
  const [first] = handlers;
  if (handlers.length === 1) return first;
  return {
    contract: first.contract,
    address: first.address,
    iface: first.iface,
    events: [...new Set(handlers.flatMap((h) => h.events))],
    async handle(event, tx) {
      for (const h of handlers)
        if (h.events.includes(event.event)) await h.handle({ ...event, contract: h.contract }, tx);
    },
    async reset(tx) {
      for (const h of handlers) await h.reset(tx);
    },
  };
}
