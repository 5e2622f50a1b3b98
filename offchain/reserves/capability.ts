import path from "node:path";
import { reservesContracts } from "../chain/reservesContracts";
import type { Capability } from "../service/capability";
import type { PendingAmountsProvider } from "./indexedSource";
import { RESERVES_INDEXER, reservesMarginAccountsHandler } from "./marginAccountsHandler";
import { reservesRoutes } from "./routes";

/** The service options proof of reserves reads. */
export interface ReservesServiceOptions {
  /** Off-chain ledger amounts (unsettled trade proceeds) added to the proof-of-reserves snapshot; none by default. */
  reservesPending?: PendingAmountsProvider;
}

/**
 * Proof of reserves: its own indexer of the engine's account events (its own cursor and lease), the epoch, proof
 * and publish routes over the ReserveLedger.
 */
export const reservesCapability: Capability<ReservesServiceOptions> = {
  name: "reserves",
  needs: {
    contracts: ["MarginEngine", "ReserveLedger"],
    enabled: ({ deployment }) =>
      deployment?.tokens.some((t) => t.kind === "cash") ? undefined : "the deployment has no cash token",
  },
  build: ({ store, chain, config, options, log, instance }) => {
    const contracts = reservesContracts(chain!, config.chain.reservePublisherKey)!;
    const handler = reservesMarginAccountsHandler(chain!.deployment.contracts.MarginEngine, config.api.secretKey);
    const indexer = chain!.createIndexer(store, [handler], RESERVES_INDEXER);
    if (options.durableHead) indexer.limitHead(options.durableHead);
    return {
      routes: [
        reservesRoutes({
          store,
          ...contracts,
          secretKey: config.api.secretKey,
          dataDir: path.join(config.dataDir, "reserves"),
          pending: options.reservesPending,
          leaseHolder: () => {
            const i = instance();
            return i && { owner: i.owner("reserves"), claim: i.claim };
          },
          log: log.child({ component: "reserves" }),
        }),
      ],
      exposes: { reservesIndexer: indexer },
      start: ({ holder }) => indexer.start(config.chain.pollIntervalMs, options.leases?.ttlMs, holder),
      stop: () => indexer.stop(),
    };
  },
};
