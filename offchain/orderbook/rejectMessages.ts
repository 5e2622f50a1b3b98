import { RejectCode } from "./types";

/**
 * What a client reads when pre-trade risk refuses an order, in English and Simplified Chinese (the 422's
 * `details.messages`; `details.reject` is the code). `{instrument}` is replaced by the instrument's id.
 */
export const REJECT_MESSAGES: Partial<Record<RejectCode, { en: string; "zh-CN": string }>> = {
  [RejectCode.KycNotVerified]: {
    en: "Your identity verification is missing or has expired.",
    "zh-CN": "您的身份认证缺失或已过期。",
  },
  [RejectCode.UnknownAccount]: { en: "Unknown margin account.", "zh-CN": "未知的保证金账户。" },
  [RejectCode.BehaviourRestricted]: {
    en: "A risk officer restricted this account: it may only sell what it holds until the restriction is cleared.",
    "zh-CN": "风控人员已限制该账户：在限制解除前只能卖出所持证券。",
  },
  [RejectCode.UnknownInstrument]: { en: "Unknown instrument {instrument}.", "zh-CN": "未知的交易品种 {instrument}。" },
  [RejectCode.MarginStateBlocksRisk]: {
    en: "The account is in a margin call or worse: it may only reduce its positions.",
    "zh-CN": "账户处于追加保证金或更差状态：只能减少持仓。",
  },
  [RejectCode.BalanceFrozen]: {
    en: "The balance this order would move is frozen.",
    "zh-CN": "该订单涉及的余额已被冻结。",
  },
  [RejectCode.InsufficientInitialMargin]: {
    en: "After this trade the account would not meet its initial margin.",
    "zh-CN": "成交后账户将不满足初始保证金要求。",
  },
  [RejectCode.InsufficientBalance]: {
    en: "The margin account does not hold the cash or the {instrument} this order (with your open orders) needs.",
    "zh-CN": "保证金账户中的资金或 {instrument} 不足以支持该订单（含未成交订单）。",
  },
  [RejectCode.BorrowingPaused]: {
    en: "New risk is paused on an asset the account holds.",
    "zh-CN": "账户持有的某一资产已暂停新增风险。",
  },
  [RejectCode.GroupExposureLimit]: {
    en: "The accounts linked to this one (same identity or beneficial owner) would together exceed their exposure limit.",
    "zh-CN": "与本账户关联的账户（同一身份或同一实际受益人）合计将超过其风险敞口上限。",
  },
  [RejectCode.GroupDailyNotionalLimit]: {
    en: "The accounts linked to this one (same identity or beneficial owner) reached their daily trading limit together.",
    "zh-CN": "与本账户关联的账户（同一身份或同一实际受益人）合计已达到当日交易额上限。",
  },
  [RejectCode.LeverageLimit]: {
    en: "The trade would exceed the account's leverage limit.",
    "zh-CN": "该交易将超过账户的杠杆上限。",
  },
  [RejectCode.InstrumentExposureLimit]: {
    en: "The account's exposure to {instrument} would exceed its limit.",
    "zh-CN": "账户对 {instrument} 的敞口将超过上限。",
  },
  [RejectCode.SectorExposureLimit]: {
    en: "The account's exposure to the sector of {instrument} would exceed its limit.",
    "zh-CN": "账户对 {instrument} 所属行业的敞口将超过上限。",
  },
  [RejectCode.AccountExposureLimit]: {
    en: "The account's total exposure would exceed its limit.",
    "zh-CN": "账户总敞口将超过上限。",
  },
  [RejectCode.PlatformVolumeLimit]: {
    en: "Platform concentration limit: financed holdings of {instrument} across all accounts would exceed the allowed share of its average daily volume.",
    "zh-CN": "平台集中度限制：所有账户以融资持有的 {instrument} 将超过其日均成交量的允许比例。",
  },
  [RejectCode.PlatformSectorLimit]: {
    en: "Platform concentration limit: financed holdings in the sector of {instrument} across all accounts would exceed the sector's cap.",
    "zh-CN": "平台集中度限制：所有账户以融资持有的 {instrument} 所属行业资产将超过该行业上限。",
  },
  [RejectCode.DailyOrderLimit]: { en: "Daily order limit reached.", "zh-CN": "已达到每日下单次数上限。" },
  [RejectCode.DailyNotionalLimit]: { en: "Daily notional limit reached.", "zh-CN": "已达到每日成交金额上限。" },
  [RejectCode.OrderRateLimit]: { en: "Too many orders per second.", "zh-CN": "每秒下单过多。" },
  [RejectCode.PriceBand]: {
    en: "The limit price is outside the band around the oracle price of {instrument}.",
    "zh-CN": "限价超出 {instrument} 预言机价格的允许范围。",
  },
  [RejectCode.ReduceOnly]: {
    en: "A protective order may only reduce your {instrument} position; it is larger than what you hold.",
    "zh-CN": "保护性订单只能减少您的 {instrument} 持仓；其数量超过了您的持仓。",
  },
  [RejectCode.ProtectiveStopRequired]: {
    en: "Your leverage tier requires every buy of {instrument} to carry a stop close enough to the entry price.",
    "zh-CN": "您的杠杆等级要求每笔 {instrument} 买单都须附带距离买入价足够近的止损单。",
  },
  [RejectCode.OracleUnavailable]: {
    en: "No safe oracle price for {instrument} (or for an asset the account holds).",
    "zh-CN": "{instrument}（或账户持有的资产）暂无安全的预言机价格。",
  },
};

/** Both languages' messages for a reject code, with the instrument filled in; undefined for codes without one. */
export function rejectMessages(code: string, instrument: string): { en: string; "zh-CN": string } | undefined {
  const m = REJECT_MESSAGES[code as RejectCode];
  if (m === undefined) return undefined;
  return {
    en: m.en.replaceAll("{instrument}", instrument),
    "zh-CN": m["zh-CN"].replaceAll("{instrument}", instrument),
  };
}
