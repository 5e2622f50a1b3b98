import { opsChain } from "../chain/opsChain";
import type { Capability } from "../service/capability";
import { DEV_KEYS } from "../shared/config";
import { opsRoutes } from "./routes";

/**
 * The operations console's staff API (issue 25): the margin-call board, the oracle and its breakers with the
 * re-arm, and the AccessManager's scheduled operations. Its routes are served without a chain too (503 saying so).
 */
export const opsCapability: Capability = {
  name: "ops",
  needs: { contracts: [] },
  build: ({ store, chain, config, log, exposed }) => {
    const key = config.risk.breakerResetKey ?? (config.env === "development" ? DEV_KEYS.riskOfficerKey : undefined);
    const olog = log.child({ component: "ops" });
    const usable = chain?.deployment.contracts.OracleRouter && chain.deployment.contracts.MarginEngine;
    return {
      routes: [
        opsRoutes({
          store,
          log: olog,
          chain: chain && usable ? { ops: opsChain(chain, key, olog), deployment: chain.deployment } : undefined,
          settings: {
            batchBlocks: config.chain.batchBlocks,
            lensChunk: config.keeper.lensChunk ?? 100,
            breakerClaimTtlMs: config.risk.breakerClaimTtlMs,
          },
          keeperRunning: () => Boolean((exposed() as { keeper?: unknown }).keeper),
        }),
      ],
      partial:
        !chain || !usable ? "no margin deployment: the ops reads answer 503" : key ? undefined : "no breaker reset key",
    };
  },
};
