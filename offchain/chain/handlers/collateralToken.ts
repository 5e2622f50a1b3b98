import { ZeroAddress } from "ethers";
import { CollateralToken__factory } from "../../../typechain-types";
import type { ContractHandler } from "./types";

/** CollateralToken → chain_balances: every balance change is a Transfer (mint, redeem and forced included). */
export function collateralTokenHandler(symbol: string, address: string): ContractHandler {
  return {
    contract: symbol,
    address,
    iface: CollateralToken__factory.createInterface(),
    events: ["Transfer", "Minted", "Redeemed", "FreezeSet", "ForcedTransfer"],
    async handle(e, tx) {
      if (e.event !== "Transfer") return;
      const value = e.args.value as bigint;
      const from = String(e.args.from);
      const to = String(e.args.to);
      if (from !== ZeroAddress) await tx.projections.addBalance(address, from, -value, e.blockNumber);
      if (to !== ZeroAddress) await tx.projections.addBalance(address, to, value, e.blockNumber);
    },
    async reset(tx) {
      await tx.projections.clearBalances(address);
    },
  };
}
