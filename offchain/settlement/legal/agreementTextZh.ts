import { formatUnits } from "./amounts";
import { dailyRateText } from "./accrual";
import { AGREEMENT_TEMPLATE, agreementFigures } from "./agreementFigures";
import { dateOfTimestamp } from "./days";
import { performanceFeeClause, scheduleClauses } from "./scheduleText";
import {
  leverageText,
  maintenanceBreachReturn,
  percentText,
  returnText,
  type FinancingTerms,
  type WaterfallStep,
} from "./terms";

const STEP_ZH: Record<WaterfallStep, string> = {
  "client-collateral": "客户抵押品",
  "insurance-fund": "保险基金",
  "capital-pool": "资金池",
};

function marginModeClauseZh(t: FinancingTerms): string[] {
  const m = t.margin.mode;
  if (m === undefined) return [];
  const chosen =
    m.chosen === "fixed" ? `客户选择固定模式，至 ${m.fixedUntil}（该日起恢复动态模式）。` : "客户选择动态模式。";
  return [
    `4a. 保证金模式。${chosen}动态模式：上述保证金率为下限，随市场波动率（MarginBridge 预言机的日波动率）即时上调，维持保证金率最高至 ${percentText(m.dynamicCapMaintenanceBps)}，无需通知，市场平稳后回落。固定模式：整个期限内初始保证金率 ${percentText(m.fixedInitialBps)}、维持保证金率 ${percentText(m.fixedMaintenanceBps)}，不随市场变化——即动态规则在日波动率 ${percentText(m.fixedVolatilityBps)} 时的保证金率，此为确定性的代价。仅在无欠款时可变更模式。紧急情况下平台可即时上调任何保证金率（由其风险守护人公开并说明理由）；下调须经通知期。`,
  ];
}

function feeLineZh(t: FinancingTerms, f: FinancingTerms["fees"][number], money: (v: bigint) => string): string {
  if (f.kind === "per-trade")
    return `${f.code} ${f.label}：每笔成交金额的 ${percentText(f.bps)}，每笔最低 ${money(f.minimum)}。`;
  if (f.kind === "daily-on-own-funds")
    return `${f.code} ${f.label}：自有资金的年化 ${percentText(f.annualBps)}，按自然日（1/365）计收。`;
  return `${f.code} ${f.label}：一次性 ${money(f.amount)}，于${f.when === "opening" ? "开立时" : "最终结算时"}收取。`;
}

/** The governing Chinese text of the agreement, clause for clause the same as the English translation. */
export function renderAgreementTextZh(t: FinancingTerms): string {
  const d = t.currency.decimals;
  const { money, position, day, year } = agreementFigures(t);
  const s = t.profitSplit;
  const l = t.liquidation;
  const lines = [
    `融资协议 ${t.agreementId}`,
    `版本 ${t.version}${t.replaces ? `，取代协议 ${t.replaces}` : ""}。模板 ${AGREEMENT_TEMPLATE}。`,
    ``,
    `客户：${t.client.name}（账户 ${t.client.accountRef}，地址 ${t.client.address}）；`,
    `平台：${t.platform.name}（地址 ${t.platform.address}），代表 MarginBridge 资金池的资金提供方。`,
    ``,
    `1. 期限。自 ${dateOfTimestamp(t.effectiveAt)}（unix ${t.effectiveAt}）至 ${dateOfTimestamp(t.expiresAt)}（unix ${t.expiresAt}）。`,
    `2. 自有资金与杠杆。客户提供 ${money(t.ownFunds)}（自有资金）。杠杆为 ${leverageText(t.leverageBps)} 倍：客户可持仓至 ${money(position)}，其中 ${money(t.financedAmount)} 为融资（融资金额）。金额以 ${t.currency.symbol}（${d} 位小数）计，与 ${t.currency.iso4217} 1:1。`,
    `3. 利息。按未偿融资本金年化 ${percentText(t.interest.annualRateBps)}，ACT/365：本金未偿的每一自然日按年利率除以 365 计息（全额融资每日 ${dailyRateText(t.financedAmount, t.interest.annualRateBps, d)}，实收 ${formatUnits(day, d)}）。每日利息按累计方式向上取整至最小单位，总额超出精确值不超过一个单位。利息于最终结算时优先支付。`,
    `4. 保证金。初始保证金率 ${percentText(t.margin.initialMarginBps)}，维持保证金率 ${percentText(t.margin.maintenanceMarginBps)}（保证金比率 = 权益 / 持仓市值）。低于维持保证金率时账户进入追加保证金状态：禁止新增风险，客户须在 ${t.margin.marginCallWindowSeconds} 秒内补足或减仓。低于 ${percentText(t.margin.liquidationMarginBps)}，或期限届满仍未补足的，账户可立即被强制平仓。价格以 MarginBridge 预言机价格为准。不计利息和费用，持仓价值下跌 ${returnText(-maintenanceBreachReturn(t.leverageBps, t.margin.maintenanceMarginBps))} 时账户触及维持保证金率（r < (m·L − 1) / (L·(1 − m))）。`,
    ...(t.schedule
      ? [`   以上为所有上市资产中最低的保证金率；每一持仓适用其本资产的保证金率（第 4b 条），并随市场波动率变化。`]
      : []),
    ...marginModeClauseZh(t),
    ...scheduleClauses(t, "zh"),
    t.schedule
      ? `5. 强制平仓。按流动性由低到高的顺序处置持仓：${l.assetOrder.join("、")}，仅进行到平仓目标（第 4c 条）为止。每一持仓按预言机价格扣除其本资产罚金（第 4b 条，最高 ${percentText(l.penaltyBps)}）处置；罚金的 ${percentText(l.penaltyToLiquidatorBps)} 归清算人，${percentText(l.penaltyToInsuranceFundBps)} 归保险基金。`
      : `5. 强制平仓。按流动性由低到高的顺序分段处置，每段最多偿还债务的 ${percentText(l.closeFactorBps)}，顺序为：${l.assetOrder.join("、")}。抵押品按预言机价格扣除 ${percentText(l.penaltyBps)} 处置；罚金的 ${percentText(l.penaltyToLiquidatorBps)} 归清算人，${percentText(l.penaltyToInsuranceFundBps)} 归保险基金。`,
    `6. 费用。`,
    ...t.fees.map((f) => `   - ${feeLineZh(t, f, money)}`),
    `   按全额融资未偿一年、未发生强制平仓计算的最坏情况费用：${money(year.total)}；持仓年收益率须至少达到 ${percentText(Number(year.breakEvenReturnBps))}，客户方有盈利。`,
    `7. 最终结算。融资结束时平掉全部持仓，所得按以下顺序分配：(a) 利息，(b) 融资金额，(c) 费用，(d) 客户自有资金，(e) 剩余利润按客户 ${percentText(s.clientBps)}、资金提供方 ${percentText(s.capitalProvidersBps)}、平台 ${percentText(s.platformBps)} 分配（资金提供方与平台份额向下取整，余数归客户）。亏损由客户承担，以整个账户为限。`,
    ...performanceFeeClause(t, "zh"),
    `8. 违约。超出账户的损失按以下顺序承担：${t.defaultWaterfall.map((w) => STEP_ZH[w]).join("，其次")}。在法律允许的范围内，客户对差额仍负有责任。`,
    `9. 记录。每一有持仓的自然日出具对账单，列明持仓、成交、利息、费用、损益与保证金比率。交易在 MarginBridge 链上结算；批次根、交易、预言机轮次与审计日志均为争议证据。`,
    `10. 适用法律与争议解决。${t.governingLaw}。${t.disputeResolution}`,
    ``,
    `双方签署 EIP-712 FinancingAgreement，其 termsHash 对本条款及本文本（中文及英文）作出承诺。`,
  ];
  return lines.join("\n") + "\n";
}
