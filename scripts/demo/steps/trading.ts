import { CollateralToken__factory, MarginEngine__factory, OracleRouter__factory } from "../../../typechain-types";
import { cny, count, ok, pct, price, until } from "../../lib/demoPlatform";
import { TICK, LEVERAGE, PORTFOLIO, type User } from "../plan";
import { say, heading } from "../narration";
import { placeOrder } from "../orders";
import type { DemoRun } from "../run";
import { armAtrStop } from "./protective";

/** The maker rests asks near the oracle price; client A buys across them; the batcher settles on-chain (DvP). */
export async function trading(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "Trading: the market maker quotes, client A buys through the order book, trades settle on-chain",
    "交易：做市商报价，客户 A 通过订单簿买入，成交在链上结算",
  );
  const maker = run.wallet("marketMaker");
  const engineAddress = run.contract("MarginEngine");
  const router = OracleRouter__factory.connect(run.contract("OracleRouter"), run.d.provider);
  const makerEngine = MarginEngine__factory.connect(engineAddress, maker);
  for (const { symbol } of PORTFOLIO) {
    const token = CollateralToken__factory.connect(run.contract(symbol), maker);
    const held = await token.balanceOf(maker.address);
    if (held > 0n) {
      await (await token.approve(engineAddress, held)).wait();
      await (await makerEngine.deposit(run.contract(symbol), held)).wait();
    }
  }
  const start = await run.d.account("clientA");
  const budget = (BigInt(start.cash) * 99n) / 100n; // 1% kept back for commissions
  for (const { symbol, share } of PORTFOLIO) {
    const token = run.contract(symbol);
    const [oraclePrice] = await router.getPrice(token);
    // Ask 0.2% over the oracle, on the tick grid (price per whole share in mbCNY base units).
    const ask = (((oraclePrice * 1_002n) / 1_000n / 10n ** 12n + TICK - 1n) / TICK) * TICK;
    const quantity = (budget * share) / 100n / ask;
    const place = (user: User, side: 0 | 1, limit: bigint, qty: bigint) =>
      placeOrder(run, user, side, token, limit, qty, symbol);
    const askAck = await place("marketMaker", 1, ask, quantity);
    say(
      `  market maker asks ${count(quantity)} ${symbol} at ${cny(ask)} (oracle ${price(oraclePrice)}): order ${askAck.orderId} resting ${count(askAck.restingQuantity)}`,
      `  做市商以 ${cny(ask)} 卖出 ${count(quantity)} ${symbol}（预言机价格 ${price(oraclePrice)}）：订单 ${askAck.orderId} 挂单 ${count(askAck.restingQuantity)}`,
    );
    await simulateBuy(run, symbol, ask, quantity);
    const bid = await place("clientA", 0, ask, quantity);
    const fills = bid.fills.map((f) => `${count(f.quantity)} @ ${cny(f.price)}`);
    say(
      `  client A buys ${count(bid.filledQuantity)} ${symbol}: order ${bid.orderId}, fills ${fills.join(", ")}`,
      `  客户 A 买入 ${count(bid.filledQuantity)} ${symbol}：订单 ${bid.orderId}，成交 ${fills.join("，")}`,
    );
  }
  const settled = await until("the settlement batcher to settle client A's trades on-chain", async () => {
    const a = await run.d.account("clientA");
    return a.positions.length === PORTFOLIO.length ? a : undefined;
  });
  for (const p of settled.positions) {
    say(
      `  settled: ${count(p.quantity)} ${p.token.symbol} at ${price(p.price)} = ${cny(p.value)} (tier ${p.liquidityTier}, maintenance ${pct(p.maintenanceMargin)})`,
      `  已结算：${count(p.quantity)} ${p.token.symbol}，价格 ${price(p.price)}，金额 ${cny(p.value)}（流动性等级 ${p.liquidityTier}，维持保证金 ${pct(p.maintenanceMargin)}）`,
    );
  }
  run.describe(settled);
  const L = Number(LEVERAGE);
  const threshold = `${(((0.15 * L - 1) / (L * (1 - 0.15))) * 100).toFixed(2)}%`;
  say(
    `  DESIGN.md's threshold r < (m·L − 1) / (L·(1 − m)) with L = ${L}, m = 15%: ` +
      `${threshold} (the engine's figure above uses the live, volatility-adjusted margins and the cash left)`,
    `  DESIGN.md 的阈值 r < (m·L − 1) / (L·(1 − m))，L = ${L}，m = 15%：` +
      `${threshold}（上面的引擎数值使用实时的、随波动率调整的保证金率以及剩余现金）`,
  );
  await armAtrStop(run);
}

/** Before client A signs, the simulator (POST /v1/simulate) shows what the buy does to its account. */
async function simulateBuy(run: DemoRun, symbol: string, limitPrice: bigint, quantity: bigint): Promise<void> {
  const sim = ok(
    await run.d.user("clientA").post<{
      before: { marginRatio: string | null };
      after: {
        marginRatio: string | null;
        liquidationPrice: string | null;
        positions: { symbol: string; liquidationPrice: string | null }[];
      };
      feasible: boolean;
    }>("/v1/simulate", {
      action: {
        kind: "order",
        side: "buy",
        instrument: symbol,
        quantity: quantity.toString(),
        limitPrice: limitPrice.toString(),
      },
    }),
    `POST /v1/simulate (clientA buy ${symbol})`,
  );
  const line = sim.after.positions.find((p) => p.symbol === symbol);
  const liquidation = line?.liquidationPrice ?? sim.after.liquidationPrice;
  say(
    `  simulator, before client A signs: margin ratio ${pct(sim.before.marginRatio)} → ${pct(sim.after.marginRatio)}, ` +
      `${symbol} liquidation price after the buy ${price(liquidation)}${sim.feasible ? "" : " (the engine would refuse it)"}`,
    `  下单前的模拟（客户 A 签名之前）：保证金比例 ${pct(sim.before.marginRatio)} → ${pct(sim.after.marginRatio)}，` +
      `买入后 ${symbol} 的强平价格 ${price(liquidation)}${sim.feasible ? "" : "（引擎会拒绝）"}`,
  );
}
