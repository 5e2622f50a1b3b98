import { Wallet } from "ethers";
import { ApiClient, type ApiCredentials } from "../../../offchain/api";
import type { AccountSummary, PublicConfig } from "../../../offchain/portfolio";
import { settlementDomain, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import { MarginEngine__factory, OracleRouter__factory } from "../../../typechain-types";
import { cny, count, ok, until } from "../../lib/demoPlatform";
import { TICK } from "../plan";
import { heading, say } from "../narration";
import type { DemoRun } from "../run";

/** What a practice account reads of itself (GET /v1/practice). */
interface PracticeView {
  account: string;
  atStart: boolean;
  debt: string;
  margin: Record<string, string>;
  mode: string;
}

/** The practice security client B buys, and how many. */
const PRACTICE_BUY = { symbol: "mbTECH", quantity: 1_000n };

/**
 * Paper trading: client B (a new user of this run) practises on the practice service, a second deployment on the
 * same chain with its own store. The practice operator opens practice accounts for B and for the market maker;
 * B borrows as much again as its practice cash (2×) and buys from the maker through the practice order book; the
 * real margin engine holds nothing of it; B resets its practice account to the start.
 */
export async function practice(run: DemoRun, n: number): Promise<void> {
  heading(n, "Paper trading: client B practises 2× on the practice service, apart from real money, and resets");
  const p = run.d.keysFile.practice;
  if (!p) {
    say("  paper trading is off on this platform (MB_PRACTICE=0): nothing to show");
    return;
  }
  const wallets = run.state.wallets;
  wallets.clientB ??= Wallet.createRandom().privateKey;
  run.d.saveState();
  const operator = new ApiClient(p.url, p.keys.operator);
  const cfg = ok(await new ApiClient(p.url).get<PublicConfig>("/v1/config"), "GET /v1/config (practice)");
  const b = await openPractice(run, operator, "clientB");
  const maker = await openPractice(run, operator, "marketMaker");
  const first = await b.client.get<PracticeView>("/v1/practice");
  const start = ok(first, "GET /v1/practice");
  say(
    `  every practice answer is marked: header MarginBridge-Mode: ${first.headers.get("marginbridge-mode")}, "mode":"${start.mode}" in the body`,
  );
  say(
    `  client B's practice account ${start.account} starts with ${cny(start.margin.mbCNY)} and 1,000 of each security`,
  );

  const borrowed = ok(
    await b.client.post<PracticeView>(
      "/v1/practice/borrow",
      { amount: start.margin.mbCNY },
      practiceKey(run, "borrow"),
    ),
    "POST /v1/practice/borrow",
  );
  say(
    `  client B borrows as much again (2× its practice cash): debt ${cny(borrowed.debt)}, cash ${cny(borrowed.margin.mbCNY)}`,
  );

  const token = cfg.contracts[PRACTICE_BUY.symbol];
  const router = OracleRouter__factory.connect(cfg.contracts.OracleRouter, run.d.provider);
  const [oraclePrice] = await router.getPrice(token);
  const ask = (((oraclePrice * 1_002n) / 1_000n / 10n ** 12n + TICK - 1n) / TICK) * TICK;
  const domain = settlementDomain(cfg.chainId!, cfg.contracts.SettlementHub);
  const place = async (who: Awaited<ReturnType<typeof openPractice>>, user: string, side: 0 | 1) => {
    const order: SignedOrderFields = {
      account: who.account,
      instrument: token,
      side,
      expiry: BigInt((await run.d.chainTime()) + 86_400),
      limitPrice: ask,
      quantity: PRACTICE_BUY.quantity,
      nonce: BigInt(Date.now()),
    };
    // Signed by the user's own wallet, the practice account's trading key on the practice hub (and nowhere else).
    const signature = await signOrder(new Wallet(wallets[user]), domain, order);
    const body = {
      order: Object.fromEntries(Object.entries(order).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
      signature,
    };
    return ok(
      await who.client.post<{ orderId: number; filledQuantity: string }>("/v1/orders", body),
      `POST /v1/orders (practice ${user})`,
    );
  };
  const askAck = await place(maker, "marketMaker", 1);
  const bid = await place(b, "clientB", 0);
  say(
    `  practice book: the market maker asks ${count(PRACTICE_BUY.quantity)} ${PRACTICE_BUY.symbol} at ${cny(ask)} (order ${askAck.orderId}); client B buys ${count(bid.filledQuantity)} (order ${bid.orderId})`,
  );
  const settled = await until("the practice batcher to settle client B's practice trade", async () => {
    const a = ok(await b.client.get<AccountSummary>("/v1/accounts/me"), "GET /v1/accounts/me (practice B)");
    const held = a.positions.find((x) => x.token.symbol === PRACTICE_BUY.symbol);
    return held && BigInt(held.quantity) > 1_000n ? a : undefined;
  });
  say(
    `  settled on the practice deployment: positions ${cny(settled.positionValue)}, debt ${cny(settled.debt)}, equity ${cny(settled.equity)}, state ${settled.state}`,
  );
  const realEngine = MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider);
  const [realDebt] = await realEngine.debtOf(b.account);
  const realCash = await realEngine.balanceOf(b.account, run.contract("mbCNY"));
  say(`  the real margin engine holds nothing of it: debt ${cny(realDebt)}, cash ${cny(realCash)} for that account`);

  const reset = ok(
    await b.client.post<{ transactions: number; cancelledOrders: number }>(
      "/v1/practice/reset",
      undefined,
      practiceKey(run, "reset"),
    ),
    "POST /v1/practice/reset",
  );
  const after = ok(await b.client.get<PracticeView>("/v1/practice"), "GET /v1/practice");
  say(
    `  client B resets: ${reset.transactions} transactions on the practice deployment, ${reset.cancelledOrders} orders cancelled; back at the start: ${after.atStart} (debt ${cny(after.debt)}, cash ${cny(after.margin.mbCNY)})`,
  );
}

/** The practice operator opens `user`'s practice account and issues its practice API key (kept in the run state). */
async function openPractice(
  run: DemoRun,
  operator: ApiClient,
  user: string,
): Promise<{ account: string; client: ApiClient }> {
  const wallet = new Wallet(run.state.wallets[user]).address;
  const opened = ok(
    await operator.post<{ account: string }>(
      "/v1/practice/accounts",
      { wallet, tier: 2 },
      practiceKey(run, `open-${user}`),
    ),
    `POST /v1/practice/accounts (${user})`,
  );
  const name = `practice:${user}`;
  if (!run.state.keys[name]) {
    const key = ok(
      await operator.post<ApiCredentials>(
        "/v1/admin/api-keys",
        { role: "client", subject: opened.account, label: `demo ${run.state.runId} practice ${user}` },
        practiceKey(run, `key-${user}`),
      ),
      "POST /v1/admin/api-keys (practice)",
    );
    run.state.keys[name] = { keyId: key.keyId, secret: key.secret };
    run.d.saveState();
  }
  return { account: opened.account, client: new ApiClient(operator.baseUrl, run.state.keys[name]) };
}

function practiceKey(run: DemoRun, what: string): string {
  return `demo-${run.state.runId}-practice-${what}`;
}
