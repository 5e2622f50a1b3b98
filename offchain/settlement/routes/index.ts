import type { CapabilityRoutes, Caller } from "../../api";
import { storeEvidenceSource } from "../evidenceSource";
import { AgreementService, AmendmentService, DisputeService, type AgreementRecord } from "../legal";
import { legalCall } from "../wire";
import { agreementEndRoutes } from "./agreementEnd";
import { agreementRoutes } from "./agreements";
import { amendmentRoutes } from "./amendments";
import type { SettlementRouteContext, SettlementRouteDeps } from "./common";
import { disputeRoutes } from "./disputes";
import { paymentMessageRoutes } from "./paymentMessages";
import { settlementComputeRoutes } from "./settlements";
import { statementRoutes } from "./statements";
import { tradeStatusRoutes } from "./trades";

export type { SettlementRouteDeps } from "./common";

/**
 * The settlement capability's HTTP surface, one resource per file: financing agreements (prepare → sign → anchor
 * → read), statements (issue, then read as JSON, CSV or HTML), the final settlement computation, its pain.001 cash
 * legs, and disputes with their evidence bundles. Amounts travel as decimal strings.
 */
export function settlementRoutes(deps: SettlementRouteDeps): CapabilityRoutes {
  const { store } = deps;
  const agreements = new AgreementService(store.legal, deps.agreementDomain);
  const now = deps.now ?? (() => new Date());
  const disputes = new DisputeService(
    store.legal,
    storeEvidenceSource(store, deps.settlementDomain, deps.agreementDomain),
    now,
  );
  const amendments = new AmendmentService(store.legal, deps.agreementDomain, now, deps.onAmendmentExit);
  const readAgreement = (agreementId: string, caller: Caller): Promise<AgreementRecord> =>
    legalCall(() =>
      agreements.retrieve(agreementId, caller.role === "client" ? { address: caller.subject } : { officer: true }),
    );
  const ctx: SettlementRouteContext = { deps, store, agreements, disputes, amendments, readAgreement };
  return {
    name: "settlement",
    routes: [
      ...amendmentRoutes(ctx),
      ...agreementRoutes(ctx),
      ...agreementEndRoutes(ctx),
      ...statementRoutes(ctx),
      ...settlementComputeRoutes(ctx),
      ...paymentMessageRoutes(ctx),
      ...disputeRoutes(ctx),
      ...tradeStatusRoutes(ctx),
    ],
  };
}
