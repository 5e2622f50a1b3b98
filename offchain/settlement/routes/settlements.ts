import { z } from "zod";
import { defineRoute, type Route } from "../../api";
import {
  computeFinalSettlement,
  finalSettlementHash,
  renderFinalSettlementText,
  type FinalSettlementInput,
} from "../legal";
import { fromWire, legalCall, toWire } from "../wire";
import { finalSettlementInputWire } from "../wireSchemas";
import { AnyJson, type SettlementRouteContext } from "./common";

/** Final settlements: the waterfall, payouts and the hash AgreementRegistry.close takes. */
export function settlementComputeRoutes(_ctx: SettlementRouteContext): Route[] {
  return [computeSettlement()];
}

/** Compute a final settlement (waterfall, payouts, hash for AgreementRegistry.close). */
function computeSettlement(): Route {
  return defineRoute({
    method: "post",
    path: "/v1/settlements/compute",
    summary: "Compute a final settlement (waterfall, payouts, hash for AgreementRegistry.close)",
    tags: ["settlements"],
    roles: ["operator", "risk_officer"],
    write: false,
    body: z.object({ input: finalSettlementInputWire }).strict(),
    response: z.object({ hash: z.string(), settlement: AnyJson, text: z.string() }),
    handler: async ({ body }) => {
      const s = await legalCall(async () => computeFinalSettlement(fromWire<FinalSettlementInput>(body.input)));
      return { hash: finalSettlementHash(s), settlement: toWire(s), text: renderFinalSettlementText(s) };
    },
  });
}
