import type { ChainGateway } from "../chain";
import { practiceChain, type PracticeAgreement } from "../chain/practiceChain";
import { chainScheduleReader, standingAgreementTerms } from "../settlement";
import {
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  bindingNumbersOf,
  buildAgreement,
} from "../settlement/legal";
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
    // option series are written, not minted: a practice account starts without them
    const start = chain!.deployment.tokens.flatMap((t) =>
      t.kind === "option"
        ? []
        : [{ symbol: t.symbol, amount: PRACTICE_START_WHOLE[t.kind] * 10n ** BigInt(t.decimals) }],
    );
    const practice = practiceChain(chain!, {
      custodianKey: config.practice.custodianKey,
      operatorKey: config.practice.operatorKey,
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
            agreementFor: practiceAgreements(chain!),
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

/** A year of practice financing: the agreement generated from the practice chain's schedule for the account. */
const PRACTICE_TERM_SECONDS = 365 * 86_400;

/** Generates a practice account's agreement from the practice deployment's schedule (as the real desk does). */
function practiceAgreements(chain: ChainGateway): (account: string, platform: string) => Promise<PracticeAgreement> {
  const readSchedule = chainScheduleReader(chain);
  const { deployment } = chain;
  const cash = deployment.tokens.find((t) => t.kind === "cash")!;
  const domain = agreementDomain(deployment.chainId, deployment.contracts.AgreementRegistry);
  return async (account, platform) => {
    const now = (await chain.provider.getBlock("latest"))!.timestamp;
    const terms = await standingAgreementTerms(readSchedule, {
      client: account,
      platform,
      effectiveAt: now,
      expiresAt: now + PRACTICE_TERM_SECONDS,
      currency: { symbol: cash.symbol, decimals: cash.decimals },
    });
    const td = agreementTypedData(domain, agreementMessage(buildAgreement(terms)));
    return { typedData: { ...td, message: { ...td.message } }, ...bindingNumbersOf(terms) };
  };
}
