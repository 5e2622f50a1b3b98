import { formatUnits } from "ethers";
import { PRICE_STATUSES, type AccountSummary } from "../../../offchain/portfolio";
import { settlementDomain, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import { MarginEngine__factory, OracleRouter__factory, TrancheVault__factory } from "../../../typechain-types";
import { DemoError, cny, count, ok, pct, price, until } from "../../lib/demoPlatform";
import { TICK, PORTFOLIO } from "../plan";
import { STATE_ZH, say, heading } from "../narration";
import type { DemoRun } from "../run";
import { reportHedge } from "./hedge";
import { reportAtrStop } from "./protective";

/** Moves the market down until client A's account reaches `target`, re-reading the engine's lines each time. */
export async function fallTo(run: DemoRun, n: number, target: "Warning" | "MarginCall"): Promise<void> {
  if (target === "Warning") heading(n, "Prices fall: the account reaches Warning", "价格下跌：账户进入预警（Warning）");
  else {
    heading(n, "Prices fall further: margin call", "价格继续下跌：追加保证金（margin call）");
    await reportAtrStop(run);
  }
  const reached = (a: AccountSummary): boolean =>
    target === "Warning" ? a.state !== "Healthy" : a.state === "MarginCall" || a.state === "Liquidatable";
  let a = await run.d.account("clientA");
  const before = a;
  for (let i = 0; i < 16 && !reached(a); i++) {
    // Equity scales with the collateral's value; so do the lines. Aim between the two lines that bound `target`.
    const [upper, lower] =
      target === "Warning"
        ? [BigInt(a.warningLine), BigInt(a.maintenanceReq)]
        : [BigInt(a.maintenanceReq), BigInt(a.hardLine)];
    // Three quarters of the way down from the upper line: the fall itself raises the lines a little (the
    // router's volatility grows with every round), so aiming low would overshoot into the next state.
    const aim = lower + ((upper - lower) * 3n) / 4n;
    const fixed = BigInt(a.debt) - BigInt(a.cash);
    const scaling = BigInt(a.equity) + fixed;
    const factorBps = (fixed * 10_000n) / (scaling - aim);
    // At most 4% a time, then the lines are read again: the router's volatility is time-weighted (a return over
    // a few seconds counts as a day's worth of them), so the first rounds of a fall on the dev chain lift the
    // dynamic maintenance margin towards its cap, and lines read before the fall would aim far too deep.
    const moveBps = Math.min(Math.max(Number(factorBps - 10_000n), -400), -50);
    await run.moveMarket(a, moveBps, 200);
    a = await until(`the account to pass ${target}`, async () => {
      const now = await run.d.account("clientA");
      return reached(now) || (await run.marketSettled()) ? now : undefined;
    });
  }
  if (!reached(a)) throw new DemoError(`the account did not reach ${target}: ${a.state}`);
  run.describe(a);
  // The dynamic margin at work: the router's volatility rose with the fall, so maintenance rose and the leverage
  // the engine allows (1 / initial margin) fell, asset by asset.
  const leverage = (im: string): string => {
    const hundredths = 10n ** 20n / BigInt(im);
    return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, "0")}×`;
  };
  for (const p of a.positions) {
    const was = before.positions.find((x) => x.token.symbol === p.token.symbol);
    if (!was) continue;
    const [mm0, mm1] = [pct(was.maintenanceMargin), pct(p.maintenanceMargin)];
    const [lev0, lev1] = [leverage(was.initialMargin), leverage(p.initialMargin)];
    say(
      `  ${p.token.symbol}: maintenance ${mm0} → ${mm1}, max leverage ${lev0} → ${lev1} (volatility-linked margin)`,
      `  ${p.token.symbol}：维持保证金 ${mm0} → ${mm1}，最高杠杆 ${lev0} → ${lev1}（随波动率调整的保证金）`,
    );
  }
  const kind = target === "Warning" ? "warning" : "margin_call";
  const notice = await until(`the keeper's ${kind} notice`, async () =>
    (await run.notices()).find((x) => x.kind === kind),
  );
  const deadline = notice.deadline ? new Date(notice.deadline * 1000).toISOString() : null;
  const cure = notice.amountToCure ? cny(notice.amountToCure) : null;
  say(
    `  keeper notice: ${notice.kind}` +
      (deadline ? `, deadline ${deadline} (chain time)` : "") +
      (cure ? `, amount to cure ${cure} mbCNY` : ""),
    `  清算机器人通知：${notice.kind}` +
      (deadline ? `，截止时间 ${deadline}（链上时间）` : "") +
      (cure ? `，需补足 ${cure} mbCNY` : ""),
  );
  if (target === "MarginCall") {
    run.state.facts.callDeadline = String(notice.deadline);
    run.state.facts.callBlock = String(notice.blockNumber);
    // New risk is blocked: a buy order is refused by pre-trade risk.
    const symbol = PORTFOLIO[0].symbol;
    const order: SignedOrderFields = {
      account: run.address("clientA"),
      instrument: run.contract(symbol),
      side: 0,
      expiry: BigInt((await run.d.chainTime()) + 3_600),
      limitPrice: (BigInt(a.positions.find((p) => p.token.symbol === symbol)!.price!) / 10n ** 12n / TICK) * TICK,
      quantity: 100n,
      nonce: BigInt(run.state.facts.nonce ?? "1"),
    };
    run.state.facts.nonce = (order.nonce + 1n).toString();
    const signature = await signOrder(
      run.wallet("clientA"),
      settlementDomain(run.cfg.chainId!, run.contract("SettlementHub")),
      order,
    );
    const res = await run.d
      .user("clientA")
      .post<{ error: { code: string; message: string; details: { reject?: string } } }>("/v1/orders", {
        order: Object.fromEntries(Object.entries(order).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
        signature,
      });
    const answer = `${res.status} ${res.body.error?.code} ${res.body.error?.details?.reject ?? ""}`;
    say(
      `  client A tries to buy 100 more ${symbol}: ${answer} — ${res.body.error?.message ?? "accepted"}`,
      `  客户 A 试图再买入 100 ${symbol}：${answer} — ${res.body.error ? "被事前风控拒绝" : "已接受"}`,
    );
  }
}

/** The grace window passes uncured: the keeper liquidates in segments, least liquid first, back to the target. */
export async function liquidation(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "The grace window passes uncured: the keeper liquidates, least liquid first",
    "宽限期届满仍未补足：清算机器人强制平仓，流动性最差的资产优先",
  );
  const before = await run.d.account("clientA");
  const deadline = Number(run.state.facts.callDeadline);
  // The dev chain's clock moves in two hops, so the oracle reporters post fresh rounds in between (prices are
  // Stale after an hour without one, and nothing is liquidated on a stale price).
  const half = Math.max(0, Math.floor((deadline - (await run.d.chainTime())) / 2));
  if (half > 0) {
    await run.d.advanceTime(half);
    const hopAt = await run.d.chainTime();
    await run.freshRounds(before);
    // A call no evaluation sees below maintenance for a whole grace period lapses (the chain cannot know the
    // account did not recover meanwhile): the keeper re-evaluates an account in a call once a quarter of the
    // grace period has passed since the last evaluation.
    const engine = MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider);
    await until(
      "the keeper to see the margin call again",
      async () => (Number((await engine.recordedState(run.address("clientA")))[2]) >= hopAt ? true : undefined),
      180_000,
    );
    say(
      "  the keeper re-evaluated the account: still below maintenance, the same call goes on",
      "  清算机器人重新评估了账户：仍低于维持保证金，同一追加保证金通知继续有效",
    );
  }
  const rest = deadline - (await run.d.chainTime()) + 30;
  if (rest > 0) await run.d.advanceTime(rest);
  const chainNow = new Date((await run.d.chainTime()) * 1000).toISOString();
  say(`  chain time is now ${chainNow}, past the deadline`, `  链上时间现为 ${chainNow}，已过截止时间`);
  // The liquidation answering this margin call (the keeper may have sent it already, before a restart).
  const callBlock = Number(run.state.facts.callBlock);
  // The engine also waits until prices have been Safe for its oracle grace period (5 minutes on the dev chain).
  await until(
    "the keeper's liquidation",
    async () =>
      (await run.notices()).some((x) => x.kind === "liquidated" && (x.blockNumber ?? 0) > callBlock) ? true : undefined,
    420_000,
  );
  const after = await until("the account to leave the liquidatable states", async () => {
    const a = await run.d.account("clientA");
    return a.state !== "Liquidatable" && a.state !== "MarginCall" ? a : undefined;
  });
  for (const p of before.positions) {
    const q = after.positions.find((x) => x.token.symbol === p.token.symbol)?.quantity ?? "0";
    say(
      `  ${p.token.symbol} (tier ${p.liquidityTier}): ${count(p.quantity)} → ${count(q)}`,
      `  ${p.token.symbol}（流动性等级 ${p.liquidityTier}）：${count(p.quantity)} → ${count(q)}`,
    );
  }
  say(`  debt ${cny(before.debt)} → ${cny(after.debt)}`, `  负债 ${cny(before.debt)} → ${cny(after.debt)}`);
  run.describe(after);
  const p = await run.d.pool();
  const owed = await MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider).insuranceOwed();
  say(
    `  insurance fund ${cny(p.insuranceFund.balance)} mbCNY, plus ${cny(owed)} of penalty shares the engine holds ` +
      `for it until swept (MarginEngine.insuranceOwed)`,
    `  保险基金 ${cny(p.insuranceFund.balance)} mbCNY，另有引擎代为保管、待划转的罚金份额 ${cny(owed)}` +
      `（MarginEngine.insuranceOwed）`,
  );
}

/**
 * An overnight gap: a fall beyond the router's 20% limit in one round trips the circuit breaker; the risk officer
 * checks it and resets the breaker; the keeper liquidates everything; the loss beyond the collateral is paid by
 * the insurance fund and written off against the pool.
 */
export async function gap(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "The market gaps down overnight: breaker, default, insurance fund and pool",
    "市场隔夜跳空下跌：熔断、违约、保险基金与资金池",
  );
  const a = await run.d.account("clientA");
  const poolBefore = await run.d.pool();
  const junior = TrancheVault__factory.connect(run.contract("JuniorTranche"), run.d.provider);
  const juniorPrice = async (): Promise<bigint> => junior.convertToAssets(10n ** BigInt(await junior.decimals()));
  const juniorBefore = await juniorPrice();
  const fixed = BigInt(a.debt) - BigInt(a.cash);
  // A fall to 85% of the level at which the collateral only just covers the debt (and at least 25%).
  const factorBps = (fixed * 8_500n) / BigInt(a.collateralValue);
  const moveBps = Math.min(-2_500, Number(factorBps - 10_000n));
  // The reporters post each security's round on its own: between the two, one price is already broken and the other
  // still the evening's. The risk officer holds automatic liquidation of the account until the move is confirmed,
  // so that nothing is sold on half-updated prices (a keeper override, this keeper only; the chain still allows
  // anyone to liquidate).
  const officer = run.d.staff("risk_officer");
  const holder = run.address("clientA");
  ok(
    await officer.post("/v1/keeper/overrides", {
      scope: "account",
      target: holder,
      reason: "overnight gap: hold until the move is confirmed and the breakers are re-armed",
    }),
    "POST /v1/keeper/overrides",
  );
  say(
    "  the risk officer holds automatic liquidation of client A until the overnight move is confirmed (keeper override)",
    "  风控官暂停对客户 A 的自动强平，直至确认隔夜价格变动（清算机器人人工干预）",
  );
  await run.moveMarket(a, moveBps, Math.abs(moveBps));
  const broken = await until("the oracle to flag the gap", async () => {
    const now = await run.d.account("clientA");
    return now.positions.every((p) => p.priceStatus === "CircuitBroken") ? now : undefined;
  });
  const statuses = broken.positions.map((p) => `${p.token.symbol} ${p.priceStatus}`);
  say(
    `  price status: ${statuses.join(", ")}: no liquidation on these prices`,
    `  价格状态：${statuses.join("，")}：不按这些价格强平`,
  );
  const riskOfficer = await run.d.devAccount(3);
  const router = OracleRouter__factory.connect(run.contract("OracleRouter"), riskOfficer);
  for (const p of broken.positions) {
    await (await router.poke(p.token.address)).wait(); // records the trip if nobody has yet
    await (await router.resetCircuitBreaker(p.token.address)).wait();
    const [px, status] = await router.getPrice(p.token.address);
    const now = `${price(px)}, ${PRICE_STATUSES[Number(status)]}`;
    say(
      `  risk officer confirms the ${p.token.symbol} move and resets its breaker: ${now}`,
      `  风控官确认 ${p.token.symbol} 的价格变动并重置其熔断器：${now}`,
    );
  }
  const grace = Number(
    (await MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider).params()).oracleGrace,
  );
  await run.d.advanceTime(grace + 10);
  say(
    `  the engine waits ${grace} s of Safe prices after a breaker before liquidating (dev chain time moved on)`,
    `  熔断后，引擎需等待价格连续 ${grace} 秒处于 Safe 状态才会强平（开发链时间已推进）`,
  );
  ok(
    await officer.request("DELETE", `/v1/keeper/overrides/account/${holder}`),
    "DELETE /v1/keeper/overrides/:scope/:target",
  );
  say(
    "  the move confirmed, the risk officer releases the hold: the keeper goes on",
    "  价格变动已确认，风控官解除暂停：清算机器人继续执行",
  );
  const defaulted = await until(
    "the keeper to close the account out",
    async () => {
      const p = await run.d.pool();
      const mine = p.badDebtEvents.filter((e) => e.account?.toLowerCase() === run.address("clientA").toLowerCase());
      return mine.length > 0 ? p : undefined;
    },
    180_000,
  );
  const after = await run.d.account("clientA");
  say(
    `  client A after the close-out: positions ${after.positions.length}, cash ${cny(after.cash)}, debt ${cny(after.debt)}, state ${after.state}`,
    `  平仓后的客户 A：持仓 ${after.positions.length} 项，现金 ${cny(after.cash)}，负债 ${cny(after.debt)}，` +
      `状态 ${after.state}（${STATE_ZH[after.state] ?? after.state}）`,
  );
  for (const e of defaulted.badDebtEvents.filter((x) => x.block > poolBefore.block)) {
    const where = `${e.block}, tx ${e.txHash.slice(0, 12)}…`;
    say(
      `  ${e.kind.padEnd(20)} ${cny(e.amount)} mbCNY (block ${where})`,
      `  ${e.kind.padEnd(20)} ${cny(e.amount)} mbCNY（区块 ${where}）`,
    );
  }
  const fund = `${cny(poolBefore.insuranceFund.balance)} → ${cny(defaulted.insuranceFund.balance)}`;
  const assets = `${cny(poolBefore.pool.totalAssets)} → ${cny(defaulted.pool.totalAssets)}`;
  const senior = `${formatUnits(poolBefore.pool.sharePrice, 6)} → ${formatUnits(defaulted.pool.sharePrice, 6)}`;
  const juniorMove = `${formatUnits(juniorBefore, 6)} → ${formatUnits(await juniorPrice(), 6)}`;
  const [writtenOff, deficit] = [cny(defaulted.pool.totalWrittenOff), cny(defaulted.pool.deficit)];
  say(
    `  insurance fund ${fund}; pool total assets ${assets}; senior share price ${senior}, ` +
      `junior (first-loss) ${juniorMove} mbCNY per share; written off in total ${writtenOff}; open deficit ${deficit}`,
    `  保险基金 ${fund}；资金池总资产 ${assets}；优先级份额价格 ${senior}，` +
      `劣后级（首损）每份额 ${juniorMove} mbCNY；累计核销 ${writtenOff}；未弥补缺口 ${deficit}`,
  );
  // issue 26: the same gap, hedged — client C's protective puts keep it above its line
  await reportHedge(run, "after");
}
