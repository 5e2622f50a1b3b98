/**
 * Gas of the funding and margin layer's user-facing calls, on the same deployment and test feeds as the tests.
 * Targets (issue 4): liquidation segment < 150,000, deposit < 80,000, borrow < 120,000. For reference Aave v3.7's
 * snapshot shows liquidationCall ≈ 340,000, supply 140,000–164,000, borrow 209,000–245,000; Compound v3 bounds
 * collateral supply under 153,000.
 */
import type { GasContext } from "./types";
import { gasOf } from "./types";
import { CNY, marginFixture, pct, price, setTier, zeroRate } from "../../test/helpers/marginFixture";

export async function measure({ emit }: GasContext): Promise<void> {
  const fx = await marginFixture();
  const { engine, pool, clientA, clientB, clientC, liquidator, lp } = fx;
  const cash = await fx.cash.getAddress();
  const bank = await fx.bank.getAddress();
  const line = (contract: string, method: string, gas: number, extra: Record<string, string | number> = {}): void =>
    emit({ contract, method, gas, ...extra });

  // Capital providers.
  await fx.cash.connect(fx.actors.custodian).mint(lp.address, 100_000n * CNY, "0x" + "11".repeat(32));
  line("CapitalPool", "deposit", await gasOf(pool.connect(lp).deposit(50_000n * CNY, lp.address)), { case: "repeat" });
  line("CapitalPool", "withdraw", await gasOf(pool.connect(lp).withdraw(10_000n * CNY, lp.address, lp.address)));

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

  // Liquidation, one segment: client B holds only mbBANK at 2×.
  await zeroRate(fx);
  for (const tier of [1, 2, 3]) await setTier(fx, tier, pct(15), pct(5));
  await fx.fundAccount(clientB, fx.cash, 100_000n * CNY);
  await engine.connect(clientB).borrow(100_000n * CNY);
  await fx.buy(clientB, fx.bank, 20_000n, price(10));
  // Client C holds three securities (one per liquidity tier) at 2×.
  await fx.fundAccount(clientC, fx.cash, 100_000n * CNY);
  await engine.connect(clientC).borrow(100_000n * CNY);
  await fx.buy(clientC, fx.bank, 10_000n, price(10));
  await fx.buy(clientC, fx.tech, 2_000n, price(25));
  await fx.buy(clientC, fx.small, 1_000n, price(50));
  await fx.setPrice(fx.bank, price(5.7));
  await fx.setPrice(fx.tech, price(14.25));
  await fx.setPrice(fx.small, price(28.5));
  await fx.advance((await engine.params()).oracleGrace);
  await engine.poke(clientB.address);
  await engine.poke(clientC.address);
  await fx.advance((await engine.params()).gracePeriod);
  line("MarginEngine", "liquidate", await gasOf(engine.connect(liquidator).liquidate(clientB.address, 1)), {
    case: "one segment, one-asset account",
    target: 150_000,
  });
  line("MarginEngine", "accountView", Number(await engine.accountView.estimateGas(clientC.address)), {
    case: "three securities (eth_estimateGas)",
  });
  line("MarginEngine", "liquidate", await gasOf(engine.connect(liquidator).liquidate(clientC.address, 3)), {
    case: "three-asset account, two segments to target",
  });
  void bank;
}
