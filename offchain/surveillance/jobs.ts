import type { Config } from "../shared/config";
import type { Job } from "../shared/jobs";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";
import { DEFAULT_AML, runAml, type AmlConfig } from "./aml";
import { FlowSurveillance } from "./flowJob";
import { flowRules, type DeepPartial, type FlowRulesConfig, type GroupOf } from "./rules";
import { rescreenOnListChange } from "./sanctions";

/** ServiceOptions.surveillance: each part's settings over its defaults (docs/surveillance.md lists them). */
export interface SurveillanceJobOptions {
  rules?: DeepPartial<FlowRulesConfig>;
  aml?: Partial<AmlConfig>;
  /** The tier a sanctions hit proposes (default restricted) and whether it is set without a person. */
  sanctions?: { tier?: string; autoAct?: boolean };
  /** How often each job runs (ms). */
  flowIntervalMs?: number;
  amlIntervalMs?: number;
  sanctionsIntervalMs?: number;
  /** Linked accounts (S1's groups): the group of an account, loaded once per run. */
  groups?: () => Promise<GroupOf>;
}

/** The AML settings with the overrides merged rule by rule. */
export function amlConfig(o: Partial<AmlConfig> = {}): AmlConfig {
  return {
    ...DEFAULT_AML,
    ...o,
    noTrading: { ...DEFAULT_AML.noTrading, ...o.noTrading },
    rapid: { ...DEFAULT_AML.rapid, ...o.rapid },
    structuring: { ...DEFAULT_AML.structuring, ...o.structuring },
  };
}

/**
 * The surveillance jobs, each leased (one instance of the fleet runs it; a standby takes over from the cursors in
 * the store): the order-flow rules over the books' journals, AML over the indexed chain events, and the sanctions
 * re-screen whenever the list file's content changes.
 */
export function surveillanceJobs(
  store: Store,
  tiers: readonly string[],
  config: Config,
  o: SurveillanceJobOptions,
  log: Logger,
): Job[] {
  const flow = new FlowSurveillance(store, { rules: flowRules(o.rules), tiers, log, groups: o.groups });
  const aml = amlConfig(o.aml);
  return [
    { name: "surveillance-flow", intervalMs: o.flowIntervalMs ?? 5_000, timeoutMs: 60_000, run: () => flow.run() },
    {
      name: "surveillance-aml",
      intervalMs: o.amlIntervalMs ?? 15_000,
      timeoutMs: 60_000,
      run: () => runAml(store, tiers, aml),
    },
    {
      name: "surveillance-sanctions",
      intervalMs: o.sanctionsIntervalMs ?? 60_000,
      timeoutMs: 120_000,
      run: () =>
        rescreenOnListChange(store, tiers, {
          file: config.kyc.sanctionsFile,
          dataKey: config.kyc.dataKey,
          threshold: config.kyc.fuzzyThreshold,
          tier: o.sanctions?.tier ?? "restricted",
          autoAct: o.sanctions?.autoAct ?? false,
        }),
    },
  ];
}
