import { TRANSLATION_HEADING } from "./agreementDocument";
import type { TermChange } from "./scheduledChange";
import { wadDecimal, wadPercent } from "./scheduleText";
import { percentText } from "./terms";

/** What an amendment says, before it has an id-independent text: the agreement, the operation, the changes. */
export interface AmendmentTextInput {
  amendmentId: string;
  agreementId: string;
  operationId: string;
  contract: string | null;
  function: string;
  effectiveAt: number;
  changes: TermChange[];
}

/** Names of the terms' leaves a client reads, Chinese and English; any other leaf is shown by its path alone. */
const LABELS: Record<string, [string, string]> = {
  floor: ["维持保证金率下限", "maintenance margin floor"],
  cap: ["维持保证金率上限", "maintenance margin cap"],
  liquidityAddOn: ["流动性附加", "liquidity add-on"],
  volatilityMultiplier: ["波动率乘数", "volatility multiplier"],
  initialBuffer: ["初始保证金缓冲", "initial margin buffer"],
  fixedVolatility: ["固定模式日波动率", "fixed-mode daily volatility"],
  haircut: ["折算率扣减", "haircut"],
  liquidationPenalty: ["强制平仓罚金", "liquidation penalty"],
  windowCap: ["每窗口最多处置数量", "seizure cap per window"],
  liquidityTier: ["流动性等级", "liquidity tier"],
  warningBuffer: ["预警缓冲", "warning buffer"],
  hardFloorFactor: ["立即强制平仓线系数", "hard floor factor"],
  targetBuffer: ["平仓目标缓冲", "liquidation target buffer"],
  liquidatorShare: ["清算人罚金份额", "liquidator's share of the penalty"],
  gracePeriod: ["追加保证金期限（秒）", "margin call window (seconds)"],
  marginCallWindowSeconds: ["追加保证金期限（秒）", "margin call window (seconds)"],
  oracleGrace: ["价格安全期（秒）", "price safety period (seconds)"],
  liquidationWindow: ["处置窗口（秒）", "seizure window (seconds)"],
  dustValue: ["整体处置阈值", "dust value"],
  base: ["利率模型基础利率", "rate model base rate"],
  slope1: ["利率模型斜率一", "rate model slope 1"],
  slope2: ["利率模型斜率二", "rate model slope 2"],
  kink: ["利率模型拐点", "rate model kink"],
  initialMarginBps: ["初始保证金率", "initial margin"],
  maintenanceMarginBps: ["维持保证金率", "maintenance margin"],
  liquidationMarginBps: ["强制平仓线", "liquidation line"],
  penaltyBps: ["最高强制平仓罚金", "highest liquidation penalty"],
  penaltyToLiquidatorBps: ["罚金归清算人部分", "penalty to the liquidator"],
  penaltyToInsuranceFundBps: ["罚金归保险基金部分", "penalty to the insurance fund"],
  dynamicCapMaintenanceBps: ["动态模式维持保证金率上限", "dynamic-mode maintenance cap"],
  fixedVolatilityBps: ["固定模式日波动率", "fixed-mode daily volatility"],
  fixedMaintenanceBps: ["固定模式维持保证金率", "fixed-mode maintenance margin"],
  fixedInitialBps: ["固定模式初始保证金率", "fixed-mode initial margin"],
};

/** 18-decimal ratios among the leaves (shown as percentages); volatilityMultiplier is a plain 18-decimal number. */
const WAD_RATIOS = new Set([
  "floor",
  "cap",
  "liquidityAddOn",
  "initialBuffer",
  "fixedVolatility",
  "haircut",
  "liquidationPenalty",
  "warningBuffer",
  "hardFloorFactor",
  "targetBuffer",
  "liquidatorShare",
  "base",
  "slope1",
  "slope2",
  "kink",
]);

function leafOf(path: string): string {
  return path.slice(path.lastIndexOf(".") + 1);
}

/** A value as the agreement's text writes it (exact; the raw value stays in `changes`). */
function shown(path: string, v: string): string {
  const leaf = leafOf(path);
  if (v === "" || !/^-?\d+$/.test(v)) return v === "" ? "—" : v;
  if (WAD_RATIOS.has(leaf)) return wadPercent(BigInt(v));
  if (leaf === "volatilityMultiplier") return wadDecimal(BigInt(v));
  if (leaf.endsWith("Bps")) return percentText(Number(v));
  return v;
}

function changeLine(c: TermChange, lang: "zh" | "en"): string {
  const label = LABELS[leafOf(c.path)];
  const name = label ? (lang === "zh" ? `${label[0]}（${c.path}）` : `${label[1]} (${c.path})`) : c.path;
  return `   - ${name}${lang === "zh" ? "：" : ": "}${shown(c.path, c.from)} → ${shown(c.path, c.to)}`;
}

/** "2026-12-09 12:00:00 UTC" */
export function utcText(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/**
 * The amendment's readable text: the governing Chinese, the translation heading, the English; what changes, from
 * when, and the client's choice — countersign, or exit before it takes effect; without an answer by then the
 * amendment lapses: the change applies and the right to exit on account of it ends. Deterministic.
 */
export function renderAmendmentText(a: AmendmentTextInput): string {
  const when = `${utcText(a.effectiveAt)} (unix ${a.effectiveAt})`;
  const call = `${a.contract ?? "?"}.${a.function}`;
  const zh = [
    `融资合同修订 ${a.amendmentId}`,
    `所修订合同：${a.agreementId}`,
    ``,
    `1. 变更。一项链上参数变更已通过访问管理合约（AccessManager）排期（操作 ${a.operationId}：${call}）。自 ${when} 起，本合同的以下条款随之变更：`,
    ...a.changes.map((c) => changeLine(c, "zh")),
    `2. 客户的选择。客户可在上述生效时间之前会签本修订，或退出本合同；退出后合同按现行（未经修订的）条款终止并进行最终结算（第 7 条）。`,
    `3. 未答复。若客户在生效时间之前既未会签也未退出，本修订即告失效（lapsed）：变更按链上所示适用于本合同，客户就本修订享有的退出权随之终止。`,
    `4. 撤回。若该操作在生效前被取消，本修订即撤回，本合同不作任何变更。`,
    ``,
  ];
  const en = [
    `AMENDMENT ${a.amendmentId}`,
    `to financing agreement ${a.agreementId}`,
    ``,
    `1. Change. A change to the chain's parameters was scheduled through the AccessManager (operation ${a.operationId}: ${call}). From ${when} it changes these terms of the agreement:`,
    ...a.changes.map((c) => changeLine(c, "en")),
    `2. The Client's choice. Before that time the Client may countersign this amendment, or exit the agreement; on exit the agreement ends under its current, unamended terms and is settled (clause 7).`,
    `3. No answer. If the Client has neither countersigned nor exited by then, the amendment lapses: the change applies to the agreement as the chain applies it, and the Client's right to exit on account of this amendment ends.`,
    `4. Withdrawal. If the operation is cancelled before it takes effect, this amendment is withdrawn and nothing in the agreement changes.`,
  ];
  return `${zh.join("\n")}\n${TRANSLATION_HEADING}\n\n${en.join("\n")}\n`;
}
