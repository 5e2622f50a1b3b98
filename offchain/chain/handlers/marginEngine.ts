import { MarginEngine__factory, OracleRouter__factory } from "../../../typechain-types";
import type { ContractHandler } from "./types";

/**
 * MarginEngine events kept in chain_events (confirmed, reorg-safe): the durable history of collateral movements,
 * borrowing, margin calls, cures and liquidations that the console, auditors and daily statements read, and every
 * other ledger movement (transfers, trade legs, freezes, seizures, margin modes) so a restarted keeper rebuilds its
 * positions from the store alone. No projection: the keeper reacts to the head itself.
 */
export function marginEngineHandler(address: string): ContractHandler {
  return {
    contract: "MarginEngine",
    address,
    iface: MarginEngine__factory.createInterface(),
    events: [
      "CollateralDeposited",
      "CollateralWithdrawn",
      "Borrowed",
      "Repaid",
      "AccountStateChanged",
      "MarginCalled",
      "MarginCallCured",
      "Liquidated",
      "DefaultSettled",
      // the rest of the ledger's movements: with them a keeper restarts from the store alone (issue 24)
      "AccountTransfer",
      "TradeLegsSettled",
      "FreezeSynced",
      "LegalSeizure",
      "MarginModeSet",
    ],
    async handle() {},
    async reset() {},
  };
}

/** OracleRouter rounds and safety transitions kept in chain_events. */
export function oracleRouterHandler(address: string): ContractHandler {
  return {
    contract: "OracleRouter",
    address,
    iface: OracleRouter__factory.createInterface(),
    events: ["RoundProcessed", "CircuitBreakerTripped", "CircuitBreakerReset", "PriceBecameSafe", "PriceBecameUnsafe"],
    async handle() {},
    async reset() {},
  };
}
