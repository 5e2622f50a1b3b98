/**
 * Gas of the funding and margin layer's user-facing calls, on the same deployment as the tests, with the production price feeds (MedianPriceFeed, fed by signed reports) behind the router, so that every figure includes what a production quote costs.
 * Targets (issue 4): liquidation segment < 150,000, deposit < 80,000, borrow < 120,000. For reference Aave v3.7's
 * snapshot shows liquidationCall ≈ 340,000, supply 140,000–164,000, borrow 209,000–245,000; Compound v3 bounds
 * collateral supply under 153,000.
 */
import type { GasContext } from "./types";
import { gasOf } from "./types";
import { CNY, marginFixture, pct, price, setTier, zeroRate } from "../../fixtures/margin";
import { verify } from "../../fixtures/core";

export async function measure({ hre, emit }: GasContext): Promise<void> {
  const fx = await marginFixture({ feeds: "median" });
  const { engine, clientA, clientB, clientC, liquidator, lp } = fx;
  const cash = await fx.cash.getAddress();
  const line = (contract: string, method: string, gas: number, extra: Record<string, string | number> = {}): void =>
    emit({ contract, method, gas, ...extra });

  // Capital providers (the classes' own lines are in providers.ts): a repeat senior deposit, and an exit served at
  // once and claimed.
  const { senior } = fx;
  await fx.cash.connect(fx.actors.custodian).mint(lp.address, 100_000n * CNY, "0x" + "11".repeat(32));
  line("TrancheVault", "deposit", await gasOf(senior.connect(lp).deposit(50_000n * CNY, lp.address)), {
    case: "senior, repeat",
  });
  const exit = await senior.convertToShares(10_000n * CNY);
  line("TrancheVault", "requestRedeem", await gasOf(senior.connect(lp).requestRedeem(exit, lp.address, lp.address)), {
    case: "senior, served at once",
  });
  line(
    "TrancheVault",
    "withdraw",
    await gasOf(senior.connect(lp).withdraw(await senior.maxWithdraw(lp.address), lp.address, lp.address)),
    {
      case: "claim of a served request",
    },
  );

  // Margin account: first deposit of an asset (cold slots), then a repeat deposit.
  await fx.cash.connect(fx.actors.custodian).mint(clientA.address, 300_000n * CNY, "0x" + "22".repeat(32));
  await fx.cash.connect(clientA).approve(await engine.getAddress(), 2n ** 255n);
  line("MarginEngine", "deposit", await gasOf(engine.connect(clientA).deposit(cash, 100_000n * CNY)), {
    case: "first, cash",
    target: 80_000,
  });
  line("MarginEngine", "deposit", await gasOf(engine.connect(clientA).deposit(cash, 10_000n * CNY)), {
    case: "repeat, cash",
    target: 80_000,
  });
  line("MarginEngine", "borrow", await gasOf(engine.connect(clientA).borrow(90_000n * CNY)), {
    case: "first, cash-only account",
    target: 120_000,
  });
  await fx.buy(clientA, fx.bank, 5_000n, price(10));
  line("MarginEngine", "borrow", await gasOf(engine.connect(clientA).borrow(1_000n * CNY)), {
    case: "repeat, one security held",
    target: 120_000,
  });
  line("MarginEngine", "repay", await gasOf(engine.connect(clientA).repay(1_000n * CNY)), { case: "partial" });
  line("MarginEngine", "withdraw", await gasOf(engine.connect(clientA).withdraw(cash, 1_000n * CNY)), {
    case: "cash, with debt and one security",
  });
  line("MarginEngine", "accountView", Number(await engine.accountView.estimateGas(clientA.address)), {
    case: "one security (eth_estimateGas)",
  });
  line("MarginEngine", "poke", await gasOf(engine.poke(clientA.address)), { case: "no transition" });

  // Where an account valuation's gas goes: the router's reads of one and three assets (each includes the 21,000
  // of a transaction, as eth_estimateGas does).
  const { router } = fx;
  const securities = await Promise.all([fx.bank, fx.tech, fx.small].map((t) => t.getAddress()));
  const estimate = async (data: string, to: string): Promise<number> =>
    Number(await hre.ethers.provider.estimateGas({ to, data }));
  const routerAddress = await router.getAddress();
  const routerLine = async (method: string, data: string, c: string): Promise<void> =>
    line("OracleRouter", method, await estimate(data, routerAddress), { case: `${c} (eth_estimateGas)` });
  await routerLine("getPrice", router.interface.encodeFunctionData("getPrice", [securities[0]]), "one asset");
  await routerLine("safeSince", router.interface.encodeFunctionData("safeSince", [securities[0]]), "one asset");
  await routerLine("volatility", router.interface.encodeFunctionData("volatility", [securities[0]]), "one asset");
  await routerLine("quotes", router.interface.encodeFunctionData("quotes", [[securities[0]]]), "one asset");
  await routerLine("quotes", router.interface.encodeFunctionData("quotes", [securities]), "three assets");

  // Liquidations. B and D hold only mbBANK at 2×; C and E hold one security per liquidity tier at 2×.
  await zeroRate(fx);
  for (const tier of [1, 2, 3]) await setTier(fx, tier, pct(15), pct(5));
  const [clientD, clientE] = [fx.actors.users[6], fx.actors.users[7]];
  await verify(fx, clientD.address, 2);
  await verify(fx, clientE.address, 3);
  for (const c of [clientB, clientD]) {
    await fx.fundAccount(c, fx.cash, 100_000n * CNY);
    await engine.connect(c).borrow(99_000n * CNY);
    await fx.buy(c, fx.bank, 19_900n, price(10));
  }
  for (const c of [clientC, clientE]) {
    await fx.fundAccount(c, fx.cash, 100_000n * CNY);
    await engine.connect(c).borrow(100_000n * CNY);
    await fx.buy(c, fx.bank, 10_000n, price(10));
    await fx.buy(c, fx.tech, 2_000n, price(25));
    await fx.buy(c, fx.small, 1_000n, price(50));
  }
  await fx.setPrice(fx.bank, price(5.7));
  await fx.setPrice(fx.tech, price(14.25));
  await fx.setPrice(fx.small, price(28.5));
  await fx.advance((await engine.params()).oracleGrace);
  for (const c of [clientB, clientC, clientD]) await engine.poke(c.address);
  // The keeper sees each call still open within the grace period (a call nobody saw for a whole grace period
  // lapses), then the deadline passes.
  const grace = (await engine.params()).gracePeriod;
  await fx.advance(grace - 60n);
  for (const c of [clientB, clientC, clientD]) await engine.poke(c.address);
  await fx.advance(60n);
  line("MarginEngine", "liquidate", await gasOf(engine.connect(liquidator).liquidate(clientB.address, 1)), {
    case: "one segment, one-asset account, liquidator's first mbBANK",
    target: 150_000,
  });
  line("MarginEngine", "liquidate", await gasOf(engine.connect(liquidator).liquidate(clientD.address, 1)), {
    case: "one segment, one-asset account",
    target: 150_000,
  });
  line("MarginEngine", "accountView", Number(await engine.accountView.estimateGas(clientC.address)), {
    case: "three securities (eth_estimateGas)",
  });
  line("MarginEngine", "liquidate", await gasOf(engine.connect(liquidator).liquidate(clientC.address, 3)), {
    case: "three-asset account, segments until the target",
  });
  // The fund's penalty shares of B's, D's and C's liquidations, paid in one transfer (the fund's first income here).
  line("MarginEngine", "sweepInsurance", await gasOf(engine.sweepInsurance()), {
    case: "three liquidations' shares, fund's first liquidation income",
  });
  // A gap down leaves E's debt above all its collateral: three segments, then the loss waterfall.
  await fx.setPrice(fx.bank, price(2));
  await fx.setPrice(fx.tech, price(5));
  await fx.setPrice(fx.small, price(10));
  await fx.advance((await engine.params()).oracleGrace);
  line("MarginEngine", "liquidate", await gasOf(engine.connect(liquidator).liquidate(clientE.address, 3)), {
    case: "three-asset defaulted account: three segments + insurance + write-off",
  });

  // Batches (issue 24): N one-asset accounts below their hard line, one segment each, in one liquidateMany, against
  // the same accounts liquidated one call each (the gas per account of each).
  // The default above left the pool a deficit, which stops new borrowing until the risk officer acknowledges it.
  await fx.pool.connect(fx.actors.riskOfficer).acknowledgeDeficit();
  await fx.cash.connect(fx.actors.custodian).mint(lp.address, 2_000_000n * CNY, "0x" + "33".repeat(32));
  await senior.connect(lp).deposit(2_000_000n * CNY, lp.address);
  await fx.fundAccount(liquidator, fx.cash, 3_000_000n * CNY);
  await fx.setPrice(fx.bank, price(10));
  for (const n of [1, 10, 50]) {
    const accounts = await crashedAccounts(fx, n, `batch-${n}`);
    const gas = await gasOf(engine.connect(liquidator).liquidateMany(accounts, 1));
    line("MarginEngine", "liquidateMany", gas, {
      case: `${n} one-asset accounts, one segment each`,
      accounts: n,
      per_account: Math.round(gas / n),
    });
    await fx.setPrice(fx.bank, price(10));
  }
  const singles = await crashedAccounts(fx, 10, "singles");
  let total = 0;
  for (const a of singles) total += await gasOf(engine.connect(liquidator).liquidate(a, 1));
  line("MarginEngine", "liquidate", Math.round(total / singles.length), {
    case: "the same accounts one call each (mean of 10)",
    accounts: 10,
    per_account: Math.round(total / singles.length),
  });
}

/** `n` fresh 5× accounts of 2,000 mbBANK, 15,000 borrowed and withdrawn; mbBANK then at 7.9 (below the hard line). */
async function crashedAccounts(
  fx: Awaited<ReturnType<typeof marginFixture>>,
  n: number,
  label: string,
): Promise<string[]> {
  const { hre } = await import("hardhat").then((m) => ({ hre: m.default }));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = hre.ethers.Wallet.createRandom().connect(hre.ethers.provider);
    await hre.network.provider.send("hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]);
    await fx.kyc
      .connect(fx.actors.kycOfficer)
      .setIdentity(w.address, 5, 156, BigInt(2 ** 40), hre.ethers.id(`${label}-${i}`));
    const signer = await hre.ethers.getImpersonatedSigner(w.address);
    await fx.fundAccount(signer, fx.bank, 2_000n);
    await fx.engine.connect(signer).borrow(15_000n * CNY);
    await fx.engine.connect(signer).withdraw(await fx.cash.getAddress(), 15_000n * CNY);
    out.push(w.address);
  }
  await fx.setPrice(fx.bank, price(7.9));
  await fx.advance((await fx.engine.params()).oracleGrace);
  return out;
}
