import {
  MarginEngine__factory,
  OptionMarket__factory,
  OracleRouter__factory,
  PortfolioRisk__factory,
} from "../../../typechain-types";
import type { SeriesList } from "../../../offchain/options";
import { DemoError, cny, count, ok, until } from "../../lib/demoPlatform";
import { TICK } from "../plan";
import { say, heading, STATE_ZH } from "../narration";
import { placeOrder as order } from "../orders";
import type { DemoRun } from "../run";
import { financeClient } from "./agreementEnd";

const SHARES = "mbBANK";
const PUT = "mbBANK-P9";

interface PortfolioMarginView {
  portfolioMargined: boolean;
  maintenanceReq: string;
  groups: { symbol: string; units: string; portfolioRequirement: string; ruleBasedMaintenance: string }[];
}

const ceilTick = (p: bigint): bigint => ((p + TICK - 1n) / TICK) * TICK;

function seriesAddress(run: DemoRun, symbol: string): string {
  const t = run.cfg.tokens.find((x) => x.symbol === symbol);
  if (!t) throw new DemoError(`the deployment lists no ${symbol} (npm start lists the development series)`);
  return t.address;
}

/**
 * Issue 26's scenario, before the gap: client C finances 2× (a second agreement, like client B's), buys mbBANK from
 * the market maker through the order book, and buys protective puts struck at 9 on all of it — the market maker
 * writes them first (OptionMarket.write locks 900 mbCNY a contract in the engine), then sells them through the same
 * order book. The series is priced on-chain (Black-Scholes on mbBANK's round at the reported implied volatility) and
 * counts in C's margin account like any position. Then C opts into portfolio margin (PortfolioRisk.setPortfolioMargin,
 * its own transaction): the engine margins the shares and the puts together by the scenario grid.
 */
export async function hedge(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "A hedged client: client C buys mbBANK on 2× and protective puts before the gap",
    "对冲客户：客户 C 以 2 倍杠杆买入 mbBANK，并在跳空前买入保护性认沽期权",
  );
  await financeClient(run, "clientC");
  const engine = MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider);
  const router = OracleRouter__factory.connect(run.contract("OracleRouter"), run.d.provider);
  const bank = run.contract(SHARES);
  const put = seriesAddress(run, PUT);
  const c = run.address("clientC");
  if ((await engine.balanceOf(c, bank)) === 0n && !run.state.facts.clientCBought) {
    const [oracle] = await router.getPrice(bank);
    const ask = ceilTick((oracle * 1_002n) / 1_000n / 10n ** 12n);
    const makerHeld = await engine.balanceOf(run.address("marketMaker"), bank);
    // 90% of C's cash on shares (in whole contracts of 100), the rest for the puts' premium
    const budget = ((await engine.balanceOf(c, run.contract("mbCNY"))) * 90n) / 100n;
    const wanted = ((budget / ask < makerHeld ? budget / ask : makerHeld) / 100n) * 100n;
    await order(run, "marketMaker", 1, bank, ask, wanted);
    const bid = await order(run, "clientC", 0, bank, ask, wanted);
    say(
      `  client C buys ${count(bid.filledQuantity)} ${SHARES} at ${cny(ask)} from the market maker (2×)`,
      `  客户 C 以 ${cny(ask)} 向做市商买入 ${count(bid.filledQuantity)} ${SHARES}（2 倍杠杆）`,
    );
    await until("the batcher to settle client C's purchase", async () =>
      (await engine.balanceOf(c, bank)) > 0n ? true : undefined,
    );
    run.state.facts.clientCBought = "true";
    run.d.saveState();
  }
  const shares = await engine.balanceOf(c, bank);
  const contracts = shares / 100n;
  if ((await engine.balanceOf(c, put)) < contracts) {
    const maker = run.wallet("marketMaker");
    const market = OptionMarket__factory.connect(run.contract("OptionMarket"), maker);
    const written = await market.written(put, maker.address);
    if (written < contracts) await (await market.write(put, contracts - written)).wait();
    const [model] = await router.getPrice(put);
    const ask = ceilTick((model * 105n) / 100n / 10n ** 12n); // the model price + 5%
    say(
      `  the market maker writes ${count(contracts)} ${PUT} (put, strike 9.00, 100 shares a contract): ` +
        `${cny(900_000_000n * contracts)} mbCNY locked in the engine (OptionMarket.write)`,
      `  做市商卖出开仓 ${count(contracts)} 张 ${PUT}（认沽，行权价 9.00，每张 100 股）：` +
        `${cny(900_000_000n * contracts)} mbCNY 锁定于保证金引擎（OptionMarket.write）`,
    );
    await order(run, "marketMaker", 1, put, ask, contracts, PUT);
    const bid = await order(run, "clientC", 0, put, ask, contracts, PUT);
    say(
      `  client C buys ${count(bid.filledQuantity)} ${PUT} at ${cny(ask)} a contract through the order book ` +
        `(the model price ${cny(model / 10n ** 12n)} + 5%)`,
      `  客户 C 通过订单簿以每张 ${cny(ask)} 买入 ${count(bid.filledQuantity)} 张 ${PUT}（模型价 ${cny(model / 10n ** 12n)} + 5%）`,
    );
    await until("the batcher to settle client C's puts", async () =>
      (await engine.balanceOf(c, put)) >= contracts ? true : undefined,
    );
  }
  const risk = PortfolioRisk__factory.connect(run.contract("PortfolioRisk"), run.wallet("clientC"));
  if (!(await risk.portfolioMargined(c))) {
    const rule = await engine.accountView(c);
    await (await risk.setPortfolioMargin(true)).wait();
    const grid = await engine.accountView(c);
    say(
      `  client C opts into portfolio margin (PortfolioRisk.setPortfolioMargin): the engine now margins its shares ` +
        `and puts together by the scenario grid — maintenance ${cny(grid.maintenanceReq)} instead of the rule's ` +
        `${cny(rule.maintenanceReq)}`,
      `  客户 C 选择组合保证金（PortfolioRisk.setPortfolioMargin）：引擎按情景网格对其股票与认沽期权合并计算保证金——` +
        `维持保证金 ${cny(grid.maintenanceReq)}，原规则为 ${cny(rule.maintenanceReq)}`,
    );
  }
  const list = ok(await run.d.public.get<SeriesList>("/v1/options"), "GET /v1/options");
  for (const s of list.series) {
    const iv = s.impliedVolatility ? `${(Number(s.impliedVolatility) / 1e16).toFixed(2)}%` : "—";
    say(
      `  ${s.symbol.padEnd(11)} ${s.type} strike ${cny(BigInt(s.strike) / 10n ** 12n)} ${s.state}: ` +
        `${cny(BigInt(s.price) / 10n ** 12n)} a contract (${s.priceStatus}, implied volatility ${iv}), open interest ${s.openInterest}`,
      `  ${s.symbol.padEnd(11)} ${s.type === "put" ? "认沽" : "认购"} 行权价 ${cny(BigInt(s.strike) / 10n ** 12n)}：` +
        `每张 ${cny(BigInt(s.price) / 10n ** 12n)}（${s.priceStatus}，隐含波动率 ${iv}），未平仓 ${s.openInterest} 张`,
    );
  }
  await reportHedge(run, "before");
}

/** Client C's account and its portfolio-margin preview (before the gap, and after it beside client A's default). */
export async function reportHedge(run: DemoRun, when: "before" | "after"): Promise<void> {
  if (!run.state.facts.agreementIdC) return;
  const a = await run.d.account("clientC");
  const held = a.positions.map((p) => `${count(p.quantity)} ${p.token.symbol}`).join(", ");
  say(
    `  client C ${when} the gap: ${held}; equity ${cny(a.equity)} against maintenance ${cny(a.maintenanceReq)}, ` +
      `state ${a.state}`,
    `  客户 C 跳空${when === "before" ? "前" : "后"}：${held}；权益 ${cny(a.equity)}，维持保证金 ${cny(a.maintenanceReq)}，` +
      `状态 ${a.state}（${STATE_ZH[a.state] ?? a.state}）`,
  );
  const pm = ok(
    await run.d.user("clientC").get<PortfolioMarginView>(`/v1/options/portfolio-margin/${run.address("clientC")}`),
    "GET /v1/options/portfolio-margin/:account",
  );
  for (const g of pm.groups)
    say(
      `  the scenario grid (SPAN-like) asks ${cny(g.portfolioRequirement)} of C's ${g.symbol} and its puts together; ` +
        `the rule would ask ${cny(g.ruleBasedMaintenance)} of the same positions (each on its own); ` +
        (pm.portfolioMargined ? "C is portfolio-margined: the engine applies the grid" : "the engine applies the rule"),
      `  情景网格（类 SPAN）对客户 C 的 ${g.symbol} 及其认沽期权合并要求 ${cny(g.portfolioRequirement)}；` +
        `逐项规则对同样持仓要求 ${cny(g.ruleBasedMaintenance)}；` +
        (pm.portfolioMargined ? "客户 C 采用组合保证金：引擎按情景网格计算" : "引擎按逐项规则计算"),
    );
  if (when === "after" && (a.state === "Liquidatable" || a.state === "Defaulted"))
    throw new DemoError(`client C, hedged, is ${a.state} after the gap`);
}
