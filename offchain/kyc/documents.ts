import { keccak256, toUtf8Bytes } from "ethers";

export const DOCUMENT_LANGUAGES = ["zh-CN", "en"] as const;
export type DocumentLanguage = (typeof DOCUMENT_LANGUAGES)[number];

export const DOCUMENT_IDS = ["risk-disclosure", "financing-summary"] as const;
export type DocumentId = (typeof DOCUMENT_IDS)[number];

/** A versioned client document; the Chinese text governs, the English one is its translation. */
export interface ClientDocument {
  id: DocumentId;
  version: number;
  title: Record<DocumentLanguage, string>;
  text: Record<DocumentLanguage, string>;
  /** keccak256 of the exact UTF-8 bytes of each language's text (what the client signs). */
  contentHash: Record<DocumentLanguage, string>;
  governingLanguage: "zh-CN";
}

const RISK_DISCLOSURE_ZH = `风险揭示书（第 1 版）

尊敬的客户：融资融券（保证金交易）具有杠杆效应，风险远高于普通证券交易。请您在开通前仔细阅读本风险揭示书。

一、杠杆放大损失。在 N 倍杠杆下，持仓市值每下跌 1%，您的权益约减少 N%。3 倍杠杆下下跌 20%，权益损失约 60%。

二、追加保证金。当账户权益低于维持保证金时，平台发出追加保证金通知；您须在通知规定的期限内追加担保品或减仓。

三、强制平仓。未在期限内补足的，平台有权按当时市场价格强制卖出您的担保品，并收取平仓罚金，无需再征得您的同意。平仓价格可能远低于追保时的价格。

四、损失可能超过保证金。价格跳空或流动性不足时，平仓所得可能不足以偿还借款本息，差额仍由您承担。

五、利息持续计收。融资利息按借款金额每日计收，持仓亏损时照样计收。

六、杠杆上限。您可使用的杠杆不超过您的适当性等级（风险问卷与适当性测评中较低者）所对应的上限，由链上身份登记合约执行。

七、技术与价格风险。价格由多个报价方签名的预言机提供；预言机暂停或价格过期时，您可能无法借款或交易。

本揭示书以中文文本为准，英文译本仅供参考。签署确认即表示您已阅读并理解上述风险。`;

const RISK_DISCLOSURE_EN = `Risk Disclosure Statement (version 1)

Dear client: margin financing is leveraged and carries far greater risk than ordinary securities trading. Please read this statement carefully before you open the account.

1. Leverage magnifies losses. At N× leverage, every 1% fall in your positions takes about N% of your equity. At 3×, a 20% fall loses about 60% of your equity.

2. Margin calls. When your equity falls below the maintenance margin, the platform issues a margin call; you must add collateral or reduce positions by its deadline.

3. Forced liquidation. If you do not, the platform may sell your collateral at the market price of the time, with a liquidation penalty, without asking you again. The sale price may be far below the price at the margin call.

4. Losses may exceed your deposit. When prices gap or liquidity is thin, the sale may not cover the loan and its interest; you still owe the rest.

5. Interest keeps accruing. Interest on the financed amount accrues daily on the amount borrowed, also while your positions lose value.

6. Leverage limit. You may not use more leverage than your suitability tier allows (the lower of the risk questionnaire's and the suitability quiz's tiers); the on-chain identity registry enforces it.

7. Technical and price risk. Prices come from an oracle signed by several reporters; while it is paused or its prices are stale you may be unable to borrow or trade.

The Chinese text of this statement governs; this English translation is for reference. By acknowledging it you confirm you have read and understood these risks.`;

const SUMMARY_ZH = `融资合同摘要（第 1 版）

本摘要概述您与平台签订的融资合同的主要条款；完整条款以双方签署并在链上存证的合同为准。

一、融资金额：您以自有资金为担保，按杠杆倍数获得融资，倍数不超过您的适当性等级上限。

二、利息：按实际天数/365 计息，每日累计，结算时支付。

三、保证金：合同载明初始保证金、维持保证金与平仓线；低于维持保证金即触发追保，追保期限届满未补足的触发强制平仓。

四、平仓：按合同所列顺序卖出担保品；平仓罚金部分归平仓执行人，其余归风险准备金。

五、费用：交易佣金与账户管理费按合同所列费率收取。

六、违约与损失分担：担保品不足以清偿时，依次由您的担保品、风险准备金、资金池承担；您对剩余欠款仍负清偿责任。

七、适用法律与争议解决：适用中华人民共和国法律；争议先提交平台争议处理部门，再提交上海仲裁。

本摘要以中文文本为准，英文译本仅供参考。`;

const SUMMARY_EN = `Financing Agreement Summary (version 1)

This summary outlines the main terms of the financing agreement between you and the platform; the full terms are those of the agreement both parties sign and anchor on-chain.

1. Financed amount: you are financed a multiple of your own funds, which serve as collateral; the multiple never exceeds your suitability tier's limit.

2. Interest: actual days over 365, accrued daily, paid at settlement.

3. Margin: the agreement states the initial margin, the maintenance margin and the liquidation line; falling below the maintenance margin triggers a margin call, and a margin call not met by its deadline triggers forced liquidation.

4. Liquidation: collateral is sold in the order the agreement lists; part of the liquidation penalty goes to the liquidator, the rest to the insurance fund.

5. Fees: brokerage commission and account management fees at the rates the agreement lists.

6. Default and loss sharing: when collateral does not cover the debt, losses fall on your collateral, then the insurance fund, then the capital pool; you remain liable for what is still owed.

7. Governing law and disputes: the laws of the People's Republic of China; disputes go first to the platform's dispute desk, then to arbitration in Shanghai.

The Chinese text of this summary governs; this English translation is for reference.`;

function document(
  id: DocumentId,
  version: number,
  title: Record<DocumentLanguage, string>,
  text: Record<DocumentLanguage, string>,
): ClientDocument {
  const contentHash = {
    "zh-CN": keccak256(toUtf8Bytes(text["zh-CN"])),
    en: keccak256(toUtf8Bytes(text.en)),
  };
  return { id, version, title, text, contentHash, governingLanguage: "zh-CN" };
}

/** The current version of each document (an older version is never acknowledged again). */
export const CLIENT_DOCUMENTS: Record<DocumentId, ClientDocument> = {
  "risk-disclosure": document(
    "risk-disclosure",
    1,
    { "zh-CN": "风险揭示书", en: "Risk Disclosure Statement" },
    { "zh-CN": RISK_DISCLOSURE_ZH, en: RISK_DISCLOSURE_EN },
  ),
  "financing-summary": document(
    "financing-summary",
    1,
    { "zh-CN": "融资合同摘要", en: "Financing Agreement Summary" },
    { "zh-CN": SUMMARY_ZH, en: SUMMARY_EN },
  ),
};
