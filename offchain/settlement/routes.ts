import type { TypedDataDomain } from "ethers";
import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import { defineRoute, type CapabilityRoutes, type Caller } from "../api";
import type { SettlementChain } from "../chain/settlementHubWriter";
import { AppError } from "../shared/errors";
import type { Store } from "../store";
import { anchorAgreement } from "./anchorAgreement";
import type { DailyStatements } from "./dailyStatements";
import { storeEvidenceSource } from "./evidenceSource";
import {
  AgreementService,
  assertDate,
  DisputeService,
  buildPain001,
  buildStatement,
  computeFinalSettlement,
  finalSettlementHash,
  renderFinalSettlementText,
  settlementPayoutTransfers,
  statementHash,
  statementToCsv,
  statementToHtml,
  statementToJson,
  type Actor,
  type AgreementRecord,
  type Dispute,
  type FinalSettlementInput,
  type FinancingTerms,
  type StatementInput,
} from "./legal";
import { fromWire, legalCall, toWire } from "./wire";
import {
  bankAccountWire,
  bankAgentWire,
  finalSettlementInputWire,
  payeesWire,
  statementInputWire,
  termsWire,
} from "./wireSchemas";

export interface SettlementRouteDeps {
  store: Store;
  /** The operator's chain writer; absent: anchoring answers CHAIN_UNAVAILABLE. */
  chain?: SettlementChain;
  /** EIP-712 domain of the AgreementRegistry (agreement signatures). */
  agreementDomain: TypedDataDomain;
  /** EIP-712 domain of the SettlementHub (order signatures in evidence). */
  settlementDomain: TypedDataDomain;
  /** How long an anchor transaction may take before reconciliation takes its claim over (ms; default 300,000). */
  anchorClaimTtlMs?: number;
  /** The daily statement job (reads the indexed chain); absent: POST /v1/statements/daily answers CHAIN_UNAVAILABLE. */
  dailyStatements?: DailyStatements;
  now?: () => Date;
}

const STAFF_READ = ["operator", "auditor", "risk_officer"] as const;
const OFFICERS = ["operator", "risk_officer"] as const;
const Hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of hex");
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD");
const AnyJson = z.unknown();
const AgreementParams = z.object({ agreementId: Hex32 }).strict();
const DisputeParams = z.object({ disputeId: z.string().regex(/^D-[0-9a-f-]{36}$/, "must be a dispute id") }).strict();

function actorOf(caller: Caller): Actor {
  return caller.role === "client" ? { role: "client", id: caller.subject } : { role: "officer", id: caller.subject };
}

function agreementView(rec: AgreementRecord): unknown {
  return toWire({
    agreementId: rec.document.terms.agreementId,
    status: rec.status,
    termsHash: rec.document.termsHash,
    signatures: { client: rec.signatures.client ?? null, platform: rec.signatures.platform ?? null },
    anchor: rec.anchor ?? null,
    finalSettlementHash: rec.finalSettlementHash ?? null,
    revision: rec.revision,
    document: rec.document,
  });
}

/**
 * The settlement capability's HTTP surface: financing agreements (prepare → sign → anchor → read), statements
 * (issue, then read as JSON, CSV or HTML), the final settlement computation and its pain.001 cash legs, and
 * disputes with their evidence bundles. Amounts travel as decimal strings.
 */
export function settlementRoutes(deps: SettlementRouteDeps): CapabilityRoutes {
  const { store } = deps;
  const agreements = new AgreementService(store.legal, deps.agreementDomain);
  const disputes = new DisputeService(
    store.legal,
    storeEvidenceSource(store, deps.settlementDomain),
    deps.now ?? (() => new Date()),
  );
  const readAgreement = (agreementId: string, caller: Caller): Promise<AgreementRecord> =>
    legalCall(() =>
      agreements.retrieve(agreementId, caller.role === "client" ? { address: caller.subject } : { officer: true }),
    );

  return {
    name: "settlement",
    routes: [
      defineRoute({
        method: "post",
        path: "/v1/agreements",
        summary: "Prepare a financing agreement from its terms (platform)",
        tags: ["agreements"],
        roles: ["operator"],
        write: true,
        action: "agreement.prepare",
        status: 201,
        body: z.object({ terms: termsWire }).strict(),
        response: AnyJson,
        handler: async ({ body }) =>
          agreementView(await legalCall(() => agreements.prepare(fromWire<FinancingTerms>(body.terms)))),
      }),
      defineRoute({
        method: "post",
        path: "/v1/agreements/:agreementId/signatures",
        summary: "Submit a party's EIP-712 signature of the agreement",
        description:
          "A client submits its own signature; the operator submits the platform's. The signer is recovered and must be the party.",
        tags: ["agreements"],
        roles: ["client", "operator"],
        write: true,
        action: "agreement.sign",
        params: AgreementParams,
        body: z.object({ signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte signature") }).strict(),
        response: AnyJson,
        handler: async ({ params, body, caller }) => {
          await readAgreement(params.agreementId, caller);
          return agreementView(await legalCall(() => agreements.addSignature(params.agreementId, body.signature)));
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/agreements/:agreementId/anchor",
        summary: "Anchor a signed agreement on-chain (AgreementRegistry.anchor, sent by the operator key)",
        tags: ["agreements"],
        roles: ["operator"],
        write: true,
        action: "agreement.anchor",
        params: AgreementParams,
        response: AnyJson,
        handler: async ({ params, log }) => {
          const chain = deps.chain;
          if (!chain) throw new AppError("CHAIN_UNAVAILABLE", "no operator key configured for the chain");
          const claimTtlMs = deps.anchorClaimTtlMs ?? 300_000;
          return agreementView(
            await anchorAgreement({ store, chain, domain: deps.agreementDomain, claimTtlMs, log }, params.agreementId),
          );
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/agreements/:agreementId",
        summary: "Read an agreement (its parties and staff)",
        tags: ["agreements"],
        roles: ["client", ...STAFF_READ],
        write: false,
        params: AgreementParams,
        response: AnyJson,
        handler: async ({ params, caller }) => agreementView(await readAgreement(params.agreementId, caller)),
      }),
      defineRoute({
        method: "get",
        path: "/v1/agreements",
        summary: "List agreements: a client's own, or a party's (staff, ?party=)",
        tags: ["agreements"],
        roles: ["client", ...STAFF_READ],
        write: false,
        query: z
          .object({
            party: z
              .string()
              .regex(/^0x[0-9a-fA-F]{40}$/)
              .optional(),
          })
          .strict(),
        response: z.object({ agreements: z.array(AnyJson) }),
        handler: async ({ query, caller }) => {
          const party = caller.role === "client" ? caller.subject : query.party;
          if (!party) throw new AppError("VALIDATION_FAILED", "query.party: required for staff");
          return { agreements: (await store.legal.listAgreementsOf(party)).map(agreementView) };
        },
      }),

      defineRoute({
        method: "post",
        path: "/v1/statements",
        summary: "Issue a statement for an agreement's account and period (once per period)",
        tags: ["statements"],
        roles: ["operator"],
        write: true,
        action: "statement.issue",
        status: 201,
        body: z.object({ input: statementInputWire }).strict(),
        response: z.object({ agreementId: z.string(), from: Day, to: Day, hash: z.string() }),
        handler: async ({ body }) => {
          const input = fromWire<StatementInput>(body.input);
          const statement = await legalCall(async () => buildStatement(input));
          const key = { agreementId: input.terms.agreementId, from: input.period.from, to: input.period.to };
          await legalCall(() =>
            store.transaction(async (tx) => {
              await tx.legal.putStatement({
                ...key,
                account: input.terms.client.address,
                hash: statementHash(statement),
                json: statementToJson(statement),
              });
              await tx.legal.putStatementInput(key.agreementId, key.from, key.to, input);
            }),
          );
          return { ...key, hash: statementHash(statement) };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/statements",
        summary: "List an account's statements, newest first (a client its own; staff name the account)",
        tags: ["statements"],
        roles: ["client", ...STAFF_READ],
        write: false,
        query: z
          .object({
            account: z
              .string()
              .regex(/^0x[0-9a-fA-F]{40}$/)
              .optional(),
            limit: z.coerce.number().int().min(1).max(366).default(31),
          })
          .strict(),
        response: z.object({
          statements: z.array(
            z.object({
              agreementId: z.string(),
              from: Day,
              to: Day,
              hash: z.string(),
              currencyDecimals: z.number(),
              interest: z.string(),
              fees: z.string(),
              equity: z.string(),
              marginStatus: z.string(),
            }),
          ),
        }),
        handler: async ({ query, caller }) => {
          const account = caller.role === "client" ? caller.subject : query.account;
          if (!account) throw new AppError("VALIDATION_FAILED", "query.account: required for staff");
          const rows = await store.legal.listStatementsOf(account, query.limit);
          return {
            statements: rows.map((r) => {
              // canonical JSON: every integer is a decimal string
              const s = JSON.parse(r.json) as {
                currency: { decimals: string };
                totals: { interest: string; fees: string };
                balances: { equity: string };
                margin: { status: string };
              };
              return {
                agreementId: r.agreementId,
                from: r.from,
                to: r.to,
                hash: r.hash,
                currencyDecimals: Number(s.currency.decimals),
                interest: s.totals.interest,
                fees: s.totals.fees,
                equity: s.balances.equity,
                marginStatus: s.margin.status,
              };
            }),
          };
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/statements/daily",
        summary: "Build (once) the daily statements of a closed natural day from the indexed chain",
        description:
          "Every anchored agreement active on the day gets its statement (earlier missing days first). Idempotent: " +
          "a day already issued returns the same hashes. 409 while the day has not closed on the indexed chain.",
        tags: ["statements"],
        roles: [...OFFICERS],
        write: true,
        action: "statement.daily",
        status: 200,
        body: z.object({ day: Day }).strict(),
        response: z.object({
          day: Day,
          statements: z.array(z.object({ agreementId: z.string(), account: z.string(), hash: z.string() })),
        }),
        handler: async ({ body }) => {
          if (!deps.dailyStatements) throw new AppError("CHAIN_UNAVAILABLE", "daily statements need the chain");
          return legalCall(async () => deps.dailyStatements!.runDay(assertDate(body.day)));
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/statements/:agreementId/:day",
        summary: "Read the daily statement of an account (JSON, CSV or HTML)",
        description:
          "The statement is re-derived from its stored input and checked against the issued hash. CSV and HTML come as text in `body`.",
        tags: ["statements"],
        roles: ["client", ...STAFF_READ],
        write: false,
        params: z.object({ agreementId: Hex32, day: Day }).strict(),
        query: z.object({ format: z.enum(["json", "csv", "html"]).default("json") }).strict(),
        response: z.object({ hash: z.string(), contentType: z.string(), body: z.string() }),
        handler: async ({ params, query, caller }) => {
          const stored = await store.legal.getStatement(params.agreementId, params.day, params.day);
          if (!stored || (caller.role === "client" && stored.account.toLowerCase() !== caller.subject.toLowerCase())) {
            throw new AppError("NOT_FOUND", "no such statement", { details: { ...params } });
          }
          if (query.format === "json") return { hash: stored.hash, contentType: "application/json", body: stored.json };
          const input = await store.legal.getStatementInput<StatementInput>(params.agreementId, params.day, params.day);
          const statement = input && buildStatement(input);
          if (!statement || statementHash(statement) !== stored.hash) {
            throw new AppError("INTERNAL", "stored statement does not re-derive to its hash", {
              details: { ...params },
            });
          }
          return query.format === "csv"
            ? { hash: stored.hash, contentType: "text/csv; charset=utf-8", body: statementToCsv(statement) }
            : {
                hash: stored.hash,
                contentType: "text/html; charset=utf-8",
                body: statementToHtml(statement, stored.hash),
              };
        },
      }),

      defineRoute({
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
      }),
      defineRoute({
        method: "post",
        path: "/v1/settlements/pain001",
        summary: "Export the cash legs of a final settlement as pain.001.001.09 (stored; message ids single-use)",
        tags: ["settlements"],
        roles: ["operator"],
        write: true,
        action: "settlement.pain001",
        status: 201,
        body: z
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
          .strict(),
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
      }),

      defineRoute({
        method: "post",
        path: "/v1/disputes",
        summary: "Open a dispute on a trade, statement or liquidation (a client on its own, or an officer)",
        description:
          "A client disputes only a subject it is a party to (a trade it bought or sold, its own statement or " +
          "liquidation), under its own account; anything else is 404. An officer names any party of the subject.",
        tags: ["disputes"],
        roles: ["client", ...OFFICERS],
        write: true,
        action: "dispute.open",
        status: 201,
        body: z
          .object({
            subject: z
              .object({
                kind: z.enum(["trade", "statement", "liquidation"]),
                ref: z.string().min(1).max(200),
                account: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
                agreementId: Hex32.optional(),
              })
              .strict(),
            reason: z.string().min(1).max(2000),
          })
          .strict(),
        response: AnyJson,
        handler: async ({ body, caller }) =>
          toWire(await legalCall(() => disputes.open(actorOf(caller), body.subject, body.reason))),
      }),
      defineRoute({
        method: "post",
        path: "/v1/disputes/:disputeId/actions",
        summary: "Move a dispute: collect evidence, start review, resolve (officers) or withdraw (its client)",
        tags: ["disputes"],
        roles: ["client", ...OFFICERS],
        write: true,
        action: "dispute.update",
        params: DisputeParams,
        body: z.discriminatedUnion("action", [
          z.object({ action: z.literal("collect-evidence") }).strict(),
          z.object({ action: z.literal("start-review"), note: z.string().max(2000).optional() }).strict(),
          z
            .object({
              action: z.literal("resolve"),
              decision: z.enum(["upheld", "partially-upheld", "rejected"]),
              summary: z.string().min(1).max(2000),
              adjustment: z.string().regex(/^(0|[1-9][0-9]*)$/, "cash base units as a decimal string"),
            })
            .strict(),
          z.object({ action: z.literal("withdraw"), note: z.string().max(2000).optional() }).strict(),
        ]),
        response: AnyJson,
        handler: async ({ params, body, caller }) => {
          const by = actorOf(caller);
          const id = params.disputeId;
          const result: Dispute = await legalCall(async () => {
            switch (body.action) {
              case "collect-evidence":
                await disputes.collectEvidence(by, id);
                return disputes.view(by, id);
              case "start-review":
                return disputes.startReview(by, id, body.note);
              case "resolve":
                return disputes.resolve(by, id, {
                  decision: body.decision,
                  summary: body.summary,
                  adjustment: BigInt(body.adjustment),
                });
              case "withdraw":
                return disputes.withdraw(by, id, body.note);
            }
          });
          return toWire(result);
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/disputes/:disputeId",
        summary: "Read a dispute and its evidence bundle (verifiable with the verify-evidence CLI)",
        description:
          "Staff see the whole bundle. The client of the dispute sees its own side: items carrying another " +
          "account's data (the counterparty's signed order) come as {kind, id, redacted: true}; the manifest still " +
          "commits to them, so the root and every proof verify.",
        tags: ["disputes"],
        roles: ["client", ...STAFF_READ],
        write: false,
        params: DisputeParams,
        response: z.object({ dispute: AnyJson, evidence: AnyJson }),
        handler: async ({ params, caller }) => {
          const by = actorOf(caller);
          const d = await legalCall(() => disputes.view(by, params.disputeId));
          // A client sees its own side: the other party's signed order is redacted (still committed by the root).
          const bundle = await legalCall(() => disputes.evidenceFor(by, d.id));
          return { dispute: toWire(d), evidence: bundle ? toWire(bundle) : null };
        },
      }),
    ],
  };
}
