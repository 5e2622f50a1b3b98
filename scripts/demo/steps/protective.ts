import { settlementDomain, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import { DemoError, cny, count, ok, until } from "../../lib/demoPlatform";
import { TICK, type User } from "../plan";
import { say } from "../narration";
import type { DemoRun } from "../run";

/** What GET /v1/orders shows of a protective order (the fields the narration reads). */
interface Protective {
  orderId: number;
  status: "armed" | "fired" | "cancelled";
  stopPrice: string;
  highest?: string;
  belowHighPercent?: string;
  atr?: string;
  firedQuantity?: string;
  cutFrom?: string;
  cancelReason?: string;
}

interface Orders {
  protective: Protective[];
  fills: { orderId: number; price: string; quantity: string }[];
}

const SYMBOL = "mbBANK";
/** k = 3: the source material's ATR trailing stop (highest − 3 × ATR). */
const K_BPS = 30_000;
/** The development platform's ATR bars (scripts/start.ts): 10 s, 3 bars. Production: one day, 14 bars. */
const BAR_MS = 10_000;

const onGrid = (units: bigint): bigint => (units / TICK) * TICK;

async function signedBody(run: DemoRun, user: User, side: 0 | 1, limit: bigint, quantity: bigint) {
  const nonce = BigInt(run.state.facts.nonce ?? "1");
  run.state.facts.nonce = (nonce + 1n).toString();
  run.d.saveState();
  const order: SignedOrderFields = {
    account: run.address(user),
    instrument: run.contract(SYMBOL),
    side,
    // a year ahead of both clocks: the demo later moves the chain's time forward by days
    expiry: BigInt(Math.max(await run.d.chainTime(), Math.floor(Date.now() / 1000)) + 365 * 86_400),
    limitPrice: limit,
    quantity,
    nonce,
  };
  const signature = await signOrder(
    run.wallet(user),
    settlementDomain(run.cfg.chainId!, run.contract("SettlementHub")),
    order,
  );
  return {
    order: Object.fromEntries(Object.entries(order).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
    signature,
  };
}

/**
 * At entry, client A guards a slice of its mbBANK with an ATR trailing stop (k = 3), signing now the child order a
 * fired stop becomes (a sell at no less than 95% of the entry); the market maker bids 99% of the entry for that slice.
 * A sale by an indebted account below what the units count for in its equity (oracle × (1 − haircut); mbBANK's
 * haircut is 0) must leave it at initial margin (MarginEngine.settleTrade), which an account in Warning does not: the
 * bid sits above where a 3 × ATR stop fires, so the fill keeps A's equity and settles. The ATR needs three completed bars of oracle rounds: while it has fewer, the risk officer nudges the
 * development market by ±0.6% a bar (the reporters post a round for a move of 0.5% or more).
 */
export async function armAtrStop(run: DemoRun): Promise<void> {
  const a = await run.d.account("clientA");
  const held = a.positions.find((p) => p.token.symbol === SYMBOL);
  if (!held?.price) throw new DemoError(`client A holds no priced ${SYMBOL}`);
  const entry = onGrid(BigInt(held.price) / 10n ** 12n);
  const quantity = BigInt(held.quantity) / 20n;
  const child = await signedBody(run, "clientA", 1, onGrid((entry * 95n) / 100n), quantity);
  const bid = await signedBody(run, "marketMaker", 0, onGrid((entry * 99n) / 100n), quantity);
  ok(await run.d.user("marketMaker").post("/v1/orders", bid), `POST /v1/orders (marketMaker bid ${SYMBOL})`);
  const body = { type: "atrTrailing", ...child, trigger: { atrMultipleBps: K_BPS } };
  let placed: Protective | undefined;
  for (let nudge = 0; nudge < 8 && placed === undefined; nudge++) {
    const res = await run.d
      .user("clientA")
      .post<Protective & { error?: { details?: { reject?: string } } }>("/v1/orders", body);
    if (res.status === 201) placed = res.body;
    else if (res.body.error?.details?.reject !== "ORACLE_UNAVAILABLE") ok(res, "POST /v1/orders (ATR trailing stop)");
    else {
      ok(
        await run.d
          .staff("risk_officer")
          .post("/v1/dev/market/shocks", { symbol: SYMBOL, moveBps: nudge % 2 === 0 ? 60 : -60, maxStepBps: 100 }),
        "POST /v1/dev/market/shocks",
      );
      await until("the nudge to reach the oracle", async () => ((await run.marketSettled()) ? true : undefined));
      await new Promise((r) => setTimeout(r, BAR_MS));
    }
  }
  if (placed === undefined) throw new DemoError("the ATR never had its three bars");
  run.state.facts.atrStop = String(placed.orderId);
  run.d.saveState();
  say(
    `  client A guards ${count(quantity)} ${SYMBOL} with an ATR trailing stop at entry (order ${placed.orderId}): ` +
      `stop ${cny(placed.stopPrice)} = highest ${cny(placed.highest ?? "0")} − 3 × ATR ${cny(placed.atr ?? "0")}, ` +
      `${placed.belowHighPercent}% below the high (ATR over 10-second bars on this development platform; one day in production)`,
    `  客户 A 在建仓时为 ${count(quantity)} ${SYMBOL} 设置 ATR 跟踪止损（订单 ${placed.orderId}）：` +
      `止损价 ${cny(placed.stopPrice)} = 最高价 ${cny(placed.highest ?? "0")} − 3 × ATR ${cny(placed.atr ?? "0")}，` +
      `低于最高价 ${placed.belowHighPercent}%（本开发平台 ATR 按 10 秒 K 线计算；生产环境按交易日）`,
  );
  say(
    `  its child order (sell ${count(quantity)} at no less than ${cny(child.order.limitPrice)}) is signed now; the market maker bids ${cny(bid.order.limitPrice)}`,
    `  其子订单（卖出 ${count(quantity)}，最低 ${cny(child.order.limitPrice)}）此刻已签名；做市商挂出买价 ${cny(bid.order.limitPrice)}`,
  );
}

/** What client A's ATR trailing stop did while the market fell (told before the margin call). */
export async function reportAtrStop(run: DemoRun): Promise<void> {
  const id = Number(run.state.facts.atrStop ?? "0");
  if (id === 0) return;
  const orders = ok(await run.d.user("clientA").get<Orders>("/v1/orders"), "GET /v1/orders");
  const stop = orders.protective.find((p) => p.orderId === id);
  if (stop === undefined) return;
  if (stop.status !== "fired") {
    say(
      `  client A's ATR trailing stop ${id}: ${stop.status}, stop ${cny(stop.stopPrice)}`,
      `  客户 A 的 ATR 跟踪止损 ${id}：${stop.status === "armed" ? "仍在等待触发" : "已撤销"}，止损价 ${cny(stop.stopPrice)}`,
    );
    return;
  }
  const sold = orders.fills.filter((f) => f.orderId === id).map((f) => `${count(f.quantity)} @ ${cny(f.price)}`);
  say(
    `  before the margin call, client A's ATR trailing stop ${id} fired at ${cny(stop.stopPrice)}: ` +
      `its signed child sold ${sold.length > 0 ? sold.join(", ") : "nothing (no bid within its worst price)"}` +
      (stop.cutFrom ? ` (cut from ${count(stop.cutFrom)} to the position held)` : ""),
    `  在追加保证金之前，客户 A 的 ATR 跟踪止损 ${id} 已在 ${cny(stop.stopPrice)} 触发：` +
      `其签名子订单卖出 ${sold.length > 0 ? sold.join("，") : "0（最差价格内无买单）"}` +
      (stop.cutFrom ? `（按持仓由 ${count(stop.cutFrom)} 缩减）` : ""),
  );
}
