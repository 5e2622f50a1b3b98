import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import type { PracticeChain, PracticeState } from "../chain/practiceChain";
import { AppError } from "../shared/errors";
import { openPractice, resetPractice, withAccountLease, type ResetDeps } from "./reset";

const uint = z.string().regex(/^[0-9]{1,78}$/, "unsigned integer as a decimal string");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const balances = z.record(uint);

const stateSchema = z.object({
  account: address,
  wallet: address,
  atStart: z.boolean(),
  debt: uint,
  margin: balances.openapi({ description: "margin account balances by token symbol (base units)" }),
  walletBalances: balances.openapi({ description: "what the practice account's wallet holds (base units)" }),
  start: balances.openapi({ description: "the margin balances a practice account starts (and resets) with" }),
  orderDomain: z.object({ name: z.string(), version: z.string(), chainId: z.number(), verifyingContract: address }),
});

const amountBody = z.object({ amount: uint.refine((s) => BigInt(s) > 0n, "must be above zero") }).strict();

function view(chain: PracticeChain, s: PracticeState, wallet: string, start: Record<string, string>) {
  const text = (r: Record<string, bigint>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.toString()]));
  return {
    account: s.account,
    wallet,
    atStart: chain.atStart(s),
    debt: s.debt.toString(),
    margin: text(s.margin),
    walletBalances: text(s.wallet),
    start,
  };
}

/**
 * The practice routes, served by the practice service only. A practice client key's subject is the practice
 * account (the service holds its key, derived from the client's wallet; the wallet is the account's trading key on
 * the practice hub, so the client signs its practice orders). The operator opens a practice account for a wallet;
 * the client reads it, borrows and repays through the API (the account's key never leaves the service), and resets.
 */
export function practiceRoutes(deps: ResetDeps, start: Record<string, string>): CapabilityRoutes {
  const { chain } = deps;
  const mine = async (subject: string) => {
    const wallet = await chain.walletOf(subject);
    if (!wallet) throw new AppError("NOT_FOUND", "no practice account is open for this caller");
    const s = await chain.state(subject);
    return { ...view(chain, s, wallet, start), orderDomain: chain.orderDomain() };
  };
  /** A client's practice borrow or repay of `amount`, under the account's lease; answers its state after. */
  const amountRoute = (path: string, summary: string, act: (account: string, amount: bigint) => Promise<unknown>) =>
    defineRoute({
      method: "post",
      path,
      summary,
      tags: ["practice"],
      roles: ["client"],
      write: true,
      body: amountBody,
      response: stateSchema.omit({ orderDomain: true }),
      handler: async ({ caller, body }) => {
        await withAccountLease(deps, caller.subject, () => act(caller.subject, BigInt(body.amount)));
        const { orderDomain: _, ...rest } = await mine(caller.subject);
        return rest;
      },
    });
  return {
    name: "practice",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/practice",
        summary: "The caller's practice account: balances, debt, its start and the practice hub's order domain",
        tags: ["practice"],
        roles: ["client"],
        write: false,
        response: stateSchema,
        handler: async ({ caller }) => mine(caller.subject),
      }),
      defineRoute({
        method: "post",
        path: "/v1/practice/accounts",
        summary: "Open a client wallet's practice account (identity, trading key, starting balances)",
        description:
          "Idempotent: an open account is returned as it is. Its address is the subject of the client's practice " +
          "API key (POST /v1/admin/api-keys on this service).",
        tags: ["practice"],
        roles: ["operator"],
        write: true,
        body: z.object({ wallet: address, tier: z.number().int().min(1).max(5).default(2) }).strict(),
        response: z.object({ account: address, wallet: address, opened: z.boolean() }),
        status: 201,
        handler: async ({ body }) => {
          const { account, opened } = await openPractice(deps, body.wallet, body.tier);
          return { account, wallet: body.wallet, opened };
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/practice/reset",
        summary: "Reset the caller's practice account to its start",
        description:
          "Cancels the caller's resting practice orders and puts its practice margin account back to the start " +
          "(no debt, the starting balances, an empty wallet) by calls on the practice deployment. Idempotent; " +
          "resets of one account run one at a time.",
        tags: ["practice"],
        roles: ["client"],
        write: true,
        response: z.object({ account: address, cancelledOrders: z.number(), transactions: z.number() }),
        handler: async ({ caller }) => resetPractice(deps, caller.subject),
      }),
      amountRoute(
        "/v1/practice/borrow",
        "Borrow practice cash into the caller's practice margin account",
        chain.borrow,
      ),
      amountRoute("/v1/practice/repay", "Repay practice debt from the caller's practice margin cash", (a, x) =>
        chain.repay(a, x),
      ),
    ],
  };
}
