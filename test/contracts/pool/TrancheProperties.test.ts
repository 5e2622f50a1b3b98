/**
 * Property test of the tranche waterfall and the redemption queue (fast-check): random deposits into both classes,
 * borrows and repayments, losses written off (the price moves of the book), covers, time, redemption requests, serving,
 * claims and share transfers by five providers (an attacker and its accomplice among them) and the borrower. After every
 * step, against the handler's own running totals and the chain:
 *  a. the book: totalAssets = senior + junior assets; each vault's totalAssets is its class's; its totalSupply the
 *     pool's share count; the pool's token balance = its cash + the borrower's float + claimable cash;
 *  b. no class pays out more than it holds: what the holders' and the locked shares are worth ≤ the class's assets;
 *     what is claimable sums to claimableCash; every provider's cash = its start − deposits + claims (its own totals);
 *  c. Σ shares × price = assets per class (the vault's conversion of its whole supply misses at most what the virtual
 *     shares hold);
 *  d. the senior class loses only after the junior class is exhausted: a write-off with a senior loss leaves no junior
 *     assets, and the senior share price never falls while junior assets remain;
 *  e. the queue is served strictly in order: within one call served requests come in order of due time, and in each
 *     class the served share of a request never exceeds an earlier request's;
 *  f. earmarks and pending shares are the sum of the requests' own; a reverted step changes nothing.
 * Seeded: MB_TRANCHE_RUNS × MB_TRANCHE_STEPS (default 6 × 120), MB_TRANCHE_SEED.
 */
import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  CNY,
  JUNIOR,
  REDEMPTION,
  SENIOR,
  SHARE,
  TRANCHES,
  makePoolFixture,
  type PoolFixture,
} from "../../helpers/poolFixture";
import { ensureProviderAgreement } from "../../../scripts/deploy/providers";
import type { TrancheVault } from "../../../typechain-types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

const RUNS = Number(process.env.MB_TRANCHE_RUNS ?? 6);
const STEPS = Number(process.env.MB_TRANCHE_STEPS ?? 120);
const SEED = Number(process.env.MB_TRANCHE_SEED ?? 20261207);
const GAS = 5_000_000n;

/** The deployment's rules with a one-day junior notice, so that junior requests are served within a run. */
const baseFixture = makePoolFixture({
  tranches: TRANCHES,
  redemption: { ...REDEMPTION, juniorNotice: 86_400 },
});

/** A book under way: 230,000 junior and 800,000 senior from the five providers, 600,000 lent. */
async function propertyFixture(): Promise<PoolFixture> {
  const fx = await baseFixture();
  for (const p of [fx.lp, fx.lp2]) await ensureProviderAgreement(fx.junior, p);
  await fx.junior.connect(fx.platform).deposit(150_000n * CNY, fx.platform.address);
  await fx.junior.connect(fx.attacker).deposit(50_000n * CNY, fx.attacker.address);
  await fx.junior.connect(fx.accomplice).deposit(30_000n * CNY, fx.accomplice.address);
  await fx.senior.connect(fx.lp).deposit(400_000n * CNY, fx.lp.address);
  await fx.senior.connect(fx.lp2).deposit(300_000n * CNY, fx.lp2.address);
  await fx.senior.connect(fx.attacker).deposit(100_000n * CNY, fx.attacker.address);
  await fx.pool.connect(fx.borrower).borrow(600_000n * CNY);
  return fx;
}

type Action =
  | { kind: "deposit"; who: number; t: number; frac: number }
  | { kind: "request"; who: number; t: number; frac: number; forOther: boolean }
  | { kind: "claim"; who: number; t: number; frac: number; inAssets: boolean }
  | { kind: "serve"; steps: number }
  | { kind: "run"; t: number; frac: number }
  | { kind: "borrow"; frac: number }
  | { kind: "repay"; frac: number }
  | { kind: "loss"; frac: number }
  | { kind: "cover"; frac: number }
  | { kind: "acknowledge" }
  | { kind: "time"; seconds: number }
  | { kind: "checkpoint" }
  | { kind: "transfer"; who: number; t: number; frac: number };

const who = fc.integer({ min: 0, max: 4 });
const t = fc.integer({ min: 0, max: 1 });
/** Share of what is available, in percent (a little above 100% to exercise the refusals). */
const frac = fc.integer({ min: 1, max: 104 }).map((p) => p / 100);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("deposit" as const), who, t, frac }) },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("request" as const), who, t, frac, forOther: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("claim" as const), who, t, frac, inAssets: fc.boolean() }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("serve" as const), steps: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("run" as const), t, frac }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("borrow" as const), frac }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("repay" as const), frac }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("loss" as const),
      frac: fc.integer({ min: 1, max: 40 }).map((p) => p / 100),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cover" as const), frac }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("acknowledge" as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("time" as const), seconds: fc.integer({ min: 600, max: 3 * 86_400 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("checkpoint" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("transfer" as const), who, t, frac }) },
);

const scale = (x: bigint, f: number): bigint => (x * BigInt(Math.floor(f * 1e6))) / 1_000_000n;

describe("CapitalPool tranche and queue properties", function () {
  it(`keeps the waterfall and the queue over ${RUNS} × ${STEPS} random steps (seed ${SEED})`, async function () {
    this.timeout(1_800_000);
    let steps = 0;
    let reverted = 0;
    let served = 0;
    let seniorLosses = 0;
    let gatedServes = 0;
    const reasons = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: STEPS, maxLength: STEPS }), async (actions) => {
        const fx = await loadFixture(propertyFixture);
        const { pool } = fx;
        const vaults: TrancheVault[] = [fx.senior, fx.junior];
        // Every one of the five has agreements in both classes.
        const providers = [fx.lp, fx.lp2, fx.platform, fx.attacker, fx.accomplice];
        const expected = new Map<string, bigint>();
        /** Shares of each request when queued (RedeemQueued), by `${tranche}:${ticket}`. */
        const requested = new Map<string, bigint>();
        for (const p of providers) expected.set(p.address, await fx.cash.balanceOf(p.address));
        const digest = () => stateDigest(fx, providers);

        for (const a of actions) {
          steps++;
          const before = await snapshot(fx, vaults);
          const digestBefore = await digest();
          let receipt: Awaited<ReturnType<typeof send>> = null;
          try {
            receipt = await run(fx, vaults, providers, a, expected);
          } catch (err) {
            if (!isRevert(err)) throw err;
            reverted++;
            const message = err instanceof Error ? err.message : String(err);
            const name =
              message.match(/custom error '([A-Za-z0-9]+)\(/)?.[1] ?? message.match(/reverted with (.{0,40})/)?.[1];
            const reason = `${a.kind}: ${name ?? "?"}`;
            if (process.env.MB_TRANCHE_REASONS && name?.startsWith("an unrecognized"))
              console.log(message.slice(0, 400));
            reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
            expect(await digest(), `reverted ${JSON.stringify(a)} changed state`).to.equal(digestBefore);
          }
          const ctx = `${JSON.stringify(a)} (step ${steps})`;
          const events = receipt ? receipt.logs.map((l) => pool.interface.parseLog(l)).filter((e) => e !== null) : [];
          // d. the senior class loses only after the junior class is exhausted
          for (const e of events.filter((x) => x!.name === "BadDebtWrittenOff")) {
            if (e!.args.seniorLoss > 0n) {
              seniorLosses++;
              expect(await pool.trancheAssets(JUNIOR), `junior left after a senior loss: ${ctx}`).to.equal(0n);
            }
          }
          const after = await snapshot(fx, vaults);
          // (a class whose every share left has no price to keep)
          if (after.juniorAssets > 0n && after.seniorSupply > 0n) {
            expect(after.seniorPrice, `senior price fell with junior assets left: ${ctx}`).to.be.greaterThanOrEqual(
              before.seniorPrice,
            );
          }
          for (const e of events.filter((x) => x!.name === "RedeemQueued")) {
            requested.set(`${e!.args.tranche}:${e!.args.ticket}`, e!.args.shares);
          }
          // e. within one call, served requests come in order of due time
          const servedEvents = events.filter((x) => x!.name === "RedeemServed");
          served += servedEvents.length;
          let lastDue = 0n;
          for (const e of servedEvents) {
            if (e!.args.gated) gatedServes++;
            const r = await pool.requestOf(e!.args.tranche, e!.args.ticket);
            expect(r.dueAt, `served out of due order: ${ctx}`).to.be.greaterThanOrEqual(lastDue);
            lastDue = r.dueAt;
          }
          await checkInvariants(fx, vaults, providers, expected, requested, ctx);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    console.log(
      `      ${steps} steps, ${reverted} refused, ${served} pieces served (${gatedServes} gated), ` +
        `${seniorLosses} write-offs reaching the senior class`,
    );
    if (process.env.MB_TRANCHE_REASONS) console.log(reasons);
  });
});

async function send(
  tx: Promise<{ wait(): Promise<unknown> }>,
): Promise<{ logs: { topics: string[]; data: string }[] } | null> {
  return (await (await tx).wait()) as { logs: { topics: string[]; data: string }[] } | null;
}

async function run(
  fx: PoolFixture,
  vaults: TrancheVault[],
  providers: HardhatEthersSigner[],
  a: Action,
  expected: Map<string, bigint>,
): Promise<Awaited<ReturnType<typeof send>>> {
  const { pool, borrower, cash } = fx;
  const opts = { gasLimit: GAS };
  switch (a.kind) {
    case "deposit": {
      const p = providers[a.who];
      const amount = scale(await cash.balanceOf(p.address), a.frac / 4);
      const r = await send(vaults[a.t].connect(p).deposit(amount, p.address, opts));
      expected.set(p.address, expected.get(p.address)! - amount);
      return r;
    }
    case "request": {
      const p = providers[a.who];
      const controller = a.forOther ? providers[(a.who + 1) % providers.length].address : p.address;
      // Mostly parts of a holding (a run on the pool is many such requests).
      const shares = scale(await vaults[a.t].balanceOf(p.address), a.frac / 2);
      return send(vaults[a.t].connect(p).requestRedeem(shares, controller, p.address, opts));
    }
    case "claim": {
      const p = providers[a.who];
      const v = vaults[a.t];
      const r = a.inAssets
        ? await send(v.connect(p).withdraw(scale(await v.maxWithdraw(p.address), a.frac), p.address, p.address, opts))
        : await send(v.connect(p).redeem(scale(await v.maxRedeem(p.address), a.frac), p.address, p.address, opts));
      // The handler's own total: what the vault's Withdraw event says it paid.
      for (const log of r?.logs ?? []) {
        const e = v.interface.parseLog(log);
        if (e?.name === "Withdraw") expected.set(p.address, expected.get(p.address)! + (e.args.assets as bigint));
      }
      return r;
    }
    case "serve":
      return send(pool.serveQueue(a.steps, opts));
    case "run": {
      // Every provider asks for the same share of its holding in one block (a run on the class).
      const v = vaults[a.t];
      const amounts = await Promise.all(providers.map(async (p) => scale(await v.balanceOf(p.address), a.frac)));
      await hre.network.provider.send("evm_setAutomine", [false]);
      const sent: Promise<unknown>[] = [];
      try {
        for (const [k, p] of providers.entries()) {
          if (amounts[k] > 0n) sent.push(v.connect(p).requestRedeem(amounts[k], p.address, p.address, opts));
        }
        await Promise.all(sent);
        await hre.network.provider.send("evm_mine");
      } finally {
        await hre.network.provider.send("evm_setAutomine", [true]);
      }
      const block = await hre.ethers.provider.getBlock("latest", true);
      const logs: { topics: string[]; data: string }[] = [];
      for (const tx of block!.prefetchedTransactions) {
        const r = await hre.ethers.provider.getTransactionReceipt(tx.hash);
        if (r?.status === 1) logs.push(...r.logs.map((l) => ({ topics: [...l.topics], data: l.data })));
      }
      return { logs };
    }
    case "borrow":
      return send(pool.connect(borrower).borrow(scale(await pool.lendableCash(), a.frac), opts));
    case "repay":
      return send(pool.connect(borrower).repay(scale(await pool.totalScaledDebt(), a.frac), opts));
    case "loss":
      return send(pool.connect(borrower).writeOff(scale(await pool.totalScaledDebt(), a.frac), opts));
    case "cover":
      return send(pool.connect(fx.outsider).coverDeficit(scale(await pool.deficit(), a.frac), opts));
    case "acknowledge":
      return send(pool.connect(fx.actors.riskOfficer).acknowledgeDeficit(opts));
    case "time":
      await time.increase(a.seconds);
      return null;
    case "checkpoint":
      return send(pool.checkpointTranches(opts));
    case "transfer": {
      const p = providers[a.who];
      const to = providers[(a.who + 3) % providers.length];
      return send(
        vaults[a.t].connect(p).transfer(to.address, scale(await vaults[a.t].balanceOf(p.address), a.frac), opts),
      );
    }
  }
}

interface Snapshot {
  seniorPrice: bigint;
  seniorSupply: bigint;
  juniorAssets: bigint;
}

async function snapshot(fx: PoolFixture, vaults: TrancheVault[]): Promise<Snapshot> {
  return {
    seniorPrice: await vaults[SENIOR].convertToAssets(SHARE),
    seniorSupply: await vaults[SENIOR].totalSupply(),
    juniorAssets: await fx.pool.trancheAssets(JUNIOR),
  };
}

async function checkInvariants(
  fx: PoolFixture,
  vaults: TrancheVault[],
  providers: HardhatEthersSigner[],
  expected: Map<string, bigint>,
  requested: Map<string, bigint>,
  ctx: string,
): Promise<void> {
  const { pool, cash } = fx;
  const at = { blockTag: await hre.ethers.provider.getBlockNumber() };
  const total = await pool.totalAssets(at);
  const classAssets = [await pool.trancheAssets(SENIOR, at), await pool.trancheAssets(JUNIOR, at)];
  // a. the book
  expect(classAssets[0] + classAssets[1], `book split: ${ctx}`).to.equal(total);
  const balance = await cash.balanceOf(await pool.getAddress(), at);
  const float = await pool.floatHeld(at);
  const claimable = await pool.claimableCash(at);
  const ownCash = total - (await pool.totalDebt(at)) + (await pool.reservesOwed(at));
  expect(balance, `pool balance = cash + float + claimable: ${ctx}`).to.equal(ownCash + float + claimable);
  let claimableSum = 0n;
  let earmarkSum = 0n;
  for (const [i, v] of vaults.entries()) {
    const supply = await v.totalSupply(at);
    expect(await v.totalAssets(at), `vault assets: ${ctx}`).to.equal(classAssets[i]);
    expect(await pool.trancheShares(i, at), `share count: ${ctx}`).to.equal(supply);
    // b. no class pays out more than it holds
    let worth = await v.convertToAssets(await v.balanceOf(await v.getAddress(), at), at);
    for (const p of providers) worth += await v.convertToAssets(await v.balanceOf(p.address, at), at);
    expect(worth, `class ${i} owes more than it holds: ${ctx}`).to.be.lessThanOrEqual(classAssets[i]);
    // c. Σ shares × price = assets, up to what the virtual shares hold
    const all = await v.convertToAssets(supply, at);
    const virtual = (classAssets[i] * 10n ** 6n) / (supply + 10n ** 6n) + 1n;
    expect(all, `Σ shares × price above assets: ${ctx}`).to.be.lessThanOrEqual(classAssets[i]);
    expect(classAssets[i] - all, `Σ shares × price far from assets: ${ctx}`).to.be.lessThanOrEqual(virtual);
    // f. the queue's own sums
    const [head, tail] = await pool.queueOf(i, at);
    const pending = new Map<string, bigint>();
    let locked = 0n;
    const fractions: [bigint, bigint][] = [];
    for (let k = 0n; k < tail; k++) {
      const r = await pool.requestOf(i, k + 1n, at);
      pending.set(r.controller, (pending.get(r.controller) ?? 0n) + r.remaining);
      earmarkSum += r.earmark;
      if (r.remaining === 0n) expect(r.earmark, `earmark left on a served request: ${ctx}`).to.equal(0n);
      locked += r.remaining;
      if (k < head) expect(r.remaining, `finished before the head: ${ctx}`).to.equal(0n);
      const size = requested.get(`${i}:${k + 1n}`)!;
      fractions.push([size - r.remaining, size]);
    }
    expect(await v.balanceOf(await v.getAddress(), at), `locked shares = pending: ${ctx}`).to.equal(locked);
    for (const [controller, shares] of pending) {
      const [pendingShares] = await pool.redemptionsOf(i, controller, at);
      expect(pendingShares, `pending of ${controller}: ${ctx}`).to.equal(shares);
    }
    for (const p of new Set([...providers.map((x) => x.address), ...pending.keys()])) {
      const [, , ca] = await pool.redemptionsOf(i, p, at);
      claimableSum += ca;
    }
    // e. in each class, a request's served share never exceeds an earlier one's (up to a few shares of the gate's
    // rounding per window)
    for (let k = 1; k < fractions.length; k++) {
      const [s0, r0] = fractions[k - 1];
      const [s1, r1] = fractions[k];
      expect(s0 * r1 + 64n * (r0 + r1), `served out of order in class ${i}: ${ctx}`).to.be.greaterThanOrEqual(s1 * r0);
    }
  }
  expect(earmarkSum, `earmarks: ${ctx}`).to.equal(await pool.earmarked(at));
  expect(claimableSum, `claimable: ${ctx}`).to.equal(claimable);
  for (const p of providers) {
    expect(await cash.balanceOf(p.address, at), `wallet of ${p.address}: ${ctx}`).to.equal(expected.get(p.address));
  }
}

async function stateDigest(fx: PoolFixture, providers: HardhatEthersSigner[]): Promise<string> {
  const { pool } = fx;
  const values: bigint[] = [
    await pool.trancheShares(SENIOR),
    await pool.trancheShares(JUNIOR),
    await pool.earmarked(),
    await pool.claimableCash(),
    await pool.totalScaledDebt(),
    await pool.deficit(),
    await pool.seniorDeficit(),
    await pool.floatHeld(),
    ...(await pool.queueOf(SENIOR)),
    ...(await pool.queueOf(JUNIOR)),
  ];
  for (const p of providers) {
    values.push(
      await fx.cash.balanceOf(p.address),
      await fx.senior.balanceOf(p.address),
      await fx.junior.balanceOf(p.address),
    );
  }
  return hre.ethers.keccak256(hre.ethers.AbiCoder.defaultAbiCoder().encode(["uint256[]"], [values]));
}

function isRevert(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /revert|VM Exception/.test(message);
}
