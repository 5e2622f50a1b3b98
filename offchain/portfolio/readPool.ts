import type { EventLog, Log } from "ethers";
import { lineChart } from "../risk";
import { AppError } from "../shared/errors";
import type { PortfolioChain } from "./chainReader";
import type { BadDebtEvent, PoolSummary } from "./schemas";

const MAX_UINT256 = (1n << 256n) - 1n;
/** Epochs shown (the newest ones); each costs one getEpoch and one reserveRatio per asset. */
export const EPOCHS_SHOWN = 30;

/**
 * Use case: what a capital provider checks — the pool's figures, the insurance fund, every loss event since
 * deployment (engine defaults, pool write-offs, insurance payouts, deficit resolutions) and the reserve ratio per
 * asset of the latest epochs, all read from the chain.
 */
export async function readPool(chain: PortfolioChain): Promise<PoolSummary> {
  const { pool, senior, fund, ledger, engine, deployment, gateway } = chain;
  const blockTag = await gateway.provider.getBlockNumber();
  const at = { blockTag };
  const cashToken = deployment.tokens.find((t) => t.kind === "cash");
  if (!cashToken) throw new AppError("CONFIG_INVALID", "the deployment has no cash token");

  // Shares and share price are the senior class's (the pool's figures are the whole book's).
  const shareDecimals = Number(await senior.decimals());
  const [
    totalAssets,
    availableCash,
    totalDebt,
    utilisation,
    annualRate,
    ratePerDay,
    reserveFactor,
    reservesOwed,
    deficit,
    totalWrittenOff,
    totalShares,
    sharePrice,
    fundBalance,
    covered,
    latestEpoch,
  ] = await Promise.all([
    pool.totalAssets(at),
    pool.availableCash(at),
    pool.totalDebt(at),
    pool.utilisation(at),
    pool.borrowRate(at),
    pool.ratePerDay(at),
    pool.reserveFactor(at),
    pool.reservesOwed(at),
    pool.deficit(at),
    pool.totalWrittenOff(at),
    senior.totalSupply(at),
    senior.convertToAssets(10n ** BigInt(shareDecimals), at),
    fund.balance(at),
    fund.totalCovered(at),
    ledger.latestEpoch(at),
  ]);

  const range = [deployment.deployBlock, blockTag] as const;
  const [settled, writtenOff, paid, coveredDeficit, acknowledged] = await Promise.all([
    engine.queryFilter(engine.filters.DefaultSettled(), ...range),
    pool.queryFilter(pool.filters.BadDebtWrittenOff(), ...range),
    fund.queryFilter(fund.filters.BadDebtCovered(), ...range),
    pool.queryFilter(pool.filters.DeficitCovered(), ...range),
    pool.queryFilter(pool.filters.DeficitAcknowledged(), ...range),
  ]);
  const ev = (
    kind: BadDebtEvent["kind"],
    log: EventLog | Log,
    account: string | null,
    amount: bigint,
    details: Record<string, bigint | string>,
  ): BadDebtEvent => ({
    kind,
    block: log.blockNumber,
    txHash: log.transactionHash,
    account,
    amount: amount.toString(),
    details: Object.fromEntries(Object.entries(details).map(([k, v]) => [k, v.toString()])),
  });
  const badDebtEvents = [
    ...settled.map((l) =>
      ev("default_settled", l, l.args.account, l.args.fromAccount + l.args.fromInsurance + l.args.writtenOff, {
        fromAccount: l.args.fromAccount,
        fromInsurance: l.args.fromInsurance,
        writtenOff: l.args.writtenOff,
      }),
    ),
    ...writtenOff.map((l) =>
      ev("written_off", l, l.args.borrower, l.args.assets, {
        juniorLoss: l.args.juniorLoss,
        seniorLoss: l.args.seniorLoss,
        deficitAfter: l.args.deficitAfter,
      }),
    ),
    ...paid.map((l) =>
      ev("insurance_covered", l, l.args.account, l.args.paid, {
        requested: l.args.requested,
        balanceAfter: l.args.balanceAfter,
      }),
    ),
    ...coveredDeficit.map((l) =>
      ev("deficit_covered", l, null, l.args.assets, { payer: l.args.payer, deficitAfter: l.args.deficitAfter }),
    ),
    ...acknowledged.map((l) => ev("deficit_acknowledged", l, null, l.args.deficit, {})),
  ].sort((a, b) => a.block - b.block);

  const tokenByAddress = new Map(deployment.tokens.map((t) => [t.address.toLowerCase(), t]));
  const first = latestEpoch > BigInt(EPOCHS_SHOWN) ? latestEpoch - BigInt(EPOCHS_SHOWN) + 1n : 1n;
  const epochs = await Promise.all(
    Array.from({ length: Number(latestEpoch - first + 1n) }, async (_, i) => {
      const e = first + BigInt(i);
      const rec = await ledger.getEpoch(e, at);
      const ratios = await Promise.all(rec.assets.map((_a, k) => ledger.reserveRatio(e, k, at)));
      return {
        epoch: Number(e),
        snapshotBlock: Number(rec.snapshotBlock),
        publishedAt: Number(rec.publishedAt),
        root: rec.root,
        leafCount: Number(rec.leafCount),
        perAsset: rec.assets.map((a, k) => {
          const t = tokenByAddress.get(a.toLowerCase());
          return {
            token: { symbol: t?.symbol ?? a, address: a, decimals: t?.decimals ?? 0 },
            liabilities: rec.liabilities[k].toString(),
            debt: rec.debt[k].toString(),
            reserves: rec.reserves[k].toString(),
            ratio: ratios[k] === MAX_UINT256 ? null : ratios[k].toString(),
          };
        }),
      };
    }),
  );

  return {
    block: blockTag,
    cashToken: { symbol: cashToken.symbol, address: cashToken.address, decimals: cashToken.decimals },
    pool: {
      totalAssets: totalAssets.toString(),
      availableCash: availableCash.toString(),
      totalDebt: totalDebt.toString(),
      utilisation: utilisation.toString(),
      annualRate: annualRate.toString(),
      ratePerDay: ratePerDay.toString(),
      reserveFactor: reserveFactor.toString(),
      reservesOwed: reservesOwed.toString(),
      deficit: deficit.toString(),
      totalWrittenOff: totalWrittenOff.toString(),
      totalShares: totalShares.toString(),
      shareDecimals,
      sharePrice: sharePrice.toString(),
    },
    insuranceFund: { balance: fundBalance.toString(), totalCovered: covered[0].toString(), claims: Number(covered[1]) },
    badDebtEvents,
    reserves: { latestEpoch: Number(latestEpoch), epochs, chartSvg: reserveChart(epochs) },
  };
}

/** Ratios above this (%) are drawn at it, so that a cash ratio of thousands of percent cannot flatten the rest. */
export const CHART_CEILING_PERCENT = 250;

/**
 * Reserve ratio (%) per asset over the epochs. An asset with nothing owed has no point in that epoch; one above the
 * ceiling is drawn at the ceiling and its legend gives the latest real figure (the table below the chart has all).
 */
function reserveChart(epochs: PoolSummary["reserves"]["epochs"]): string | null {
  if (epochs.length === 0) return null;
  const symbols = epochs[epochs.length - 1].perAsset.map((p) => p.token.symbol);
  const series = symbols.map((symbol) => {
    const values = epochs.map((e) => {
      const r = e.perAsset.find((p) => p.token.symbol === symbol)?.ratio;
      // Ratios are WAD; percent keeps four decimals through the conversion to a number.
      return r === null || r === undefined ? undefined : Number(BigInt(r) / 10n ** 12n) / 1e4;
    });
    const shown = values.filter((v): v is number => v !== undefined);
    const latest = shown[shown.length - 1];
    const name =
      latest === undefined
        ? `${symbol} (nothing owed)`
        : shown.some((v) => v > CHART_CEILING_PERCENT)
          ? `${symbol} (off scale: ${Number(latest.toPrecision(4))}%)`
          : symbol;
    return { name, values: values.map((v) => (v === undefined ? v : Math.min(v, CHART_CEILING_PERCENT))) };
  });
  return lineChart({
    title: "Reserve ratio per asset (reserves / client liabilities)",
    xLabels: epochs.map((e) => `epoch ${e.epoch}`),
    series,
    yLabel: "reserve ratio (%)",
    references: [{ name: "100% (fully backed)", value: 100 }],
    formatY: (y) => `${Number(y.toPrecision(4))}%`,
  });
}
