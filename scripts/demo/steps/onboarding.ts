import { id, parseEther, type TypedDataDomain } from "ethers";
import type { ApiCredentials } from "../../../offchain/api";
import { acknowledgementTypedData } from "../../../offchain/kyc";
import type { MarginModesSummary } from "../../../offchain/portfolio";
import { AgreementBinding__factory } from "../../../typechain-types";
import { DemoError, ok, pct } from "../../lib/demoPlatform";
import { WAD, OWN_FUNDS, LEVERAGE, USERS, type User } from "../plan";
import { say, heading } from "../narration";
import { financingRequest, signAndAnchor, type AgreementView } from "../agreements";
import type { DemoRun } from "../run";

/** Three new users, each with a wallet (gas from the dev faucet) and a client API key issued by the operator. */
export async function users(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "Users: client A, a market maker, a capital provider, client B and client C get wallets and API keys",
    "用户：客户 A、做市商、资金方、客户 B 和客户 C 各自获得钱包和 API 密钥",
  );
  const faucet = await run.d.devAccount(0);
  for (const user of USERS) {
    const address = run.address(user);
    if ((await run.d.provider.getBalance(address)) === 0n) {
      await (await faucet.sendTransaction({ to: address, value: parseEther("10") })).wait();
    }
    if (!run.state.keys[user]) {
      const key = ok(
        await run.d
          .staff("operator")
          .post<ApiCredentials & { role: string }>(
            "/v1/admin/api-keys",
            { role: "client", subject: address, label: `demo ${run.state.runId} ${user}` },
            `demo-${run.state.runId}-key-${user}`,
          ),
        "POST /v1/admin/api-keys",
      );
      run.state.keys[user] = { keyId: key.keyId, secret: key.secret };
      run.d.saveState();
    }
    const me = ok(await run.d.user(user).get<{ role: string; subject: string }>("/v1/me"), "GET /v1/me");
    const keyId = run.state.keys[user].keyId;
    say(
      `  ${user.padEnd(12)} ${address}  API key ${keyId} (role ${me.role})`,
      `  ${user.padEnd(12)} ${address}  API 密钥 ${keyId}（角色 ${me.role}）`,
    );
  }
}

/**
 * The answers each user gives to the suitability quiz (GET /v1/kyc/suitability): client A and the market maker
 * answer every question right; the capital provider believes its loss stops at its deposit, so the quiz caps it at
 * tier 2 whatever its questionnaire earns (it lends, it does not borrow).
 */
const RIGHT: Record<string, string> = {
  "margin-call": "b",
  "leverage-3x": "c",
  liquidation: "a",
  "loss-beyond-deposit": "b",
  "forced-sale-price": "c",
  interest: "a",
  "leverage-5x": "b",
};
const QUIZ_CHOICES: Record<User, Record<string, string>> = {
  clientA: RIGHT,
  marketMaker: RIGHT,
  provider: { ...RIGHT, "loss-beyond-deposit": "a" },
  clientB: RIGHT,
  clientC: RIGHT,
};

interface ApplicationView {
  id: string;
  status: string;
  tier: number;
  score: number;
  maxLeverage: string;
  txHash: string | null;
  reviewReasons: string[];
  suitability: { score: number; total: number; quizTier: number; riskTier: number; tier: number } | null;
  acknowledgements?: { documentId: string; contentHash: string; signature: string }[];
}

interface DocumentsView {
  documents: { id: string; version: number; title: Record<string, string>; contentHash: Record<string, string> }[];
  eip712: { domain: TypedDataDomain } | null;
}

/**
 * The user signs its acknowledgement of a document (EIP-712, the wallet of the application) after reading the
 * Chinese text, unless its KYC file holds one already (a re-run).
 */
export async function signAcknowledgement(
  run: DemoRun,
  user: User,
  applicationId: string,
  documentId: "risk-disclosure" | "financing-summary",
): Promise<ApplicationView> {
  const api = run.d.user(user);
  const file = ok(
    await api.get<ApplicationView>(`/v1/kyc/applications/${applicationId}`),
    "GET /v1/kyc/applications/:id",
  );
  const held = file.acknowledgements?.find((k) => k.documentId === documentId);
  if (held) return file;
  const docs = ok(await api.get<DocumentsView>("/v1/kyc/documents"), "GET /v1/kyc/documents");
  const doc = docs.documents.find((d) => d.id === documentId)!;
  if (!docs.eip712) throw new DemoError("the service publishes no acknowledgement domain (no deployment)");
  const body = {
    documentId,
    version: doc.version,
    contentHash: doc.contentHash["zh-CN"],
    language: "zh-CN" as const,
    acknowledgedAt: Math.floor(Date.now() / 1000), // the service checks it against its own clock
  };
  const td = acknowledgementTypedData(docs.eip712.domain, {
    applicationId,
    account: run.address(user),
    ...body,
  });
  const signature = await run.wallet(user).signTypedData(td.domain, td.types, td.message);
  const done = ok(
    await api.post<{ application: ApplicationView }>(
      `/v1/kyc/applications/${applicationId}/acknowledgements`,
      { ...body, signature },
      `demo-${run.state.runId}-ack-${documentId}-${user}-${body.acknowledgedAt}`,
    ),
    "POST /v1/kyc/applications/:id/acknowledgements",
  );
  const [hash, sig] = [body.contentHash.slice(0, 18), signature.slice(0, 18)];
  say(
    `  ${user.padEnd(12)} signed the ${doc.title.en} (${doc.title["zh-CN"]}) v${doc.version}, ` +
      `keccak256 ${hash}…, signature ${sig}…`,
    `  ${user.padEnd(12)} 签署了《${doc.title["zh-CN"]}》v${doc.version} 的确认，keccak256 ${hash}…，签名 ${sig}…`,
  );
  return done.application;
}

/**
 * Each user answers the suitability quiz and applies through the API; the service screens, scores both (the tier
 * is the lower of the questionnaire's and the quiz's), and writes the KYC registry on-chain once the user has
 * signed the risk disclosure.
 */
export async function kyc(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "KYC: each user answers the suitability quiz, applies, and signs the risk disclosure; KycRegistry is written",
    "KYC：每位用户完成适当性测评、提交申请并签署风险揭示书；随后写入 KycRegistry",
  );
  const people: Record<User, [string, string]> = {
    clientA: ["Li Wei", "1982-03-14"],
    marketMaker: ["Zhang Min", "1975-11-02"],
    provider: ["Chen Jing", "1968-07-21"],
    clientB: ["Wang Fang", "1986-09-30"],
    clientC: ["Liu Yang", "1979-05-08"],
  };
  const quiz = ok(
    await run.d
      .user("clientA")
      .get<{ quizVersion: number; questions: { id: string; tier: number }[] }>("/v1/kyc/suitability"),
    "GET /v1/kyc/suitability",
  );
  say(
    `  the suitability quiz v${quiz.quizVersion}: ${quiz.questions.length} questions in Chinese and English ` +
      `(margin calls, leverage arithmetic, liquidation, loss beyond the deposit); tier n needs every question up to n right`,
    `  适当性测评 v${quiz.quizVersion}：共 ${quiz.questions.length} 题，中英文对照` +
      `（追加保证金、杠杆计算、强制平仓、超出本金的损失）；等级 n 要求答对 n 级及以下的全部题目`,
  );
  for (const user of USERS) {
    const [name, born] = people[user];
    const body = {
      jurisdiction: 156,
      identity: {
        fullName: name,
        dateOfBirth: born,
        nationality: "CN",
        documentType: "passport",
        documentNumber: `E${id(`${run.state.runId}:${user}`).slice(2, 10).toUpperCase()}`,
        homeAddress: "1 Century Avenue, Pudong, Shanghai",
      },
      questionnaire: {
        investmentExperienceYears: 8,
        annualIncomeCny: "600000",
        netAssetsCny: "3000000",
        lossTolerancePct: 30,
        objective: "growth",
        understandsMarginCalls: true,
      },
      suitability: { quizVersion: quiz.quizVersion, answers: QUIZ_CHOICES[user] },
      creditScore: 760,
    };
    let app = ok(
      await run.d.user(user).post<ApplicationView>("/v1/kyc/applications", body, `demo-${run.state.runId}-kyc-${user}`),
      "POST /v1/kyc/applications",
    );
    const s = app.suitability!;
    const rule = `min(${s.riskTier}, ${s.quizTier})`;
    say(
      `  ${user.padEnd(12)} quiz ${s.score}/${s.total} right: quiz tier ${s.quizTier}, questionnaire tier ` +
        `${s.riskTier} → tier ${app.tier} = ${rule}`,
      `  ${user.padEnd(12)} 测评答对 ${s.score}/${s.total}：测评等级 ${s.quizTier}，问卷等级 ${s.riskTier} → 等级 ${app.tier} = ${rule}`,
    );
    app = await signAcknowledgement(run, user, app.id, "risk-disclosure");
    if (app.status === "pending_review") {
      const reasons = app.reviewReasons.join("; ");
      say(
        `  ${user}: held for review (${reasons}); the KYC officer approves`,
        `  ${user}：转人工审核（${reasons}）；KYC 审核员批准`,
      );
      app = ok(
        await run.d
          .staff("kyc_officer")
          .post<ApplicationView>(
            `/v1/kyc/applications/${app.id}/approve`,
            { reason: "documents checked by the KYC desk" },
            `demo-${run.state.runId}-approve-${user}`,
          ),
        "POST /v1/kyc/applications/:id/approve",
      );
    }
    if (app.status !== "approved") throw new DemoError(`${user}'s application is ${app.status}`);
    run.state.facts[`kycApplication.${user}`] = app.id;
    run.d.saveState();
    say(
      `  ${user.padEnd(12)} ${name}: ${app.status}, score ${app.score}, tier ${app.tier} ` +
        `(leverage up to ${app.maxLeverage}×), KycRegistry tx ${app.txHash}`,
      `  ${user.padEnd(12)} ${name}：${app.status}（已批准），评分 ${app.score}，等级 ${app.tier}` +
        `（杠杆最高 ${app.maxLeverage}×），KycRegistry 交易 ${app.txHash}`,
    );
  }
}

/** The operator prepares the agreement, both parties sign it (EIP-712) and the operator anchors it on-chain. */
export async function agreement(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "Financing agreement: prepared, signed by client A and the platform, anchored on-chain",
    "融资协议：起草，由客户 A 与平台签署，并锚定上链",
  );
  const now = await run.d.chainTime();
  const agreementId = id(`marginbridge-demo:${run.state.runId}:clientA`);
  // Fixed or dynamic margins, side by side before client A chooses (GET /v1/risk/margin-modes).
  const modes = ok(await run.d.public.get<MarginModesSummary>("/v1/risk/margin-modes"), "GET /v1/risk/margin-modes");
  for (const a of modes.assets) {
    const [dm, di, fm, fi] = [a.dynamic.maintenance, a.dynamic.initial, a.fixed.maintenance, a.fixed.initial].map((x) =>
      pct(x),
    );
    const [dl, fl] = [a.dynamic.maxLeverage, a.fixed.maxLeverage].map((x) => {
      const hundredths = BigInt(x) / 10n ** 16n;
      return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, "0")}×`;
    });
    say(
      `  ${a.symbol} (tier ${a.liquidityTier}): dynamic now ${dm} / ${di} (up to ${dl}), follows the market; ` +
        `fixed ${fm} / ${fi} (up to ${fl}) for the term, at σ ${pct(a.fixed.volatility)} a day`,
      `  ${a.symbol}（流动性等级 ${a.liquidityTier}）：动态模式当前 ${dm} / ${di}（最高 ${dl}），随市场变化；` +
        `固定模式 ${fm} / ${fi}（最高 ${fl}），整个期限不变，按日波动率 ${pct(a.fixed.volatility)} 定价`,
    );
  }
  say(
    "  client A chooses the dynamic mode (lower margins in calm markets, higher when the market turns)",
    "  客户 A 选择动态模式（市场平稳时保证金较低，市场剧烈波动时随之提高）",
  );
  const request = await financingRequest(run, {
    agreementId,
    client: "clientA",
    name: "Li Wei",
    accountRef: `MB-${run.state.runId}`,
    ownFunds: OWN_FUNDS,
    leverageBps: Number(LEVERAGE) * 10_000,
    effectiveAt: now,
  });
  const operator = run.d.staff("operator");
  const prepared = ok(
    await operator.post<AgreementView>("/v1/agreements/generate", request, `demo-${run.state.runId}-agreement`),
    "POST /v1/agreements/generate",
  );
  say(
    `  prepared ${agreementId}: terms hash ${prepared.termsHash}`,
    `  已起草 ${agreementId}：条款哈希 ${prepared.termsHash}`,
  );
  const marginClause = `  ${prepared.document.text
    .split("\n")
    .find((l) => l.startsWith("4. Margin"))
    ?.slice(0, 160)}…`;
  say(marginClause, marginClause);
  say(
    "  client A and the platform sign; client A reads the financing agreement summary (融资合同摘要) and signs its " +
      "acknowledgement; the operator anchors only an agreement whose client has acknowledged it in an approved KYC file",
    "  客户 A 与平台签署；客户 A 阅读《融资合同摘要》并签署确认；运营方只锚定客户已在获批 KYC 档案中确认过摘要的协议",
  );
  const anchored = await signAndAnchor(run, agreementId, "clientA", prepared.document, "", (application) =>
    signAcknowledgement(run, "clientA", application, "financing-summary"),
  );
  run.state.facts.agreementId = agreementId;
  const { txHash, blockNumber } = anchored.anchor ?? {};
  say(
    `  signed by both parties; status ${anchored.status}, anchored in AgreementRegistry (tx ${txHash}, block ${blockNumber})`,
    `  双方已签署；状态 ${anchored.status}，已锚定于 AgreementRegistry（交易 ${txHash}，区块 ${blockNumber}）`,
  );
  await bindAgreement(run, agreementId);
}

/**
 * Binds a client's margin account (client A's unless named) to its agreement on-chain (AgreementBinding): the operator proposes the agreed
 * leverage and largest penalty through the service (POST /v1/agreements/:id/binding reads them from the signed
 * terms), the client accepts exactly those numbers from its wallet, before it borrows. Safe to re-run.
 */
export async function bindAgreement(
  run: DemoRun,
  agreementId: string,
  user: User = "clientA",
  who: { en: string; zh: string } = { en: "client A", zh: "客户 A" },
): Promise<void> {
  const client = run.wallet(user);
  type Binding = { binding: { state: string; maxLeverage: string; maxPenalty: string; contract: string } };
  const proposed = ok(
    await run.d
      .staff("operator")
      .post<Binding>(
        `/v1/agreements/${agreementId}/binding`,
        undefined,
        `demo-${run.state.runId}-binding${user === "clientA" ? "" : `-${user}`}`,
      ),
    "POST /v1/agreements/:id/binding",
  ).binding;
  const leverage = BigInt(proposed.maxLeverage);
  const penalty = BigInt(proposed.maxPenalty);
  if (proposed.state !== "bound") {
    const binding = AgreementBinding__factory.connect(proposed.contract, client);
    await (await binding.accept(agreementId, leverage, penalty)).wait();
  }
  say(
    `  bound to ${who.en}'s margin account on-chain: borrowing up to ${leverage / WAD}× while the agreement is open, no liquidation penalty above ${pct(penalty)}`,
    `  已在链上绑定${who.zh}的保证金账户：协议有效期内借款不超过 ${leverage / WAD} 倍杠杆，强制平仓罚金不超过 ${pct(penalty)}`,
  );
}
