import { formatUnits, id } from "ethers";
import { CollateralToken__factory, MarginEngine__factory, TrancheVault__factory } from "../../../typechain-types";
import { supplyTranche } from "../../deploy/providers";
import { cny, count, pct } from "../../lib/demoPlatform";
import {
  CLIENT_B_OWN_FUNDS,
  CLIENT_C_OWN_FUNDS,
  OWN_FUNDS,
  LEVERAGE,
  POOL_SUPPLY,
  JUNIOR_SUPPLY,
  type User,
} from "../plan";
import { STATE_ZH, say, heading } from "../narration";
import type { DemoRun } from "../run";

/** The custodian tokenizes what each user delivered: cash for client A and the provider, shares for the maker. */
export async function custody(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "Custody: the custodian mints the tokens for what each user delivered",
    "托管：托管人按每位用户交付的资产铸造代币",
  );
  const custodian = await run.d.devAccount(2);
  const mints: [User, string, bigint][] = [
    ["clientA", "mbCNY", OWN_FUNDS],
    ["clientB", "mbCNY", CLIENT_B_OWN_FUNDS],
    ["clientC", "mbCNY", CLIENT_C_OWN_FUNDS],
    ["provider", "mbCNY", POOL_SUPPLY],
    ["marketMaker", "mbBANK", 30_000n],
    ["marketMaker", "mbSMALL", 40_000n],
  ];
  for (const [user, symbol, amount] of mints) {
    const token = CollateralToken__factory.connect(run.contract(symbol), custodian);
    const ref = id(`demo:${run.state.runId}:${user}:${symbol}`);
    if ((await token.balanceOf(run.address(user))) < amount)
      await (await token.mint(run.address(user), amount, ref)).wait();
    const held = await token.balanceOf(run.address(user));
    const amountHeld = symbol === "mbCNY" ? cny(held) : count(held);
    say(
      `  ${user.padEnd(12)} holds ${amountHeld} ${symbol} (custody ref ${ref.slice(0, 10)}…)`,
      `  ${user.padEnd(12)} 持有 ${amountHeld} ${symbol}（托管编号 ${ref.slice(0, 10)}…）`,
    );
  }
}

/**
 * The capital provider signs each class's agreement (EIP-712, anchored on the vault) and deposits from its own
 * wallet: 900,000 into the senior class and 100,000 into the junior (first-loss) class, without which nothing may
 * be lent (new borrowing needs junior assets of at least 10% of the debt).
 */
export async function supplyPool(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "Capital pool: the capital provider supplies 1,000,000 mbCNY (senior and junior ERC-4626 classes)",
    "资金池：资金方提供 1,000,000 mbCNY（优先级与劣后级两个 ERC-4626 份额类别）",
  );
  const w = run.wallet("provider");
  const cash = CollateralToken__factory.connect(run.contract("mbCNY"), w);
  const classes = [
    {
      name: "senior",
      vault: TrancheVault__factory.connect(run.contract("SeniorTranche"), w),
      amount: POOL_SUPPLY - JUNIOR_SUPPLY,
    },
    {
      name: "junior",
      vault: TrancheVault__factory.connect(run.contract("JuniorTranche"), w),
      amount: JUNIOR_SUPPLY,
    },
  ];
  for (const c of classes) {
    if ((await c.vault.balanceOf(w.address)) === 0n) await supplyTranche(c.vault, w, cash, c.amount);
    const shares = await c.vault.balanceOf(w.address);
    const [termsHash, version] = await c.vault.agreementTerms();
    const held = formatUnits(shares, await c.vault.decimals());
    const worth = cny(await c.vault.convertToAssets(shares));
    say(
      `  ${c.name}: agreement v${version} (${termsHash.slice(0, 10)}…) anchored; shares ${held} (worth ${worth} mbCNY)`,
      `  ${c.name === "senior" ? "优先级" : "劣后级"}：协议 v${version}（${termsHash.slice(0, 10)}…）已锚定；份额 ${held}（价值 ${worth} mbCNY）`,
    );
  }
  const p = await run.d.pool();
  say(
    `  pool: total assets ${cny(p.pool.totalAssets)}, utilisation ${pct(p.pool.utilisation)}, ` +
      `rate ${pct(p.pool.annualRate)} a year = ${pct(p.pool.ratePerDay, 6)} a day, ` +
      `insurance fund ${cny(p.insuranceFund.balance)}`,
    `  资金池：总资产 ${cny(p.pool.totalAssets)}，使用率 ${pct(p.pool.utilisation)}，` +
      `年利率 ${pct(p.pool.annualRate)} = 日利率 ${pct(p.pool.ratePerDay, 6)}，` +
      `保险基金 ${cny(p.insuranceFund.balance)}`,
  );
}

/** Client A deposits its 100,000 and borrows another 100,000 from the pool: 2× leverage. */
export async function margin(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "Margin account: client A deposits 100,000 mbCNY and borrows 100,000 (2×)",
    "保证金账户：客户 A 存入 100,000 mbCNY 并借入 100,000（2 倍杠杆）",
  );
  const w = run.wallet("clientA");
  const engineAddress = run.contract("MarginEngine");
  const engine = MarginEngine__factory.connect(engineAddress, w);
  const cash = run.contract("mbCNY");
  if ((await engine.balanceOf(w.address, cash)) === 0n) {
    await (await CollateralToken__factory.connect(cash, w).approve(engineAddress, OWN_FUNDS)).wait();
    await (await engine.deposit(cash, OWN_FUNDS)).wait();
  }
  if ((await engine.debtOf(w.address))[0] === 0n) await (await engine.borrow((LEVERAGE - 1n) * OWN_FUNDS)).wait();
  const a = await run.d.account("clientA");
  say(
    `  cash ${cny(a.cash)}, debt ${cny(a.debt)}, equity ${cny(a.equity)}, state ${a.state}`,
    `  现金 ${cny(a.cash)}，负债 ${cny(a.debt)}，权益 ${cny(a.equity)}，状态 ${a.state}（${STATE_ZH[a.state] ?? a.state}）`,
  );
  say(
    `  interest: ${pct(a.interest.annualRate)} a year, ${pct(a.interest.ratePerDay, 6)} a day = ${cny(a.interest.dailyInterest)} mbCNY a day on this debt`,
    `  利息：年利率 ${pct(a.interest.annualRate)}，日利率 ${pct(a.interest.ratePerDay, 6)}，即此笔负债每日 ${cny(a.interest.dailyInterest)} mbCNY`,
  );
}
