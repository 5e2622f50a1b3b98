import { expect } from "chai";
import hre from "hardhat";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { CNY, State, marginFixture, price, type MarginFixture } from "../../helpers/marginFixture";
import type { CollateralToken } from "../../../typechain-types";

/**
 * Property test: random sequences of deposits, withdrawals, borrows, repayments, trades, price moves, time jumps,
 * pokes, liquidations and pool deposits/withdrawals. After every step the handler, which keeps its own totals of
 * every wallet, checks (in one call to MarginInvariantProbe):
 *  - tokens are conserved between wallets, margin accounts (engine), pool and insurance fund;
 *  - the engine holds exactly the sum of its internal balances; the pool's scaled debt is the sum of the accounts';
 *  - the pool identity totalAssets = cash + debt − reserves owed;
 *  - every wallet holds what the handler's own totals say;
 *  - an action that reverts changes nothing (digest of every balance, debt, recorded state and pool figure);
 *  - after a liquidation run to completion the account is neither Liquidatable, MarginCall nor Defaulted
 *    (it reached its target, or everything was sold and the waterfall cleared its debt).
 * Seeded: RUNS × STEPS steps per CI run (MB_PROPERTY_RUNS / MB_PROPERTY_STEPS / MB_PROPERTY_SEED override).
 */
const RUNS = Number(process.env.MB_PROPERTY_RUNS ?? 12);
const STEPS = Number(process.env.MB_PROPERTY_STEPS ?? 250);
const SEED = Number(process.env.MB_PROPERTY_SEED ?? 20261123);
const GAS = 3_000_000n;
const LEVERAGE = [2n, 3n, 5n];

type Action =
  | { kind: "deposit"; who: number; token: number; frac: number }
  | { kind: "withdraw"; who: number; token: number; frac: number }
  | { kind: "borrow"; who: number; frac: number }
  | { kind: "repay"; who: number; frac: number; wallet: boolean }
  | { kind: "buy"; who: number; token: number; frac: number }
  | { kind: "sell"; who: number; token: number; frac: number }
  | { kind: "price"; token: number; move: number }
  | { kind: "time"; seconds: number }
  | { kind: "poke"; who: number }
  | { kind: "liquidate"; who: number }
  | { kind: "lpDeposit"; frac: number }
  | { kind: "lpWithdraw"; frac: number }
  | { kind: "sweep" }
  | { kind: "leverUp"; who: number; token: number }
  | { kind: "crash"; move: number };

const who = fc.integer({ min: 0, max: 2 });
/** Share of what is available, in percent (a little above 100% to exercise the refusals). */
const frac = fc.integer({ min: 1, max: 104 }).map((p) => p / 100);
const security = fc.integer({ min: 1, max: 3 });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("deposit" as const), who, token: fc.integer({ min: 0, max: 3 }), frac }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("withdraw" as const), who, token: fc.integer({ min: 0, max: 3 }), frac }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("borrow" as const), who, frac }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("repay" as const), who, frac, wallet: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("buy" as const), who, token: security, frac }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("sell" as const), who, token: security, frac }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("price" as const),
      token: security,
      move: fc.integer({ min: -30, max: 15 }).map((p) => p / 100),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("time" as const), seconds: fc.integer({ min: 60, max: 7_200 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("poke" as const), who }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("liquidate" as const), who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("lpDeposit" as const), frac }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("lpWithdraw" as const), frac }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("sweep" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("leverUp" as const), who, token: security }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("crash" as const),
      move: fc.integer({ min: -45, max: -10 }).map((p) => p / 100),
    }),
  },
);

interface PropertyFixture extends MarginFixture {
  start: Map<string, bigint>;
}

async function propertyFixture(): Promise<PropertyFixture> {
  const fx = await marginFixture();
  const engine = await fx.engine.getAddress();
  const tokens = [fx.cash, fx.bank, fx.tech, fx.small];
  const amounts = [100_000n * CNY, 500n, 200n, 100n];
  let n = 0;
  for (const client of [fx.clientA, fx.clientB, fx.clientC]) {
    for (const [i, t] of tokens.entries()) {
      await t.connect(fx.actors.custodian).mint(client.address, amounts[i], hre.ethers.id(`prop-${n++}`));
      await t.connect(client).approve(engine, hre.ethers.MaxUint256);
    }
  }
  await fx.cash.connect(fx.actors.custodian).mint(fx.lp.address, 200_000n * CNY, hre.ethers.id("prop-lp"));
  // window caps never bind here (they are tested on their own), so every liquidation can run to completion
  for (const t of [fx.bank, fx.tech, fx.small]) {
    const cfg = await fx.engine.assetConfig(await t.getAddress());
    await fx.engine
      .connect(fx.actors.riskOfficer)
      .configureAsset(await t.getAddress(), cfg.liquidityTier, cfg.haircut, cfg.liquidationPenalty, 10n ** 30n);
  }
  const start = new Map<string, bigint>();
  for (const h of holders(fx)) for (const t of tokens) start.set(key(h, await t.getAddress()), await t.balanceOf(h));
  return { ...fx, start };
}

const holders = (fx: MarginFixture): string[] =>
  [fx.clientA, fx.clientB, fx.clientC, fx.dealer, fx.liquidator, fx.lp].map((s) => s.address);
const key = (holder: string, token: string): string => `${holder}:${token}`;

describe("MarginEngine properties", function () {
  it(`keeps every invariant over ${RUNS} × ${STEPS} random steps (seed ${SEED})`, async function () {
    // several thousand on-chain steps: minutes on a loaded 2-core machine (a safety limit, not a speed target)
    this.timeout(600_000);
    const base = await loadFixture(propertyFixture);
    const tokenAddrs = await Promise.all([base.cash, base.bank, base.tech, base.small].map((t) => t.getAddress()));
    let steps = 0;
    let reverted = 0;
    let liquidations = 0;
    const reasons = new Map<string, number>();

    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: STEPS, maxLength: STEPS }), async (actions) => {
        const fx = await loadFixture(propertyFixture);
        const tokens = [fx.cash, fx.bank, fx.tech, fx.small];
        const clients = [fx.clientA, fx.clientB, fx.clientC];
        const hs = holders(fx);
        const expected = new Map(fx.start);
        const prices = new Map<number, bigint>([
          [1, price(10)],
          [2, price(25)],
          [3, price(50)],
        ]);
        const probe = () =>
          fx.probe.check(fx.engine.getAddress(), fx.pool.getAddress(), fx.fund.getAddress(), hs, tokenAddrs);
        const moveWallet = (holder: string, t: number, delta: bigint): void => {
          const k = key(holder, tokenAddrs[t]);
          expected.set(k, expected.get(k)! + delta);
        };
        const scale = (x: bigint, f: number): bigint => (x * BigInt(Math.floor(f * 1e6))) / 1_000_000n;

        let before = await probe();
        for (const a of actions) {
          steps++;
          let ok = true;
          let liquidated: string | undefined;
          try {
            switch (a.kind) {
              case "deposit": {
                const c = clients[a.who];
                const amount = scale(await tokens[a.token].balanceOf(c.address), a.frac);
                await (await fx.engine.connect(c).deposit(tokenAddrs[a.token], amount, { gasLimit: GAS })).wait();
                moveWallet(c.address, a.token, -amount);
                break;
              }
              case "withdraw": {
                const c = clients[a.who];
                const amount = scale(await fx.engine.balanceOf(c.address, tokenAddrs[a.token]), a.frac);
                await (await fx.engine.connect(c).withdraw(tokenAddrs[a.token], amount, { gasLimit: GAS })).wait();
                moveWallet(c.address, a.token, amount);
                break;
              }
              case "borrow": {
                // a share of the headroom under the tier's leverage (2×, 3×, 5×)
                const v = await fx.engine.accountView(clients[a.who].address);
                const headroom = v.equity > 0n ? LEVERAGE[a.who] * v.equity - v.cash - v.positionValue : 0n;
                const amount = scale(headroom > 0n ? headroom : 1_000n * CNY, a.frac);
                await (await fx.engine.connect(clients[a.who]).borrow(amount, { gasLimit: GAS })).wait();
                break;
              }
              case "repay": {
                const c = clients[a.who];
                const [debt] = await fx.engine.debtOf(c.address);
                const amount = scale(debt + 1n, a.frac);
                if (a.wallet) {
                  const walletBefore = await fx.cash.balanceOf(c.address);
                  await (await fx.engine.connect(c).repayFromWallet(amount, { gasLimit: GAS })).wait();
                  moveWallet(c.address, 0, (await fx.cash.balanceOf(c.address)) - walletBefore);
                } else {
                  await (await fx.engine.connect(c).repay(amount, { gasLimit: GAS })).wait();
                }
                break;
              }
              case "buy":
              case "sell": {
                const c = clients[a.who];
                const px = prices.get(a.token)!;
                const units =
                  a.kind === "buy"
                    ? scale(((await fx.engine.balanceOf(c.address, tokenAddrs[0])) * 10n ** 12n) / px, a.frac)
                    : scale(await fx.engine.balanceOf(c.address, tokenAddrs[a.token]), a.frac);
                const cost = (units * px) / 10n ** 12n;
                const [buyer, seller] =
                  a.kind === "buy" ? [c.address, fx.dealer.address] : [fx.dealer.address, c.address];
                await (
                  await fx.harness.trade(buyer, seller, tokenAddrs[a.token], units, cost, { gasLimit: GAS })
                ).wait();
                break;
              }
              case "price": {
                const px = prices.get(a.token)!;
                const next = scale(px, 1 + a.move);
                prices.set(a.token, next > 10n ** 17n ? next : 10n ** 17n);
                await fx.setPrice(tokens[a.token], prices.get(a.token)!);
                break;
              }
              case "time":
                await fx.advance(a.seconds);
                break;
              case "poke":
                await (await fx.engine.poke(clients[a.who].address, { gasLimit: GAS })).wait();
                break;
              case "liquidate": {
                const c = clients[a.who];
                await (await fx.engine.connect(fx.liquidator).liquidate(c.address, 10, { gasLimit: GAS })).wait();
                liquidated = c.address;
                liquidations++;
                break;
              }
              case "lpDeposit": {
                const amount = scale(await fx.cash.balanceOf(fx.lp.address), a.frac);
                await (await fx.senior.connect(fx.lp).deposit(amount, fx.lp.address, { gasLimit: GAS })).wait();
                moveWallet(fx.lp.address, 0, -amount);
                break;
              }
              case "lpWithdraw": {
                // An ERC-7540 request, served at once when the senior class's cash allows, then claimed.
                const shares = scale(await fx.senior.balanceOf(fx.lp.address), a.frac);
                const walletBefore = await fx.cash.balanceOf(fx.lp.address);
                const lp = fx.lp.address;
                await (await fx.senior.connect(fx.lp).requestRedeem(shares, lp, lp, { gasLimit: GAS })).wait();
                const claimable = await fx.senior.maxRedeem(lp);
                if (claimable > 0n) {
                  await (await fx.senior.connect(fx.lp).redeem(claimable, lp, lp, { gasLimit: GAS })).wait();
                }
                moveWallet(fx.lp.address, 0, (await fx.cash.balanceOf(fx.lp.address)) - walletBefore);
                break;
              }
              case "leverUp": {
                // borrow 95% of the leverage headroom, then spend all margin cash on one security
                const c = clients[a.who];
                const v = await fx.engine.accountView(c.address);
                // bounded by the tier's leverage and by the initial margin of the security bought
                const [, im] = await fx.engine.assetMargins(tokenAddrs[a.token]);
                const byLeverage = LEVERAGE[a.who] * v.equity - v.cash - v.positionValue;
                const byMargin = (v.equity * 10n ** 18n) / im - v.cash - v.positionValue;
                const headroom = byLeverage < byMargin ? byLeverage : byMargin;
                if (v.equity > 0n && headroom > 0n) {
                  await (await fx.engine.connect(c).borrow(scale(headroom, 0.9), { gasLimit: GAS })).wait();
                }
                const px = prices.get(a.token)!;
                const units = ((await fx.engine.balanceOf(c.address, tokenAddrs[0])) * 10n ** 12n) / px;
                const cost = (units * px) / 10n ** 12n;
                await (
                  await fx.harness.trade(c.address, fx.dealer.address, tokenAddrs[a.token], units, cost, {
                    gasLimit: GAS,
                  })
                ).wait();
                break;
              }
              case "crash":
                for (const t of [1, 2, 3]) {
                  const next = scale(prices.get(t)!, 1 + a.move);
                  prices.set(t, next > 10n ** 17n ? next : 10n ** 17n);
                  await fx.setPrice(tokens[t], prices.get(t)!);
                }
                break;
              case "sweep": // the pool's reserves and the engine's owed penalty shares go to the insurance fund
                await (await fx.pool.sweepReserves({ gasLimit: GAS })).wait();
                await (await fx.engine.sweepInsurance({ gasLimit: GAS })).wait();
                break;
            }
          } catch (err) {
            if (!(err instanceof Error) || !/revert|reverted/i.test(err.message)) throw err;
            ok = false;
            reverted++;
            const reason =
              (/custom error .([A-Za-z]+)/.exec(err.message)?.[1] ?? "other") +
              (process.env.MB_PROPERTY_VERBOSE && a.kind === "liquidate"
                ? (/, (\d)\)/.exec(err.message)?.[1] ?? "")
                : "");
            reasons.set(`${a.kind}:${reason}`, (reasons.get(`${a.kind}:${reason}`) ?? 0) + 1);
          }
          const after = await probe();
          const ctx = `step ${steps} ${JSON.stringify(a)}`;
          expect(after.engineBacked, `engine backs internal balances: ${ctx}`).to.equal(true);
          expect(after.supplyConserved, `tokens conserved: ${ctx}`).to.equal(true);
          expect(after.poolDebtMatches, `pool scaled debt = Σ accounts: ${ctx}`).to.equal(true);
          expect(after.poolIdentity, `pool identity: ${ctx}`).to.equal(true);
          for (const [i, h] of hs.entries()) {
            for (const [j, t] of tokenAddrs.entries()) {
              expect(after.wallets[i * tokenAddrs.length + j], `wallet ${h} ${t}: ${ctx}`).to.equal(
                expected.get(key(h, t)),
              );
            }
          }
          if (!ok && a.kind !== "leverUp") {
            expect(after.digest, `a reverted action changes nothing: ${ctx}`).to.equal(before.digest);
          }
          if (liquidated) {
            const state = Number(await fx.engine.accountState(liquidated));
            expect([State.Healthy, State.Warning], `after a full liquidation: ${ctx}`).to.include(state);
          }
          before = after;
        }
        if (process.env.MB_PROPERTY_VERBOSE) {
          for (const c of clients) {
            const v = await fx.engine.accountView(c.address);
            console.log(c.address.slice(0, 6), {
              cash: v.cash,
              debt: v.debt,
              V: v.positionValue,
              eq: v.equity,
              mm: v.maintenanceReq,
              st: v.state,
            });
          }
          console.log([...prices.values()]);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    console.log(`      ${steps} steps, ${reverted} reverted, ${liquidations} liquidations`);
    if (process.env.MB_PROPERTY_VERBOSE) console.log(Object.fromEntries(reasons));
    expect(steps).to.equal(RUNS * STEPS);
    expect(liquidations).to.be.greaterThan(0);
    void time;
    void (null as unknown as CollateralToken);
  });
});
