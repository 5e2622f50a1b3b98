import type { ApiMetrics } from "../api";
import type { Capability } from "../service/capability";
import { Keeper } from "./keeper";
import { keeperRoutes } from "./routes";

/**
 * The liquidation keeper: on by default in development (config.keeper.enabled overrides), needs the chain. Its
 * routes (liquidation overrides, the keeper's view) are served either way.
 */
export const keeperCapability: Capability = {
  name: "keeper",
  needs: { contracts: [] },
  build: ({ store, chain, config, log }) => {
    const enabled = config.keeper.enabled ?? config.env === "development";
    const keeper =
      chain && enabled
        ? new Keeper({
            store,
            provider: chain.provider,
            signer: chain.signer(config.keeper.signerKey),
            retry: chain.retry,
            deployment: chain.deployment,
            settings: config.keeper,
            log: log.child({ component: "keeper" }),
          })
        : undefined;
    return {
      routes: [keeperRoutes({ store }, keeper)],
      jobs: keeper
        ? [{ name: "keeper-outbox", intervalMs: 1_000, timeoutMs: 30_000, run: () => keeper.deliver() }]
        : [],
      metrics: keeper ? (m) => keeperGauges(m, keeper) : undefined,
      partial: keeper
        ? undefined
        : chain
          ? "the liquidation keeper is disabled (config.keeper.enabled)"
          : "no chain: no keeper",
      exposes: { keeper },
      start: ({ holder }) => keeper?.start(holder),
      stop: async () => keeper?.stop(),
    };
  },
};

function keeperGauges(m: ApiMetrics, k: Keeper): void {
  for (const state of Object.keys(k.metrics.accountsByState) as (keyof typeof k.metrics.accountsByState)[])
    m.gauge(
      `mb_keeper_accounts_${state.toLowerCase()}`,
      `indexed accounts in ${state}`,
      () => k.metrics.accountsByState[state],
    );
  m.gauge("mb_keeper_liquidations_mined", "liquidations mined", () => k.metrics.liquidationsMined);
  m.gauge("mb_keeper_segments_liquidated", "segments liquidated", () => k.metrics.segmentsLiquidated);
  m.gauge("mb_keeper_bad_debt_written_off", "bad debt written off (cash base units)", () =>
    Number(k.metrics.badDebt.writtenOff),
  );
  m.gauge("mb_keeper_insurance_coverage", "insurance fund / shortfall", () =>
    k.metrics.shortfall === 0n ? 1e9 : Number(k.metrics.insuranceCoverage) / 1e18,
  );
  m.gauge(
    "mb_keeper_last_round_rechecked",
    "accounts re-read for the last price round",
    () => k.metrics.lastRoundRechecked,
  );
}
