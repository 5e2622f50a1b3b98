import { z } from "zod";
import { defineRoute, type Route } from "../../api";
import { AppError } from "../../shared/errors";
import {
  assertDate,
  buildStatement,
  statementHash,
  statementToCsv,
  statementToHtml,
  statementToJson,
  type StatementInput,
  type StoredStatement,
} from "../legal";
import { fromWire, legalCall } from "../wire";
import { statementInputWire } from "../wireSchemas";
import { Day, Hex32, OFFICERS, STAFF_READ, type SettlementRouteContext } from "./common";

/** Statements: issue (once per period), list an account's, the daily statements of a closed day, read one as JSON, CSV or HTML. */
export function statementRoutes(ctx: SettlementRouteContext): Route[] {
  return [issueStatement(ctx), listStatements(ctx), dailyStatementsRoute(ctx), readStatement(ctx)];
}

/** Issue a statement for an agreement's account and period (once per period). */
function issueStatement({ store }: SettlementRouteContext): Route {
  return defineRoute({
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
  });
}

const StatementSummary = z.object({
  agreementId: z.string(),
  from: Day,
  to: Day,
  hash: z.string(),
  currencyDecimals: z.number(),
  interest: z.string(),
  fees: z.string(),
  equity: z.string(),
  marginStatus: z.string(),
});

/** A stored statement's headline figures (its canonical JSON: every integer is a decimal string). */
function statementSummary(r: StoredStatement): z.infer<typeof StatementSummary> {
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
}

/** List an account's statements, newest first (a client its own; staff name the account). */
function listStatements({ store }: SettlementRouteContext): Route {
  return defineRoute({
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
    response: z.object({ statements: z.array(StatementSummary) }),
    handler: async ({ query, caller }) => {
      const account = caller.role === "client" ? caller.subject : query.account;
      if (!account) throw new AppError("VALIDATION_FAILED", "query.account: required for staff");
      const rows = await store.legal.listStatementsOf(account, query.limit);
      return {
        statements: rows.map(statementSummary),
      };
    },
  });
}

/** Build (once) the daily statements of a closed natural day from the indexed chain. */
function dailyStatementsRoute({ deps }: SettlementRouteContext): Route {
  return defineRoute({
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
  });
}

/** Read the daily statement of an account (JSON, CSV or HTML). */
function readStatement({ store }: SettlementRouteContext): Route {
  return defineRoute({
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
  });
}
