import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import { defineRoute, type Route } from "../../api";
import {
  LegalError,
  buildPain001,
  computeFinalSettlement,
  settlementPayoutTransfers,
  validatePain001,
  type FinalSettlementInput,
} from "../legal";
import { fromWire, legalCall } from "../wire";
import { bankAccountWire, bankAgentWire, finalSettlementInputWire, payeesWire } from "../wireSchemas";
import { Day, type SettlementRouteContext } from "./common";

/** Payment messages: a final settlement's cash legs as ISO 20022 pain.001.001.10 (message ids single-use). */
export function paymentMessageRoutes(ctx: SettlementRouteContext): Route[] {
  return [exportPain001(ctx)];
}

/** POST /v1/settlements/pain001: the final settlement input, the message header, the debtor and the payees. */
const Pain001Body = z
  .object({
    input: finalSettlementInputWire,
    messageId: z.string().regex(/^[A-Za-z0-9/?:().,'+ -]{1,35}$/, "1-35 characters of the SWIFT set"),
    createdAt: z
      .string()
      .regex(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/,
        "ISO 8601 date-time with an offset",
      ),
    requestedExecutionDate: Day,
    initiatingParty: z
      .object({ name: z.string().min(1).max(140), orgId: z.string().min(1).max(35).optional() })
      .strict(),
    debtor: z.object({ name: z.string().min(1).max(140) }).strict(),
    debtorAccount: bankAccountWire,
    debtorAgent: bankAgentWire,
    payees: payeesWire,
  })
  .strict();

/**
 * Export the cash legs of a final settlement as pain.001.001.10: built, validated against the ISO schema and the
 * business rules, and only then stored (message ids single-use). A file that does not validate is refused (400,
 * the schema's or the rule's messages in details.issues) and nothing is stored.
 */
function exportPain001({ store }: SettlementRouteContext): Route {
  return defineRoute({
    method: "post",
    path: "/v1/settlements/pain001",
    summary:
      "Export the cash legs of a final settlement as pain.001.001.10, validated against the ISO 20022 schema " +
      "(stored only when valid; message ids single-use)",
    tags: ["settlements"],
    roles: ["operator"],
    write: true,
    action: "settlement.pain001",
    status: 201,
    body: Pain001Body,
    response: z.object({ messageId: z.string(), hash: z.string(), dust: z.string(), xml: z.string() }),
    handler: async ({ body }) =>
      legalCall(async () => {
        const s = computeFinalSettlement(fromWire<FinalSettlementInput>(body.input));
        const { transfers, dust } = settlementPayoutTransfers(s, body.payees);
        const xml = buildPain001({
          messageId: body.messageId,
          createdAt: body.createdAt,
          initiatingParty: body.initiatingParty,
          payments: [
            {
              paymentInfoId: `${body.messageId}-1`.slice(0, 35),
              requestedExecutionDate: body.requestedExecutionDate,
              debtor: body.debtor,
              debtorAccount: body.debtorAccount,
              debtorAgent: body.debtorAgent,
              transfers,
            },
          ],
        });
        const report = await validatePain001(xml);
        if (!report.valid)
          throw new LegalError("LEGAL_XML", "the pain.001 does not validate; nothing was stored", {
            issues: report.issues,
          });
        const hash = keccak256(toUtf8Bytes(xml));
        await store.legal.putPaymentMessage({
          messageId: body.messageId,
          createdAt: body.createdAt,
          xml,
          hash,
          endToEndIds: transfers.map((t) => t.endToEndId),
        });
        return { messageId: body.messageId, hash, dust: dust.toString(), xml };
      }),
  });
}
