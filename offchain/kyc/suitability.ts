import { z } from "zod";
import type { SuitabilityRecord } from "../store";

/** The quiz's version: answers are scored only against the version they were given for. */
export const QUIZ_VERSION = 1;

type Text = { "zh-CN": string; en: string };

interface QuizQuestion {
  id: string;
  /** The lowest leverage tier that needs this question answered right. */
  tier: 2 | 3 | 4 | 5;
  prompt: Text;
  options: { id: "a" | "b" | "c"; text: Text }[];
  /** Never served. */
  correct: "a" | "b" | "c";
}

/**
 * The suitability quiz (适当性测评). Tier 1 (no borrowing beyond own funds) needs nothing; tier 2 needs the basic
 * questions (what a margin call is, the leverage arithmetic); tier 3 adds liquidation and loss beyond the deposit;
 * tier 4 the price a forced sale gets; tier 5 every question.
 */
export const QUIZ: readonly QuizQuestion[] = [
  {
    id: "margin-call",
    tier: 2,
    prompt: {
      "zh-CN": "什么是追加保证金通知（追保）？",
      en: "What is a margin call?",
    },
    options: [
      {
        id: "a",
        text: {
          "zh-CN": "平台提供更多融资额度的邀请",
          en: "An offer of more credit from the platform",
        },
      },
      {
        id: "b",
        text: {
          "zh-CN": "账户权益低于维持保证金，须在期限内追加担保品或减仓的通知",
          en: "A notice that your equity fell below the maintenance margin: add collateral or reduce positions by the deadline",
        },
      },
      { id: "c", text: { "zh-CN": "证券分红的通知", en: "A notice of a dividend on your securities" } },
    ],
    correct: "b",
  },
  {
    id: "leverage-3x",
    tier: 2,
    prompt: {
      "zh-CN": "在 3 倍杠杆下，持仓市值下跌 20%，您的权益损失多少？",
      en: "At 3× leverage, a 20% fall in your positions loses what share of your equity?",
    },
    options: [
      { id: "a", text: { "zh-CN": "20%", en: "20%" } },
      { id: "b", text: { "zh-CN": "约 6.7%", en: "About 6.7%" } },
      { id: "c", text: { "zh-CN": "60%", en: "60%" } },
    ],
    correct: "c",
  },
  {
    id: "liquidation",
    tier: 3,
    prompt: {
      "zh-CN": "若未在期限内补足追保，会发生什么？",
      en: "What happens if you do not meet a margin call by its deadline?",
    },
    options: [
      {
        id: "a",
        text: {
          "zh-CN": "平台可按市价强制卖出您的担保品（强制平仓）并收取罚金，无需再征得您的同意",
          en: "The platform may sell your collateral at market (forced liquidation) with a penalty, without asking you again",
        },
      },
      {
        id: "b",
        text: {
          "zh-CN": "持仓被冻结，直到价格回升",
          en: "The positions are frozen until prices recover",
        },
      },
      { id: "c", text: { "zh-CN": "借款被免除", en: "The loan is forgiven" } },
    ],
    correct: "a",
  },
  {
    id: "loss-beyond-deposit",
    tier: 3,
    prompt: {
      "zh-CN": "您的损失可能超过您存入的保证金吗？",
      en: "Can you lose more than you deposited?",
    },
    options: [
      { id: "a", text: { "zh-CN": "不会，最多损失全部保证金", en: "No, at most the whole deposit" } },
      {
        id: "b",
        text: {
          "zh-CN": "会：价格跳空下跌时，平仓所得可能不足以偿还借款，差额仍由您承担",
          en: "Yes: when prices gap down, the sale may not cover the debt, and you still owe the rest",
        },
      },
      { id: "c", text: { "zh-CN": "只有在 5 级杠杆下才会", en: "Only at tier 5" } },
    ],
    correct: "b",
  },
  {
    id: "forced-sale-price",
    tier: 4,
    prompt: {
      "zh-CN": "强制平仓按什么价格成交？",
      en: "At what price does a forced liquidation sell?",
    },
    options: [
      { id: "a", text: { "zh-CN": "您的买入价", en: "The price you bought at" } },
      { id: "b", text: { "zh-CN": "追保通知发出时的价格", en: "The price when the margin call was issued" } },
      {
        id: "c",
        text: {
          "zh-CN": "平仓时的市场价格，可能远低于追保时的价格",
          en: "The market price at the time of the sale, which may be far below the price at the margin call",
        },
      },
    ],
    correct: "c",
  },
  {
    id: "interest",
    tier: 5,
    prompt: {
      "zh-CN": "融资利息如何计算？",
      en: "How does interest on the financed amount accrue?",
    },
    options: [
      {
        id: "a",
        text: {
          "zh-CN": "按借款金额每日计息，持仓亏损时照样计息",
          en: "Daily on the amount borrowed, also while the positions lose value",
        },
      },
      { id: "b", text: { "zh-CN": "只在持仓盈利时计息", en: "Only while the positions gain" } },
      { id: "c", text: { "zh-CN": "不计息", en: "It does not accrue" } },
    ],
    correct: "a",
  },
  {
    id: "leverage-5x",
    tier: 5,
    prompt: {
      "zh-CN": "在 5 倍杠杆下，持仓市值下跌多少会使您的权益归零？",
      en: "At 5× leverage, what fall in your positions wipes out your equity?",
    },
    options: [
      { id: "a", text: { "zh-CN": "50%", en: "50%" } },
      { id: "b", text: { "zh-CN": "20%", en: "20%" } },
      { id: "c", text: { "zh-CN": "5%", en: "5%" } },
    ],
    correct: "b",
  },
];

const Option = z.enum(["a", "b", "c"]);

/** The client's answers: the quiz version and one option per question, every question answered, nothing else. */
export const SuitabilitySchema = z
  .object({
    quizVersion: z.literal(QUIZ_VERSION, {
      errorMap: () => ({ message: `must be the current quiz version ${QUIZ_VERSION}` }),
    }),
    answers: z.object(Object.fromEntries(QUIZ.map((q) => [q.id, Option])) as Record<string, typeof Option>).strict(),
  })
  .strict();
export type SuitabilityAnswers = z.infer<typeof SuitabilitySchema>;

/** The quiz as served: prompts and options in both languages, never the answers. */
export function publicQuiz(): { quizVersion: number; questions: Omit<QuizQuestion, "correct">[] } {
  return { quizVersion: QUIZ_VERSION, questions: QUIZ.map(({ correct: _correct, ...q }) => q) };
}

/** Scores the answers server-side; the tier offered is the lower of the questionnaire's and the quiz's. */
export function scoreSuitability(s: SuitabilityAnswers, riskTier: number): SuitabilityRecord {
  const correct = Object.fromEntries(QUIZ.map((q) => [q.id, s.answers[q.id] === q.correct]));
  let quizTier = 1;
  for (const tier of [2, 3, 4, 5]) {
    if (!QUIZ.filter((q) => q.tier <= tier).every((q) => correct[q.id])) break;
    quizTier = tier;
  }
  return {
    quizVersion: s.quizVersion,
    answers: { ...s.answers },
    score: Object.values(correct).filter(Boolean).length,
    total: QUIZ.length,
    correct,
    quizTier,
    riskTier,
    tier: Math.min(riskTier, quizTier),
  };
}
