import { SettlementHub__factory } from "../../typechain-types";
import type { ChainGateway } from "./gateway";

/** What the order gateway reads from the chain: the hub's EIP-712 domain and its live trading keys. */
export interface OrderbookChain {
  chainId: bigint;
  hub: string;
  /** Whether `key` is a trading key of `owner` that has not expired (SettlementHub.tradingKeyExpiry). */
  isTradingKey(owner: string, key: string): Promise<boolean>;
}

export function orderbookChain(chain: ChainGateway): OrderbookChain {
  const hubAddress = chain.deployment.contracts.SettlementHub;
  if (hubAddress === undefined) throw new Error("the deployment has no SettlementHub");
  const hub = SettlementHub__factory.connect(hubAddress, chain.provider);
  return {
    chainId: BigInt(chain.deployment.chainId),
    hub: hubAddress,
    async isTradingKey(owner, key) {
      const expiry = await hub.tradingKeyExpiry(owner, key);
      return expiry > BigInt(Math.floor(Date.now() / 1000));
    },
  };
}
