import type { Capability } from "../service/capability";
import { alertRoutes } from "./alertRoutes";
import { STANDARD_TIER } from "./behaviourTiers";
import { surveillanceRoutes } from "./routes";
import { surveillanceJobs, type SurveillanceJobOptions } from "./jobs";

/** The slice of the service options surveillance reads: the pre-trade limits' behaviour tiers (their names). */
export interface SurveillanceServiceOptions {
  orderbook?: { limits?: { tiers: Readonly<Record<string, unknown>> } };
  /** The order-flow rules, AML and sanctions re-screen settings (docs/surveillance.md); defaults otherwise. */
  surveillance?: SurveillanceJobOptions;
}

/**
 * Surveillance (issue 25): behaviour tiers a risk officer sets and clears, read by pre-trade risk on every order.
 * The tiers offered are the order books' configured ones (standard always).
 */
export const surveillanceCapability: Capability<SurveillanceServiceOptions> = {
  name: "surveillance",
  needs: { contracts: [] },
  build: ({ store, options, config, log }) => {
    const tiers = Object.keys(options.orderbook?.limits?.tiers ?? { [STANDARD_TIER]: {} });
    return {
      routes: [surveillanceRoutes(store, tiers), alertRoutes(store, tiers)],
      jobs: surveillanceJobs(store, tiers, config, options.surveillance ?? {}, log),
      status: () => ({ surveillance: { behaviourTiers: tiers } }),
    };
  },
};
