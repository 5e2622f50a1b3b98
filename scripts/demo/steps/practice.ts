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
  heading(
    n,
    "Paper trading: client B practises 2× on the practice service, apart from real money, and resets",
    "模拟交易：客户 B 在练习服务上以 2 倍杠杆练习，与真实资金完全分开，然后重置",
  );
  const p = run.d.keysFile.practice;
  if (!p) {
    say(
      "  paper trading is off on this platform (MB_PRACTICE=0): nothing to show",
      "  本平台未开启模拟交易（MB_PRACTICE=0）：无可展示内容",
    );
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
  const header = first.headers.get("marginbridge-mode");
  say(
    `  every practice answer is marked: header MarginBridge-Mode: ${header}, "mode":"${start.mode}" in the body`,
    `  每个练习应答都有标记：响应头 MarginBridge-Mode: ${header}，正文中 "mode":"${start.mode}"`,
  );
  say(
    `  client B's practice account ${start.account} starts with ${cny(start.margin.mbCNY)} and 1,000 of each security`,
    `  客户 B 的练习账户 ${start.account} 初始持有 ${cny(start.margin.mbCNY)} 以及每只证券各 1,000 股`,
  );

  const borrowed = ok(
    await b.client.post<PracticeView>(
      "/v1/practice/borrow",
      { amount: start.margin.mbCNY },
      practiceKey(run, "borrow"),
    ),
    "POST /v1/practice/borrow",
  );
  const [debt, cash] = [cny(borrowed.debt), cny(borrowed.margin.mbCNY)];
  say(
    `  client B borrows as much again (2× its practice cash): debt ${debt}, cash ${cash}`,
    `  客户 B 再借入同等金额（练习现金的 2 倍）：负债 ${debt}，现金 ${cash}`,
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
  const [qty, sym] = [count(PRACTICE_BUY.quantity), PRACTICE_BUY.symbol];
  say(
    `  practice book: the market maker asks ${qty} ${sym} at ${cny(ask)} (order ${askAck.orderId}); client B buys ${count(bid.filledQuantity)} (order ${bid.orderId})`,
    `  练习订单簿：做市商以 ${cny(ask)} 卖出 ${qty} ${sym}（订单 ${askAck.orderId}）；客户 B 买入 ${count(bid.filledQuantity)}（订单 ${bid.orderId}）`,
  );
  const settled = await until("the practice batcher to settle client B's practice trade", async () => {
    const a = ok(await b.client.get<AccountSummary>("/v1/accounts/me"), "GET /v1/accounts/me (practice B)");
    const held = a.positions.find((x) => x.token.symbol === PRACTICE_BUY.symbol);
    return held && BigInt(held.quantity) > 1_000n ? a : undefined;
  });
  const figures = [cny(settled.positionValue), cny(settled.debt), cny(settled.equity)];
  say(
    `  settled on the practice deployment: positions ${figures[0]}, debt ${figures[1]}, equity ${figures[2]}, state ${settled.state}`,
    `  已在练习部署上结算：持仓 ${figures[0]}，负债 ${figures[1]}，权益 ${figures[2]}，状态 ${settled.state}`,
  );
  const realEngine = MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider);
  const [realDebt] = await realEngine.debtOf(b.account);
  const realCash = await realEngine.balanceOf(b.account, run.contract("mbCNY"));
  say(
    `  the real margin engine holds nothing of it: debt ${cny(realDebt)}, cash ${cny(realCash)} for that account`,
    `  真实保证金引擎中对该账户毫无记录：负债 ${cny(realDebt)}，现金 ${cny(realCash)}`,
  );

  const reset = ok(
    await b.client.post<{ transactions: number; cancelledOrders: number }>(
      "/v1/practice/reset",
      undefined,
      practiceKey(run, "reset"),
    ),
    "POST /v1/practice/reset",
  );
  const after = ok(await b.client.get<PracticeView>("/v1/practice"), "GET /v1/practice");
  const back = `(debt ${cny(after.debt)}, cash ${cny(after.margin.mbCNY)})`;
  say(
    `  client B resets: ${reset.transactions} transactions on the practice deployment, ${reset.cancelledOrders} orders cancelled; back at the start: ${after.atStart} ${back}`,
    `  客户 B 重置：练习部署上 ${reset.transactions} 笔交易，撤销 ${reset.cancelledOrders} 笔订单；恢复初始状态：${after.atStart}` +
      `（负债 ${cny(after.debt)}，现金 ${cny(after.margin.mbCNY)}）`,
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
