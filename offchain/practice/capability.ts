import { practiceChain } from "../chain/practiceChain";
import type { Capability, CapabilityDeps } from "../service/capability";
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
  // Off before anything else in the real service (said once, as "off", not as a missing deployment).
  needs: { contracts: [], enabled: practiceOff },
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

/** Why the practice capability does not run here, or undefined when it does. */
function practiceOff({ options, deployment }: CapabilityDeps): string | undefined {
  if (options.mode !== "practice") return "not the practice service";
  if (!deployment) return "no practice deployment record";
  const missing = PRACTICE_CONTRACTS.filter((c) => !deployment.contracts[c]);
  return missing.length > 0 ? `the practice deployment has no ${missing.join(", ")}` : undefined;
}

const PRACTICE_CONTRACTS = ["MarginEngine", "SettlementHub", "KycRegistry"];
