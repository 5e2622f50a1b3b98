import { formatMoney, formatUnits } from "./amounts";
import type { AssetSchedule, ChainSchedule, FinancingTerms } from "./terms";

const WAD_DIGITS = 18;

/** An 18-decimal number exactly, trailing zeros dropped, at least `min` fraction digits ("3.295", "1"). */
export function wadDecimal(v: bigint, min = 0): string {
  const [whole, frac] = formatUnits(v, WAD_DIGITS).split(".");
  let f = frac.replace(/0+$/, "");
  if (f.length < min) f = f.padEnd(min, "0");
  return f.length === 0 ? whole : `${whole}.${f}`;
}

/** An 18-decimal ratio as an exact percentage with at least two decimals ("15.00%", "3.2950%"). */
export function wadPercent(v: bigint): string {
  return `${wadDecimal(v * 100n, 2)}%`;
}

type Lang = "en" | "zh";

function assetLine(a: AssetSchedule, s: ChainSchedule, lang: Lang): string {
  const r = a.tier;
  const cap =
    a.assetDecimals === 0 ? a.windowCap.toString() : formatUnits(a.windowCap, a.assetDecimals).replace(/\.?0+$/, "");
  if (lang === "zh")
    return `   - ${a.symbol}（${a.address}）：流动性等级 ${a.liquidityTier}；折算率扣减（haircut）${wadPercent(a.haircut)}；维持保证金率 = max(${wadPercent(r.floor)}, ${wadPercent(r.liquidityAddOn)} + ${wadDecimal(r.volatilityMultiplier)} × 日波动率)，上限 ${wadPercent(r.cap)}；初始保证金率 = 维持保证金率 + ${wadPercent(r.initialBuffer)}；固定模式按日波动率 ${wadPercent(r.fixedVolatility)} 计算；强制平仓罚金 ${wadPercent(a.liquidationPenalty)}；每 ${s.params.liquidationWindow} 秒最多处置 ${cap} 单位。`;
  return `   - ${a.symbol} (${a.address}): liquidity tier ${a.liquidityTier}; haircut ${wadPercent(a.haircut)}; maintenance margin = max(${wadPercent(r.floor)}, ${wadPercent(r.liquidityAddOn)} + ${wadDecimal(r.volatilityMultiplier)} × daily volatility), at most ${wadPercent(r.cap)}; initial margin = maintenance + ${wadPercent(r.initialBuffer)}; fixed mode at a daily volatility of ${wadPercent(r.fixedVolatility)}; liquidation penalty ${wadPercent(a.liquidationPenalty)}; at most ${cap} units seized per ${s.params.liquidationWindow} seconds.`;
}

/** Clauses 4b (per-asset schedule) and 4c (engine rules, rate, leverage limit, notice period) of chain terms. */
export function scheduleClauses(t: FinancingTerms, lang: Lang): string[] {
  const s = t.schedule;
  if (s === undefined) return [];
  const p = s.params;
  const m = s.rate.model;
  const dust = `${formatMoney(p.dustValue, t.currency.decimals)} ${t.currency.iso4217}`;
  const assets = s.assets.map((a) => assetLine(a, s, lang));
  if (lang === "zh")
    return [
      `4b. 分资产保证金表。以下数字读取自 MarginBridge 链（链 ID ${s.chainId}，区块 ${s.block}，保证金引擎 ${s.engine}，资金池 ${s.pool}），即引擎对本账户计值、计算保证金和强制平仓时实际适用的数字；每一持仓适用其本资产一行：`,
      ...assets,
      `4c. 引擎规则。权益低于维持保证金要求加持仓市值的 ${wadPercent(p.warningBuffer)} 时发出预警；低于维持保证金要求的 ${wadPercent(p.hardFloorFactor)} 时可立即强制平仓；追加保证金通知给予 ${p.gracePeriod} 秒补足；强制平仓仅进行到权益恢复至维持保证金要求加持仓市值的 ${wadPercent(p.targetBuffer)}（平仓目标）为止；罚金的 ${wadPercent(p.liquidatorShare)} 归清算人，其余归保险基金；价格须已连续安全 ${p.oracleGrace} 秒方可据以处置；价值低于 ${dust} 的持仓整体处置。客户经核验的杠杆上限为 ${wadDecimal(s.maxLeverage)} 倍。利率为资金池的浮动利率：利用率 U 不超过拐点 ${wadPercent(m.kink)} 时为 ${wadPercent(m.base)} + ${wadPercent(m.slope1)} × U / 拐点，超过时再加 ${wadPercent(m.slope2)} × (U − 拐点) / (1 − 拐点)；签署时为年化 ${wadPercent(s.rate.annualRate)}，按 ACT/365 逐自然日计息。通知期：上述任何数字的变更须经访问管理合约（AccessManager）排期，最早在排期后 ${s.noticePeriodSeconds} 秒生效；平台将在生效前就该变更向客户发出修订，客户可在生效前会签或退出。`,
    ];
  return [
    `4b. Per-asset schedule. These numbers were read from the MarginBridge chain (chain id ${s.chainId}, block ${s.block}, margin engine ${s.engine}, pool ${s.pool}); they are what the engine values, margins and liquidates the account with, each position under its own asset's line:`,
    ...assets,
    `4c. Engine rules. A warning is given when equity is below the maintenance requirement plus ${wadPercent(p.warningBuffer)} of the position value; the account may be liquidated at once below ${wadPercent(p.hardFloorFactor)} of the maintenance requirement; a margin call gives ${p.gracePeriod} seconds to cure; a liquidation goes only until equity is back at the maintenance requirement plus ${wadPercent(p.targetBuffer)} of the position value (the liquidation target); the liquidator keeps ${wadPercent(p.liquidatorShare)} of the penalty and the insurance fund the rest; a price must have been safe for ${p.oracleGrace} seconds before a liquidation seizes at it; positions worth less than ${dust} are seized whole. The Client's verified leverage limit is ${wadDecimal(s.maxLeverage)}x. Interest is the pool's floating rate: ${wadPercent(m.base)} + ${wadPercent(m.slope1)} × U / kink up to a utilisation U of ${wadPercent(m.kink)} (the kink), plus ${wadPercent(m.slope2)} × (U − kink) / (1 − kink) above it; ${wadPercent(s.rate.annualRate)} a year at signing, charged per natural day, ACT/365. Notice period: a change to any of these numbers is scheduled through the AccessManager and takes effect no earlier than ${s.noticePeriodSeconds} seconds after it is scheduled; before it does, the Platform issues the Client an amendment, which the Client countersigns or exits before it takes effect.`,
  ];
}

/** Clause 7a: the performance fee with its hurdle and high-water mark. */
export function performanceFeeClause(t: FinancingTerms, lang: Lang): string[] {
  const f = t.performanceFee;
  if (f === undefined) return [];
  const pct = (bps: number): string => `${(bps / 100).toFixed(2)}%`;
  const hwm = `${formatMoney(f.highWaterMark, t.currency.decimals)} ${t.currency.iso4217}`;
  if (lang === "zh")
    return [
      `7a. 业绩报酬。仅就客户资金超过以下两者中较高者的部分收取 ${pct(f.rateBps)}：门槛（自有资金按年化 ${pct(f.hurdleAnnualBps)}、ACT/365 按期限天数增长后的金额，向上取整）与历史最高水位（${hwm}）；其中 ${pct(f.platformBps)} 归平台，${pct(f.capitalProvidersBps)} 归资金提供方（计入资金池，体现在份额价格中）。低于任一线不收取。`,
    ];
  return [
    `7a. Performance fee. ${pct(f.rateBps)} of the Client's funds above the higher of the hurdle (the Own Funds grown at ${pct(f.hurdleAnnualBps)} a year, ACT/365, over the days of the term, rounded up) and the high-water mark (${hwm}); ${pct(f.platformBps)} of it to the Platform and ${pct(f.capitalProvidersBps)} to the capital providers (paid into the pool, visible in its share price). Nothing is taken below either line.`,
  ];
}
