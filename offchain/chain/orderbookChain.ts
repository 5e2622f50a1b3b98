import { MarginEngine__factory, OracleRouter__factory, SettlementHub__factory } from "../../typechain-types";
import type { ChainGateway } from "./gateway";

/** What the order gateway reads from the chain: the hub's EIP-712 domain and its live trading keys. */
export interface OrderbookChain {
  chainId: bigint;
  hub: string;
  /** Whether `key` is a trading key of `owner` that has not expired (SettlementHub.tradingKeyExpiry). */
  isTradingKey(owner: string, key: string): Promise<boolean>;
  /** KYC and margin facts of one account, read at one block. Amounts in token base units, leverage WAD. */
  readAccount(account: string, securities: readonly string[]): Promise<ChainAccountFacts>;
  /** OracleRouter.getPrice: 18-decimal cash per whole token, and whether it is Safe. */
  readPrice(asset: string): Promise<{ price: bigint; safe: boolean }>;
}

export interface ChainAccountFacts {
  verified: boolean;
  /** Unix seconds; 0 when not registered. */
  kycExpiresAt: number;
  maxLeverage: bigint;
  /** MarginEngine.AccountState: 0 Healthy … 4 Defaulted. */
  state: number;
  cash: bigint;
  debt: bigint;
  /** Internal MarginEngine balance of each security, in the order asked. */
  positions: bigint[];
}

export function orderbookChain(chain: ChainGateway): OrderbookChain {
  const hubAddress = chain.deployment.contracts.SettlementHub;
  if (hubAddress === undefined) throw new Error("the deployment has no SettlementHub");
  const hub = SettlementHub__factory.connect(hubAddress, chain.provider);
  const { MarginEngine: engineAddress, OracleRouter: routerAddress } = chain.deployment.contracts;
  const engine = engineAddress ? MarginEngine__factory.connect(engineAddress, chain.provider) : undefined;
  const router = routerAddress ? OracleRouter__factory.connect(routerAddress, chain.provider) : undefined;
  return {
    chainId: BigInt(chain.deployment.chainId),
    hub: hubAddress,
    async isTradingKey(owner, key) {
      const expiry = await hub.tradingKeyExpiry(owner, key);
      return expiry > BigInt(Math.floor(Date.now() / 1000));
    },
    async readAccount(account, securities) {
      if (engine === undefined) throw new Error("the deployment has no MarginEngine");
      const blockTag = await chain.provider.getBlockNumber();
      const [verified, identity, maxLeverage, view, positions] = await Promise.all([
        chain.kycRegistry.isVerified(account, { blockTag }),
        chain.kycRegistry.identityOf(account, { blockTag }),
        chain.kycRegistry.maxLeverageOf(account, { blockTag }),
        engine.accountView(account, { blockTag }),
        Promise.all(securities.map((s) => engine.balanceOf(account, s, { blockTag }))),
      ]);
      return {
        verified,
        kycExpiresAt: Number(identity.expiresAt),
        maxLeverage,
        state: Number(view.state),
        cash: view.cash,
        debt: view.debt,
        positions,
      };
    },
    async readPrice(asset) {
      if (router === undefined) throw new Error("the deployment has no OracleRouter");
      const [price, status] = await router.getPrice(asset);
      return { price, safe: Number(status) === 0 };
    },
  };
}
