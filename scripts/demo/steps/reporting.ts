import { auditClientProof, formatReport, parseClientProof } from "../../../offchain/reserves";
import { dateOfTimestamp } from "../../../offchain/settlement/legal";
import { BUSINESS_DAY_UTC_OFFSET_MINUTES } from "../../../offchain/settlement/dailyStatements";
import { ReserveLedger__factory } from "../../../typechain-types";
import { DemoError, cny, count, ok, pct, until } from "../../lib/demoPlatform";
import { narrationLang, say, heading } from "../narration";
import type { DemoRun } from "../run";

/** The business day closes; the service builds the daily statement and the final settlement is computed. */
export async function statements(run: DemoRun, n: number): Promise<void> {
  heading(n, "The day closes: daily statement and final settlement", "日终：每日结算单与最终结算");
  const now = await run.d.chainTime();
  const offset = BUSINESS_DAY_UTC_OFFSET_MINUTES * 60;
  const day = dateOfTimestamp(now, BUSINESS_DAY_UTC_OFFSET_MINUTES);
  const toMidnight = 86_400 - ((now + offset) % 86_400);
  await run.d.advanceTime(toMidnight + 600);
  say(`  business day ${day} (Beijing time) closed on the chain`, `  营业日 ${day}（北京时间）已在链上结束`);
  const operator = run.d.staff("operator");
  const built = await until("the indexer to hold the closed day", async () => {
    const r = await operator.post<{ statements: { agreementId: string; account: string; hash: string }[] }>(
      "/v1/statements/daily",
      { day },
    );
    if (r.status === 409) return undefined;
    return ok(r, "POST /v1/statements/daily");
  });
  const agreementId = run.state.facts.agreementId;
  const mine = built.statements.find((s) => s.agreementId === agreementId);
  if (!mine) throw new DemoError(`no statement for client A's agreement on ${day}`);
  say(
    `  ${built.statements.length} statement(s) built; client A's hash ${mine.hash}`,
    `  已生成 ${built.statements.length} 份结算单；客户 A 的哈希 ${mine.hash}`,
  );
  const doc = ok(
    await run.d.user("clientA").get<{ hash: string; body: string }>(`/v1/statements/${agreementId}/${day}`),
    "GET /v1/statements/:agreementId/:day",
  );
  const s = JSON.parse(doc.body) as {
    trades: unknown[];
    positionMovements?: { kind: string; asset: string; quantity: string; realisedPnl: string }[];
    totals: Record<string, string>;
    balances: Record<string, string>;
    margin: { status: string };
  };
  const movements = (s.positionMovements ?? []).map((m) => `${m.kind} ${count(m.quantity)} ${m.asset}`);
  say(
    `  trades ${s.trades.length}; position movements: ${movements.join(", ")}`,
    `  成交 ${s.trades.length} 笔；持仓变动：${movements.join("，")}`,
  );
  const t = s.totals;
  say(
    `  interest ${cny(t.interest)}, fees ${cny(t.fees)}, realised P&L ${cny(t.realisedPnl)}, net P&L ${cny(t.netPnl)}`,
    `  利息 ${cny(t.interest)}，费用 ${cny(t.fees)}，已实现盈亏 ${cny(t.realisedPnl)}，净盈亏 ${cny(t.netPnl)}`,
  );
  const b = s.balances;
  say(
    `  closing cash ${cny(b.closingCash)}, principal ${cny(b.principal)}, equity ${cny(b.equity)}, status ${s.margin.status}`,
    `  期末现金 ${cny(b.closingCash)}，本金 ${cny(b.principal)}，权益 ${cny(b.equity)}，状态 ${s.margin.status}`,
  );

  const terms = ok(
    await operator.get<{ document: { terms: unknown } }>(`/v1/agreements/${agreementId}`),
    "GET agreement",
  ).document.terms;
  const pool = await run.d.pool();
  // Commissions are charged in the statement's cash when trades settle; what the account could not pay (its
  // cash went to the waterfall) is still owed at settlement, as a fee.
  const closingCash = BigInt(s.balances.closingCash);
  const feesDue = [
    { code: "MGMT", label: "Account management", amount: BigInt(s.balances.accruedFees) },
    { code: "COMMISSION", label: "Brokerage commission unpaid", amount: closingCash < 0n ? -closingCash : 0n },
  ].filter((f) => f.amount > 0n);
  const input = {
    terms,
    settledOn: day,
    closingCash: (closingCash > 0n ? closingCash : 0n).toString(),
    principal: s.balances.principal,
    interestDue: s.balances.accruedInterest,
    feesDue: feesDue.map((f) => ({ ...f, amount: f.amount.toString() })),
    insuranceFundAvailable: pool.insuranceFund.balance,
  };
  const settlement = ok(
    await operator.post<{ hash: string; text: string }>("/v1/settlements/compute", { input }),
    "POST /v1/settlements/compute",
  );
  say(
    `  final settlement ${settlement.hash}:`,
    `  最终结算 ${settlement.hash}（以下为结算文件原文，目前仅有英文版）：`,
  );
  for (const line of settlement.text.split("\n").filter((l) => l.trim())) say(`    ${line}`, `    ${line}`);
}

/** The operator publishes an epoch; client A fetches its proof; an auditor checks it and the ratios on-chain. */
export async function reserves(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "Proof of reserves: an epoch is published; an auditor verifies client A's proof on-chain",
    "储备证明：发布一个周期；审计员在链上验证客户 A 的证明",
  );
  const published = ok(
    await run.d
      .staff("operator")
      .post<{ epoch: string; root: string; leafCount: number; txHash: string }>(
        "/v1/reserves/publish",
        { minDepth: 4 },
        `demo-${run.state.runId}-reserves`,
      ),
    "POST /v1/reserves/publish",
  );
  say(
    `  epoch ${published.epoch}: root ${published.root}, ${published.leafCount} accounts, tx ${published.txHash}`,
    `  周期 ${published.epoch}：根 ${published.root}，${published.leafCount} 个账户，交易 ${published.txHash}`,
  );
  const proof = ok(await run.d.user("clientA").get("/v1/reserves/me/proof"), "GET /v1/reserves/me/proof");
  const file = parseClientProof(proof);
  const ledger = ReserveLedger__factory.connect(run.contract("ReserveLedger"), run.d.provider);
  const report = await auditClientProof(file, ledger);
  const title =
    narrationLang() === "en"
      ? `auditor: client A's proof, epoch ${file.epoch}`
      : `审计员：客户 A 的证明，周期 ${file.epoch}`;
  for (const line of formatReport(title, report).split("\n")) say(`  ${line}`, `  ${line}`);
  if (!report.ok) throw new DemoError("client A's proof did not verify");
  const epoch = ok(
    await run.d.public.get<{ assets: { asset: string; liabilities: string; reserves: string; ratio: string }[] }>(
      `/v1/reserves/epochs/${published.epoch}`,
    ),
    "GET /v1/reserves/epochs/:epoch",
  );
  const assets = (await ledger.assets()).map((x) => x.toLowerCase());
  const MAX = 2n ** 256n - 1n;
  for (const a of epoch.assets) {
    const token = run.cfg.tokens.find((t) => t.address.toLowerCase() === a.asset.toLowerCase());
    const onChain = await ledger.reserveRatio(BigInt(published.epoch), assets.indexOf(a.asset.toLowerCase()));
    const ratio = BigInt(a.ratio) === MAX ? "nothing owed" : pct(a.ratio);
    const symbol = (token?.symbol ?? a.asset).padEnd(8);
    const chainRatio = onChain === MAX ? "max" : pct(onChain);
    say(
      `  ${symbol} reserves ${a.reserves} vs liabilities ${a.liabilities} (base units): ` +
        `ratio ${ratio}; ReserveLedger.reserveRatio on-chain ${chainRatio}`,
      `  ${symbol} 储备 ${a.reserves}，负债 ${a.liabilities}（基本单位）：` +
        `比率 ${ratio === "nothing owed" ? "无负债" : ratio}；链上 ReserveLedger.reserveRatio ${chainRatio}`,
    );
  }
}
