import type { PortfolioChain } from "./chainReader";
import { readPool } from "./readPool";
import type { DisclosureSummary } from "./schemas";

const STATE_LIQUIDATABLE = 3n;
/** Open accounts valued for the leverage distribution (the newest borrowers first beyond it). */
export const LEVERAGE_ACCOUNTS_MAX = 500;
/** Leverage buckets: (cash + positions) / equity, upper bounds exclusive, in tenths. */
export const LEVERAGE_BUCKETS = [
  { label: "< 1.5×", below: 15n },
  { label: "1.5–2×", below: 20n },
  { label: "2–3×", below: 30n },
  { label: "3–5×", below: 50n },
  { label: "≥ 5×", below: null },
] as const;

const month = (unix: number): string => new Date(unix * 1000).toISOString().slice(0, 7);

/**
 * Use case: the public disclosure page — what anyone may check against the chain without a key: the reserves per
 * asset per epoch, the insurance fund's history and every payout, defaults and write-offs per month, every
 * liquidation with the time from the account's recorded Liquidatable state to the liquidation, the leverage of the
 * open accounts, both share classes, and the fee table the contracts apply. All read from the chain at one block.
 */
export async function readDisclosures(chain: PortfolioChain): Promise<DisclosureSummary> {
  const { engine, pool, fund, senior, junior, deployment, gateway } = chain;
  const provider = gateway.provider;
  const pooled = await readPool(chain);
  const blockTag = pooled.block;
  const at = { blockTag };
  const range = [deployment.deployBlock, blockTag] as const;
  const [liquidated, states, settled, income, payouts, borrowed] = await Promise.all([
    engine.queryFilter(engine.filters.Liquidated(), ...range),
    engine.queryFilter(engine.filters.AccountStateChanged(undefined, undefined, STATE_LIQUIDATABLE), ...range),
    engine.queryFilter(engine.filters.DefaultSettled(), ...range),
    fund.queryFilter(fund.filters.IncomeReceived(), ...range),
    fund.queryFilter(fund.filters.BadDebtCovered(), ...range),
    engine.queryFilter(engine.filters.Borrowed(), ...range),
  ]);
  const times = new Map<number, number>();
  const timeOf = async (block: number): Promise<number> => {
    if (!times.has(block)) times.set(block, (await provider.getBlock(block))!.timestamp);
    return times.get(block)!;
  };
  await Promise.all([...liquidated, ...states, ...settled, ...income, ...payouts].map((e) => timeOf(e.blockNumber)));

  // Liquidations: one row per account and transaction (its segments summed), with the time since the account was
  // last recorded Liquidatable before it.
  const rows = new Map<string, DisclosureSummary["liquidations"][number]>();
  for (const e of liquidated) {
    const key = `${e.transactionHash}:${e.args.account}`;
    const row = rows.get(key) ?? {
      account: e.args.account,
      block: e.blockNumber,
      time: times.get(e.blockNumber)!,
      txHash: e.transactionHash,
      segments: 0,
      value: "0",
      debtRepaid: "0",
      liquidatableAt: null as number | null,
      secondsToLiquidation: null as number | null,
    };
    row.segments += 1;
    row.value = (BigInt(row.value) + e.args.value).toString();
    row.debtRepaid = (BigInt(row.debtRepaid) + e.args.debtRepaid).toString();
    rows.set(key, row);
  }
  for (const row of rows.values()) {
    const since = states
      .filter((s) => s.args.account === row.account && s.blockNumber <= row.block)
      .map((s) => times.get(s.blockNumber)!)
      .pop();
    if (since !== undefined) {
      row.liquidatableAt = since;
      row.secondsToLiquidation = row.time - since;
    }
  }

  // Defaults and write-offs per calendar month (UTC).
  const months = new Map<
    string,
    { defaults: number; fromAccount: bigint; fromInsurance: bigint; writtenOff: bigint }
  >();
  for (const e of settled) {
    const m = month(times.get(e.blockNumber)!);
    const x = months.get(m) ?? { defaults: 0, fromAccount: 0n, fromInsurance: 0n, writtenOff: 0n };
    x.defaults += 1;
    x.fromAccount += e.args.fromAccount;
    x.fromInsurance += e.args.fromInsurance;
    x.writtenOff += e.args.writtenOff;
    months.set(m, x);
  }

  // Leverage of the open accounts (debt > 0): (cash + positions) / equity, bucketed; negative equity apart.
  const borrowers = [...new Set(borrowed.map((e) => e.args.account))].slice(-LEVERAGE_ACCOUNTS_MAX);
  const views = await Promise.all(borrowers.map((a) => engine.accountView(a, at)));
  const counts = LEVERAGE_BUCKETS.map(() => 0);
  let underwater = 0;
  let open = 0;
  for (const v of views) {
    if (v.debt === 0n) continue;
    open += 1;
    if (v.equity <= 0n) {
      underwater += 1;
      continue;
    }
    const tenths = ((v.cash + v.positionValue) * 10n) / BigInt(v.equity);
    const i = LEVERAGE_BUCKETS.findIndex((b) => b.below === null || tenths < b.below);
    counts[i] += 1;
  }

  // The fee table the contracts apply: the pool's rate model and reserve factor, the senior target, and per asset
  // its tier, haircut and liquidation penalty (the liquidator's share of it from the engine's parameters).
  const [rateModel, reserveFactor, tranches, params, listed] = await Promise.all([
    pool.rateModel(at),
    pool.reserveFactor(at),
    pool.trancheParams(at),
    engine.params(at),
    engine.listedAssets(at),
  ]);
  const bySymbol = new Map(deployment.tokens.map((t) => [t.address.toLowerCase(), t.symbol]));
  const assets = await Promise.all(
    listed.map(async (a) => {
      const c = await engine.assetConfig(a, at);
      return {
        asset: a,
        symbol: bySymbol.get(a.toLowerCase()) ?? a,
        liquidityTier: Number(c.liquidityTier),
        haircut: c.haircut.toString(),
        liquidationPenalty: c.liquidationPenalty.toString(),
      };
    }),
  );

  const classes = await Promise.all(
    (
      [
        ["senior", senior, 0],
        ["junior", junior, 1],
      ] as const
    ).map(async ([name, vault, id]) => {
      const decimals = Number(await vault.decimals(at));
      const [assetsOf, shares, price] = await Promise.all([
        pool.trancheAssets(id, at),
        pool.trancheShares(id, at),
        vault.convertToAssets(10n ** BigInt(decimals), at),
      ]);
      return {
        class: name,
        totalAssets: assetsOf.toString(),
        totalShares: shares.toString(),
        shareDecimals: decimals,
        sharePrice: price.toString(),
      };
    }),
  );

  return {
    block: blockTag,
    cashToken: pooled.cashToken,
    reserves: pooled.reserves,
    insuranceFund: {
      balance: pooled.insuranceFund.balance,
      history: [
        ...income.map((e) => ({
          kind: "income" as const,
          block: e.blockNumber,
          time: times.get(e.blockNumber)!,
          txHash: e.transactionHash,
          amount: e.args.amount.toString(),
          balanceAfter: e.args.balanceAfter.toString(),
          account: null,
        })),
        ...payouts.map((e) => ({
          kind: "payout" as const,
          block: e.blockNumber,
          time: times.get(e.blockNumber)!,
          txHash: e.transactionHash,
          amount: e.args.paid.toString(),
          balanceAfter: e.args.balanceAfter.toString(),
          account: e.args.account,
        })),
      ].sort((a, b) => a.block - b.block),
    },
    lossesByMonth: [...months].map(([m, x]) => ({
      month: m,
      defaults: x.defaults,
      fromAccount: x.fromAccount.toString(),
      fromInsurance: x.fromInsurance.toString(),
      writtenOff: x.writtenOff.toString(),
    })),
    liquidations: [...rows.values()].sort((a, b) => a.block - b.block),
    leverage: {
      openAccounts: open,
      underwater,
      buckets: LEVERAGE_BUCKETS.map((b, i) => ({ label: b.label, accounts: counts[i] })),
    },
    classes,
    fees: {
      rateModel: {
        base: rateModel.base.toString(),
        slope1: rateModel.slope1.toString(),
        slope2: rateModel.slope2.toString(),
        kink: rateModel.kink.toString(),
      },
      annualRate: pooled.pool.annualRate,
      reserveFactor: reserveFactor.toString(),
      seniorTargetRate: tranches.seniorRate.toString(),
      liquidatorShareOfPenalty: params.liquidatorShare.toString(),
      assets,
    },
  };
}
