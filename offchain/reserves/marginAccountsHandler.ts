import { MarginEngine__factory } from "../../typechain-types";
import type { ContractHandler } from "../chain";

/** The MarginEngine events that name a margin account, and the arguments that do. */
export const ACCOUNT_EVENTS: Record<string, readonly string[]> = {
  CollateralDeposited: ["account"],
  CollateralWithdrawn: ["account"],
  Borrowed: ["account"],
  Repaid: ["account"],
  AccountTransfer: ["from", "to"],
  TradeLegsSettled: ["buyer", "seller"],
  Liquidated: ["account", "liquidator"],
  DefaultSettled: ["account"],
};

/** Name of the reserves' own indexer (its own cursor), so it never shares a contract address with another handler. */
export const RESERVES_INDEXER = "reserves";

/**
 * MarginEngine → reserves_accounts: every address that appears in an account event, with the block it was
 * first seen at. The liabilities snapshot at block B reads the balances of the accounts first seen at or before B.
 * A liquidator appears too: it holds a margin account (it pays for seized collateral from it).
 */
export function reservesMarginAccountsHandler(engineAddress: string): ContractHandler {
  return {
    contract: "MarginEngine",
    address: engineAddress,
    iface: MarginEngine__factory.createInterface(),
    events: Object.keys(ACCOUNT_EVENTS),
    async handle(e, tx) {
      for (const arg of ACCOUNT_EVENTS[e.event] ?? []) {
        await tx.reserves.addAccount(String(e.args[arg]), e.blockNumber);
      }
    },
    async reset(tx) {
      await tx.reserves.clearAccounts();
    },
  };
}
