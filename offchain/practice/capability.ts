import { practiceChain } from "../chain/practiceChain";
import type { Capability } from "../service/capability";
import { PRACTICE_START_WHOLE } from "./start";
import { practiceRoutes } from "./routes";
import type { PracticeOrders } from "./reset";

/**
 * Paper trading: built only in the practice service (ServiceOptions.mode "practice"), whose chain gateway is over
 * the practice deployment and whose store is the practice store (offchain/practice/config.ts). The real service
 * never builds it.
 */
export const practiceCapability: Capability = {
  name: "practice",
  needs: {
    contracts: ["MarginEngine", "SettlementHub", "KycRegistry"],
    enabled: ({ options }) => (options.mode === "practice" ? undefined : "not the practice service"),
  },
  build: ({ store, chain, config, log, instance, exposed }) => {
    const start = chain!.deployment.tokens.map((t) => ({
      symbol: t.symbol,
      amount: PRACTICE_START_WHOLE[t.kind] * 10n ** BigInt(t.decimals),
    }));
    const practice = practiceChain(chain!, {
      custodianKey: config.practice.custodianKey,
      accountSeed: config.practice.accountSeed,
      start,
      log: log.child({ component: "practice" }),
    });
    const orders = (): PracticeOrders | undefined => (exposed() as { orderbook?: PracticeOrders }).orderbook;
    const startText = Object.fromEntries(start.map((b) => [b.symbol, b.amount.toString()]));
    return {
      routes: [
        practiceRoutes(
          {
            store,
            chain: practice,
            get orders() {
              return orders();
            },
            instance,
          },
          startText,
        ),
      ],
      status: () => ({ practice: { network: chain!.deployment.network, start: startText } }),
      exposes: { practice },
    };
  },
};
