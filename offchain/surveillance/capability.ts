import { kycRegistryWriter } from "../chain";
import type { TokenRecord } from "../chain/deployment";
import type { Capability } from "../service/capability";
import type { Store } from "../store";
import { alertRoutes } from "./alertRoutes";
import { STANDARD_TIER } from "./behaviourTiers";
import { groupRoutes, type GroupUsage } from "./groupRoutes";
import { groupsOf } from "./groups";
import { runReviews, type AccountFigures } from "./reviews";
import { surveillanceRoutes } from "./routes";
import { DEFAULT_AML, type AmlConfig } from "./aml";
import { surveillanceJobs, type SurveillanceJobOptions } from "./jobs";
import type { GroupOf } from "./rules";

/** The slice of the service options surveillance reads: the pre-trade limits' behaviour tiers (their names). */
export interface SurveillanceServiceOptions {
  orderbook?: { limits?: { tiers: Readonly<Record<string, unknown>> } };
  /** The order-flow rules, AML and sanctions re-screen settings (docs/surveillance.md); defaults otherwise. */
  surveillance?: SurveillanceJobOptions;
}

/** What surveillance reads of the other capabilities (CapabilityDeps.exposed): the books and the keeper's index. */
interface Exposed {
  orderbook?: { groupUsage: GroupUsage };
  keeper?: { index: { accounts(): string[]; get(a: string): AccountFigures | undefined } };
}

/**
 * Surveillance (issue 25): behaviour tiers a risk officer sets and clears, read by pre-trade risk on every order;
 * linked-account groups and the review queue (its job runs over the keeper's valuations and margin calls).
 * The tiers offered are the order books' configured ones (standard always).
 */
export const surveillanceCapability: Capability<SurveillanceServiceOptions> = {
  name: "surveillance",
  needs: { contracts: [] },
  build: ({ store, options, config, exposed, chain, log }) => {
    const tiers = Object.keys(options.orderbook?.limits?.tiers ?? { [STANDARD_TIER]: {} });
    const linked = config.linkedAccounts;
    const seen = (): Exposed => exposed() as Exposed;
    const figures = (): AccountFigures[] => {
      const index = seen().keeper?.index;
      return (index?.accounts() ?? []).flatMap((a) => index?.get(a) ?? []);
    };
    return {
      routes: [
        surveillanceRoutes(store, tiers),
        groupRoutes(store, tiers, {
          usage: (members) => seen().orderbook?.groupUsage(members),
          selfTrade: linked.selfTrade,
          kyc: { writer: chain?.kycOfficer ? kycRegistryWriter(chain) : undefined, claimTtlMs: config.kyc.claimTtlMs },
        }),
        alertRoutes(store, tiers),
      ],
      jobs: [
        {
          name: "surveillance-reviews",
          intervalMs: linked.reviewIntervalMs,
          timeoutMs: 60_000,
          run: () =>
            runReviews(store, figures(), {
              windowMs: linked.reviewWindowMs,
              leverageUsage: linked.leverageUsage,
              marginCalls: linked.marginCalls,
              lossShare: linked.lossShare,
            }),
        },
        // The wash-like rule sees linked accounts as one party: the groups read once per run.
        ...surveillanceJobs(
          store,
          tiers,
          config,
          {
            groups: () => groupLookup(store),
            ...options.surveillance,
            aml: withCashThreshold(options.surveillance?.aml, chain?.deployment.tokens),
          },
          log,
        ),
      ],
      status: () => ({ surveillance: { behaviourTiers: tiers, groupSelfTrade: linked.selfTrade } }),
    };
  },
};

/** Each linked account's group id (its lowest member), from the whole link graph. */
async function groupLookup(store: Store): Promise<GroupOf> {
  const byAccount = new Map<string, string>();
  for (const g of groupsOf(await store.groups.edges())) for (const a of g.members) byAccount.set(a, g.id);
  return (account) => byAccount.get(account.toLowerCase());
}

/**
 * The reporting threshold for cash movements: RMB 50,000 (PBOC, 金融机构大额交易和可疑交易报告管理办法, Order [2016]
 * No. 3, art. 5: cash deposits and withdrawals of RMB 50,000 or more are large-value transactions to report).
 */
export const CASH_REPORTING_THRESHOLD_CNY = 50_000n;

/** The AML settings with the deployment's cash token under its reporting threshold, unless one is configured for it. */
export function withCashThreshold(
  aml: Partial<AmlConfig> | undefined,
  tokens: readonly TokenRecord[] | undefined,
): Partial<AmlConfig> {
  const cash = tokens?.find((t) => t.kind === "cash");
  if (!cash) return aml ?? {};
  const address = cash.address.toLowerCase();
  const thresholds = { ...aml?.structuring?.thresholds };
  thresholds[address] ??= (CASH_REPORTING_THRESHOLD_CNY * 10n ** BigInt(cash.decimals)).toString();
  return { ...aml, structuring: { ...DEFAULT_AML.structuring, ...aml?.structuring, thresholds } };
}
