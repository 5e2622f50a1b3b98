import { formatUnits } from "ethers";
import { PRICE_STATUSES, type AccountSummary } from "../../../offchain/portfolio";
import { settlementDomain, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import { MarginEngine__factory, OracleRouter__factory, TrancheVault__factory } from "../../../typechain-types";
import { DemoError, cny, count, pct, price, until } from "../../lib/demoPlatform";
import { TICK, PORTFOLIO } from "../plan";
import { say, heading } from "../narration";
import type { DemoRun } from "../run";

/** Moves the market down until client A's account reaches `target`, re-reading the engine's lines each time. */
export async function fallTo(run: DemoRun, n: number, target: "Warning" | "MarginCall"): Promise<void> {
  heading(n, target === "Warning" ? "Prices fall: the account reaches Warning" : "Prices fall further: margin call");
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
    say(
      `  ${p.token.symbol}: maintenance ${pct(was.maintenanceMargin)} → ${pct(p.maintenanceMargin)}, ` +
        `max leverage ${leverage(was.initialMargin)} → ${leverage(p.initialMargin)} (volatility-linked margin)`,
    );
  }
  const kind = target === "Warning" ? "warning" : "margin_call";
  const notice = await until(`the keeper's ${kind} notice`, async () =>
    (await run.notices()).find((x) => x.kind === kind),
  );
  say(
    `  keeper notice: ${notice.kind}` +
      (notice.deadline ? `, deadline ${new Date(notice.deadline * 1000).toISOString()} (chain time)` : "") +
      (notice.amountToCure ? `, amount to cure ${cny(notice.amountToCure)} mbCNY` : ""),
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
    say(
      `  client A tries to buy 100 more ${symbol}: ${res.status} ${res.body.error?.code} ${res.body.error?.details?.reject ?? ""} — ${res.body.error?.message ?? "accepted"}`,
    );
  }
}

/** The grace window passes uncured: the keeper liquidates in segments, least liquid first, back to the target. */
export async function liquidation(run: DemoRun, n: number): Promise<void> {
  heading(n, "The grace window passes uncured: the keeper liquidates, least liquid first");
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
    say("  the keeper re-evaluated the account: still below maintenance, the same call goes on");
  }
  const rest = deadline - (await run.d.chainTime()) + 30;
  if (rest > 0) await run.d.advanceTime(rest);
  say(`  chain time is now ${new Date((await run.d.chainTime()) * 1000).toISOString()}, past the deadline`);
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
    say(`  ${p.token.symbol} (tier ${p.liquidityTier}): ${count(p.quantity)} → ${count(q)}`);
  }
  say(`  debt ${cny(before.debt)} → ${cny(after.debt)}`);
  run.describe(after);
  const p = await run.d.pool();
  const owed = await MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider).insuranceOwed();
  say(
    `  insurance fund ${cny(p.insuranceFund.balance)} mbCNY, plus ${cny(owed)} of penalty shares the engine holds ` +
      `for it until swept (MarginEngine.insuranceOwed)`,
  );
}

/**
 * An overnight gap: a fall beyond the router's 20% limit in one round trips the circuit breaker; the risk officer
 * checks it and resets the breaker; the keeper liquidates everything; the loss beyond the collateral is paid by
 * the insurance fund and written off against the pool.
 */
export async function gap(run: DemoRun, n: number): Promise<void> {
  heading(n, "The market gaps down overnight: breaker, default, insurance fund and pool");
  const a = await run.d.account("clientA");
  const poolBefore = await run.d.pool();
  const junior = TrancheVault__factory.connect(run.contract("JuniorTranche"), run.d.provider);
  const juniorPrice = async (): Promise<bigint> => junior.convertToAssets(10n ** BigInt(await junior.decimals()));
  const juniorBefore = await juniorPrice();
  const fixed = BigInt(a.debt) - BigInt(a.cash);
  // A fall to 85% of the level at which the collateral only just covers the debt (and at least 25%).
  const factorBps = (fixed * 8_500n) / BigInt(a.collateralValue);
  const moveBps = Math.min(-2_500, Number(factorBps - 10_000n));
  await run.moveMarket(a, moveBps, Math.abs(moveBps));
  const broken = await until("the oracle to flag the gap", async () => {
    const now = await run.d.account("clientA");
    return now.positions.every((p) => p.priceStatus === "CircuitBroken") ? now : undefined;
  });
  say(
    `  price status: ${broken.positions.map((p) => `${p.token.symbol} ${p.priceStatus}`).join(", ")}: no liquidation on these prices`,
  );
  const riskOfficer = await run.d.devAccount(3);
  const router = OracleRouter__factory.connect(run.contract("OracleRouter"), riskOfficer);
  for (const p of broken.positions) {
    await (await router.poke(p.token.address)).wait(); // records the trip if nobody has yet
    await (await router.resetCircuitBreaker(p.token.address)).wait();
    const [px, status] = await router.getPrice(p.token.address);
    say(
      `  risk officer confirms the ${p.token.symbol} move and resets its breaker: ${price(px)}, ${PRICE_STATUSES[Number(status)]}`,
    );
  }
  const grace = Number(
    (await MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider).params()).oracleGrace,
  );
  await run.d.advanceTime(grace + 10);
  say(`  the engine waits ${grace} s of Safe prices after a breaker before liquidating (dev chain time moved on)`);
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
  );
  for (const e of defaulted.badDebtEvents.filter((x) => x.block > poolBefore.block)) {
    say(`  ${e.kind.padEnd(20)} ${cny(e.amount)} mbCNY (block ${e.block}, tx ${e.txHash.slice(0, 12)}…)`);
  }
  say(
    `  insurance fund ${cny(poolBefore.insuranceFund.balance)} → ${cny(defaulted.insuranceFund.balance)}; ` +
      `pool total assets ${cny(poolBefore.pool.totalAssets)} → ${cny(defaulted.pool.totalAssets)}; ` +
      `senior share price ${formatUnits(poolBefore.pool.sharePrice, 6)} → ${formatUnits(defaulted.pool.sharePrice, 6)}, ` +
      `junior (first-loss) ${formatUnits(juniorBefore, 6)} → ${formatUnits(await juniorPrice(), 6)} mbCNY per share; ` +
      `written off in total ${cny(defaulted.pool.totalWrittenOff)}; open deficit ${cny(defaulted.pool.deficit)}`,
  );
}
