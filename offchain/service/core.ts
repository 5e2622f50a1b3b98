import { authRoutes, coreRoutes } from "../api";
import { chainHealthProbe } from "../chain";
import { marginEngineHandler, oracleRouterHandler } from "../chain/handlers/marginEngine";
import { settlementHubHandler } from "../chain/handlers/settlementHub";
import type { Capability } from "./capability";

/**
 * The service's own face: health, readiness, status and API keys; the chain's projections for the main indexer
 * (KYC registry, collateral tokens, and when deployed the SettlementHub's settled batches and spent nonces, which
 * settlement and the order books read, and the margin engine's and oracle router's events); nonce pruning.
 */
export const coreCapability: Capability = {
  name: "core",
  needs: { contracts: [] },
  build: ({ store, config, chain, status }) => {
    const c = chain?.deployment.contracts;
    return {
      handlers: chain
        ? [
            ...chain.coreHandlers(),
            ...(c?.SettlementHub ? [settlementHubHandler(c.SettlementHub)] : []),
            ...(c?.MarginEngine ? [marginEngineHandler(c.MarginEngine)] : []),
            ...(c?.OracleRouter ? [oracleRouterHandler(c.OracleRouter)] : []),
          ]
        : [],
      routes: [
        coreRoutes({
          store,
          secretKey: config.api.secretKey,
          status,
          chainHealth: chain ? chainHealthProbe(chain, store, { timeoutMs: config.api.readyTimeoutMs }) : undefined,
          readyMaxLagBlocks: config.api.readyMaxLagBlocks,
        }),
        // wallet sign-in names the deployment's chain, so it needs one
        ...(chain
          ? [
              authRoutes({
                store,
                settings: {
                  ttlMs: config.api.walletSessionTtlSeconds * 1000,
                  nonceTtlMs: config.api.siweNonceTtlSeconds * 1000,
                  domains: config.api.siweDomains,
                  chainId: chain.deployment.chainId,
                },
              }),
            ]
          : []),
      ],
      jobs: [
        {
          name: "nonce-prune",
          intervalMs: 60_000,
          timeoutMs: 30_000,
          run: async () => {
            const now = Date.now();
            // ended sessions are kept a day for the audit trail's sake, then dropped
            return (await store.nonces.prune(now)) + (await store.sessions.prune(now, now - 86_400_000));
          },
        },
      ],
    };
  },
};
