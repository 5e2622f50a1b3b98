import { id, parseEther, type Signer, type TypedDataDomain } from "ethers";
import type { ApiCredentials } from "../../../offchain/api";
import { acknowledgementTypedData } from "../../../offchain/kyc";
import { agreementDomain, agreementMessage, agreementTypedData } from "../../../offchain/settlement/legal";
import { MarginEngine__factory } from "../../../typechain-types";
import { CNY, DemoError, ok } from "../../lib/demoPlatform";
import { WAD, OWN_FUNDS, LEVERAGE, USERS, type User } from "../plan";
import { say, heading } from "../narration";
import type { DemoRun } from "../run";

/** Three new users, each with a wallet (gas from the dev faucet) and a client API key issued by the operator. */
export async function users(run: DemoRun, n: number): Promise<void> {
  heading(n, "Users: client A, a market maker and a capital provider get wallets and API keys");
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
    say(`  ${user.padEnd(12)} ${address}  API key ${run.state.keys[user].keyId} (role ${me.role})`);
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
  say(
    `  ${user.padEnd(12)} signed the ${doc.title.en} (${doc.title["zh-CN"]}) v${doc.version}, ` +
      `keccak256 ${body.contentHash.slice(0, 18)}…, signature ${signature.slice(0, 18)}…`,
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
  );
  const people: Record<User, [string, string]> = {
    clientA: ["Li Wei", "1982-03-14"],
    marketMaker: ["Zhang Min", "1975-11-02"],
    provider: ["Chen Jing", "1968-07-21"],
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
    say(
      `  ${user.padEnd(12)} quiz ${s.score}/${s.total} right: quiz tier ${s.quizTier}, questionnaire tier ` +
        `${s.riskTier} → tier ${app.tier} = min(${s.riskTier}, ${s.quizTier})`,
    );
    app = await signAcknowledgement(run, user, app.id, "risk-disclosure");
    if (app.status === "pending_review") {
      say(`  ${user}: held for review (${app.reviewReasons.join("; ")}); the KYC officer approves`);
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
    );
  }
}

/** The operator prepares the agreement, both parties sign it (EIP-712) and the operator anchors it on-chain. */
export async function agreement(run: DemoRun, n: number): Promise<void> {
  heading(n, "Financing agreement: prepared, signed by client A and the platform, anchored on-chain");
  const pool = await run.d.pool();
  const now = await run.d.chainTime();
  const agreementId = id(`marginbridge-demo:${run.state.runId}:clientA`);
  const platform = await run.d.devAccount(4); // the operator signs for the platform on the dev chain
  const engine = MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider);
  const params = await engine.params();
  const tier1 = await engine.tierRisk(1);
  const bps = (wad: bigint): number => Number((wad * 10_000n) / WAD);
  const terms = {
    schema: "marginbridge/financing-terms@1",
    agreementId,
    version: 1,
    client: { address: run.address("clientA"), name: "Li Wei", accountRef: `MB-${run.state.runId}` },
    platform: { address: await platform.getAddress(), name: "MarginBridge Platform Ltd." },
    currency: { symbol: "mbCNY", iso4217: "CNY", decimals: 6 },
    ownFunds: OWN_FUNDS.toString(),
    leverageBps: Number(LEVERAGE) * 10_000,
    financedAmount: ((LEVERAGE - 1n) * OWN_FUNDS).toString(),
    interest: {
      annualRateBps: bps(BigInt(pool.pool.annualRate)),
      dayCount: "ACT/365",
      rounding: "cumulative-ceil",
      payment: "at-settlement",
    },
    margin: {
      initialMarginBps: bps(tier1.floor + tier1.initialBuffer),
      maintenanceMarginBps: bps(tier1.floor),
      liquidationMarginBps: bps((tier1.floor * params.hardFloorFactor) / WAD),
      marginCallWindowSeconds: Number(params.gracePeriod),
    },
    liquidation: {
      assetOrder: ["mbSMALL", "mbTECH", "mbBANK"],
      closeFactorBps: 10_000,
      penaltyBps: 500,
      penaltyToLiquidatorBps: bps(params.liquidatorShare),
      penaltyToInsuranceFundBps: 10_000 - bps(params.liquidatorShare),
    },
    fees: [
      {
        code: "COMMISSION",
        label: "Brokerage commission",
        kind: "per-trade",
        bps: 3,
        minimum: (5n * CNY).toString(),
      },
      { code: "MGMT", label: "Account management", kind: "daily-on-own-funds", annualBps: 200 },
    ],
    profitSplit: { clientBps: 8_000, capitalProvidersBps: 1_000, platformBps: 1_000 },
    defaultWaterfall: ["client-collateral", "insurance-fund", "capital-pool"],
    effectiveAt: now,
    expiresAt: now + 365 * 86_400,
    governingLaw: "Governed by the laws of the People's Republic of China",
    disputeResolution: "Disputes go first to the MarginBridge dispute desk, then to arbitration in Shanghai.",
  };
  const operator = run.d.staff("operator");
  type AgreementView = {
    status: string;
    termsHash: string;
    document: Parameters<typeof agreementMessage>[0];
    anchor: { txHash: string; blockNumber: number } | null;
  };
  const prepared = ok(
    await operator.post<AgreementView>("/v1/agreements", { terms }, `demo-${run.state.runId}-agreement`),
    "POST /v1/agreements",
  );
  say(`  prepared ${agreementId}: terms hash ${prepared.termsHash}`);
  say(
    `  ${prepared.document.text
      .split("\n")
      .find((l) => l.startsWith("4. Margin"))
      ?.slice(0, 160)}…`,
  );
  const domain = agreementDomain(run.cfg.chainId!, run.contract("AgreementRegistry"));
  const td = agreementTypedData(domain, agreementMessage(prepared.document));
  const sign = async (signer: Signer): Promise<string> => signer.signTypedData(td.domain, td.types, td.message);
  ok(
    await run.d
      .user("clientA")
      .post(
        `/v1/agreements/${agreementId}/signatures`,
        { signature: await sign(run.wallet("clientA")) },
        `demo-${run.state.runId}-sign-client`,
      ),
    "client signature",
  );
  ok(
    await operator.post(
      `/v1/agreements/${agreementId}/signatures`,
      { signature: await sign(platform) },
      `demo-${run.state.runId}-sign-platform`,
    ),
    "platform signature",
  );
  const applicationId = run.state.facts["kycApplication.clientA"];
  if (typeof applicationId !== "string")
    throw new DemoError("client A's KYC application is not known: run the kyc step");
  say("  client A reads the financing agreement summary (融资合同摘要) and signs its acknowledgement; the operator");
  say("  anchors only an agreement whose client has acknowledged it in an approved KYC file");
  await signAcknowledgement(run, "clientA", applicationId, "financing-summary");
  const anchored = ok(
    await operator.post<AgreementView>(
      `/v1/agreements/${agreementId}/anchor`,
      undefined,
      `demo-${run.state.runId}-anchor`,
    ),
    "POST /v1/agreements/:id/anchor",
  );
  run.state.facts.agreementId = agreementId;
  say(
    `  signed by both parties; status ${anchored.status}, anchored in AgreementRegistry (tx ${anchored.anchor?.txHash}, block ${anchored.anchor?.blockNumber})`,
  );
}
