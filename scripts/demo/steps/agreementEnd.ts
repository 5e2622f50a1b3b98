import { id } from "ethers";
import {
  AgreementRegistry__factory,
  CapitalPool__factory,
  CollateralToken__factory,
  MarginEngine__factory,
  OracleRouter__factory,
} from "../../../typechain-types";
import { CNY, DemoError, cny, count, ok, until } from "../../lib/demoPlatform";
import { CLIENT_B_OWN_FUNDS, CLIENT_C_OWN_FUNDS, TICK } from "../plan";
import { say, heading } from "../narration";
import { placeOrder as order } from "../orders";
import { financingRequest, signAndAnchor, type AgreementView } from "../agreements";
import type { DemoRun } from "../run";
import { bindAgreement, signAcknowledgement } from "./onboarding";

type Note = { en: string; zh: string };
interface EndView {
  agreementId: string;
  step: string;
  status: string;
  waitingFor: Note | null;
  history: { step: string; status: string; note: Note; txHash?: string }[];
  facts: Record<string, string | null>;
  finalSettlement: {
    profitShares: { capitalProviders: string; platform: string; client: string };
    payouts: { client: string };
    netResult: string;
    text: string;
  } | null;
}

/**
 * The end of the story: both financing agreements are executed at their end by the agreement-end workflow
 * (offchain/settlement/agreementEnd, docs/legal-settlement.md). Client A's, after its default in the gap: new risk
 * frozen, nothing left to close or repay, the loss waterfall read from the chain, the registry closed with the
 * final settlement's hash. Client B's, a second financing that ends with a profit: B buys, the market rises, B
 * terminates, sells through the order book and repays; fees go on the chain's ledger, the waterfall runs on-chain
 * (the providers' share into the pool, visible in its share price), the registry is closed, the final statement
 * and a schema-valid pain.001 are issued, and the bank leg is reconciled against B's on-chain redemption.
 */
export async function agreementEnds(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "Agreements executed at their end: client A's after its default, client B's with a profit",
    "协议到期执行：客户 A 违约后的协议，客户 B 盈利结束的协议",
  );
  await endClientA(run);
  const agreementId = await financeClient(run, "clientB");
  await endClientB(run, agreementId);
}

async function endClientA(run: DemoRun): Promise<void> {
  const agreementId = run.state.facts.agreementId;
  if (!agreementId) throw new DemoError("client A's agreement is not known: run the agreement step");
  say(
    "  client A (defaulted in the gap): the operator ends its agreement",
    "  客户 A（在跳空中违约）：运营方终止其协议",
  );
  const operator = run.d.staff("operator");
  ok(
    await operator.post<EndView>(
      `/v1/agreements/${agreementId}/end`,
      { reason: "default", payee: { name: "Li Wei", account: { other: "6222020200001111" } } },
      `demo-${run.state.runId}-end-clientA`,
    ),
    "POST /v1/agreements/:id/end (client A)",
  );
  const end = await advanceUntil(run, agreementId, (e) => e.status === "done");
  narrate(end);
  const s = end.finalSettlement!;
  say(
    `  client A's result ${cny(s.netResult)} mbCNY; nothing to pay out; registry closed with ${short(end.facts.finalHash)}`,
    `  客户 A 的结果 ${cny(s.netResult)} mbCNY；无需付款；登记簿已以 ${short(end.facts.finalHash)} 关闭`,
  );
}

/** The clients financed by a second agreement: client B (ends with a profit) and client C (hedged in the gap). */
const SECOND_FINANCINGS = {
  clientB: { letter: "B", zh: "客户 B", name: "Wang Fang", ownFunds: CLIENT_B_OWN_FUNDS, unborrowed: 1_000n * CNY },
  clientC: { letter: "C", zh: "客户 C", name: "Liu Yang", ownFunds: CLIENT_C_OWN_FUNDS, unborrowed: 100n * CNY },
} as const;

/**
 * Client B or C signs a financing agreement (generated from the chain), binds it, deposits its own funds and borrows
 * just under as much again (2×). Idempotent: the agreement id is kept in the run's facts, the deposit and the loan
 * are skipped when made.
 */
export async function financeClient(run: DemoRun, user: keyof typeof SECOND_FINANCINGS): Promise<string> {
  const f = SECOND_FINANCINGS[user];
  const fact = `agreementId${f.letter}`;
  const known = run.state.facts[fact];
  if (known) return known;
  // The term starts when this step first ran: a re-run sends the same request (its idempotency key replays it).
  run.state.facts[`agreementStart${f.letter}`] ??= String(await run.d.chainTime());
  run.d.saveState();
  const now = Number(run.state.facts[`agreementStart${f.letter}`]);
  const agreementId = id(`marginbridge-demo:${run.state.runId}:${user}`);
  const operator = run.d.staff("operator");
  // Generated once (a re-run of this step finds it stored and goes on from there).
  const stored = await operator.get<AgreementView>(`/v1/agreements/${agreementId}`);
  const prepared =
    stored.status === 200
      ? stored.body
      : ok(
          await operator.post<AgreementView>(
            "/v1/agreements/generate",
            await financingRequest(run, {
              agreementId,
              client: user,
              name: f.name,
              accountRef: `MB-${run.state.runId}-${f.letter}`,
              ownFunds: f.ownFunds,
              leverageBps: 20_000,
              effectiveAt: now,
            }),
            `demo-${run.state.runId}-agreement-${f.letter}`,
          ),
          `POST /v1/agreements/generate (client ${f.letter})`,
        );
  // Signed and anchored once (a re-run finds it anchored).
  if (prepared.status !== "anchored")
    await signAndAnchor(run, agreementId, user, prepared.document, `-${f.letter}`, (application) =>
      signAcknowledgement(run, user, application, "financing-summary"),
    );
  await bindAgreement(run, agreementId, user, { en: `client ${f.letter}`, zh: f.zh });
  const client = run.wallet(user);
  const engineAddress = run.contract("MarginEngine");
  const engine = MarginEngine__factory.connect(engineAddress, client);
  const cash = run.contract("mbCNY");
  // Just under 2×: the debt is rounded up in the pool's favour, so exactly 2× would be a base unit over the limit.
  // Client C borrows what the pool can lend at that moment, up to that (the provider's redemption waits for cash).
  const most = f.ownFunds - f.unborrowed;
  const pool = CapitalPool__factory.connect(run.contract("CapitalPool"), run.d.provider);
  const lendable = user === "clientC" ? (((await pool.lendableCash()) * 95n) / 100n / CNY) * CNY : most;
  const borrows = lendable < most ? lendable : most;
  if ((await engine.debtOf(client.address))[0] === 0n) {
    if ((await engine.balanceOf(client.address, cash)) < f.ownFunds) {
      await (await CollateralToken__factory.connect(cash, client).approve(engineAddress, f.ownFunds)).wait();
      await (await engine.deposit(cash, f.ownFunds)).wait();
    }
    await acknowledgeDeficit(run);
    if (borrows < 100n * CNY)
      throw new DemoError(`the pool lends ${cny(lendable)} now: too little for client ${f.letter}'s loan`);
    await (await engine.borrow(borrows)).wait();
  }
  say(
    `  client ${f.letter}: agreement ${short(agreementId)} generated from the chain, signed, anchored and bound (2×); ` +
      `deposits ${cny(f.ownFunds)} and borrows ${cny(borrows)}`,
    `  ${f.zh}：协议 ${short(agreementId)} 由链上参数生成、双方签署、锚定并绑定（2 倍）；` +
      `存入 ${cny(f.ownFunds)} 并借入 ${cny(borrows)}`,
  );
  run.state.facts[fact] = agreementId;
  run.d.saveState();
  return agreementId;
}

async function endClientB(run: DemoRun, agreementId: string): Promise<void> {
  const symbol = "mbBANK";
  const instrument = run.contract(symbol);
  const engine = MarginEngine__factory.connect(run.contract("MarginEngine"), run.d.provider);
  const router = OracleRouter__factory.connect(run.contract("OracleRouter"), run.d.provider);
  // Buys from the market maker's asks, 0.2 % over the oracle, as much as the maker holds and B's cash pays for.
  if ((await engine.balanceOf(run.address("clientB"), instrument)) === 0n && !run.state.facts.clientBSold) {
    const [oracle] = await router.getPrice(instrument);
    const ask = ceilTick((oracle * 1_002n) / 1_000n / 10n ** 12n);
    const makerHeld = await engine.balanceOf(run.address("marketMaker"), instrument);
    const cashB = await engine.balanceOf(run.address("clientB"), run.contract("mbCNY"));
    const budget = (cashB * 98n) / 100n;
    const quantity = budget / ask < makerHeld ? budget / ask : makerHeld;
    await order(run, "marketMaker", 1, instrument, ask, quantity);
    const bid = await order(run, "clientB", 0, instrument, ask, quantity);
    say(
      `  client B buys ${count(bid.filledQuantity)} ${symbol} at ${cny(ask)} from the market maker`,
      `  客户 B 以 ${cny(ask)} 向做市商买入 ${count(bid.filledQuantity)} ${symbol}`,
    );
    await until("the batcher to settle client B's purchase", async () => {
      const b = await run.d.account("clientB");
      return b.positions.length > 0 ? b : undefined;
    });
    await run.moveMarket(await run.d.account("clientB"), 800, 800);
  }
  // Client B ends its agreement early; the workflow freezes new borrowing at once.
  const client = run.d.user("clientB");
  ok(
    await client.post<EndView>(
      `/v1/agreements/${agreementId}/end`,
      { reason: "termination", payee: { name: "Wang Fang", account: { other: "6222020200002222" } } },
      `demo-${run.state.runId}-end-clientB`,
    ),
    "POST /v1/agreements/:id/end (client B)",
  );
  const held = await engine.balanceOf(run.address("clientB"), instrument);
  if (held > 0n) {
    const [oracle] = await router.getPrice(instrument);
    const bidPrice = floorTick((oracle * 998n) / 1_000n / 10n ** 12n);
    await order(run, "marketMaker", 0, instrument, bidPrice, held);
    const sold = await order(run, "clientB", 1, instrument, bidPrice, held);
    say(
      `  client B sells its ${count(sold.filledQuantity)} ${symbol} through the order book at ${cny(bidPrice)}`,
      `  客户 B 通过订单簿以 ${cny(bidPrice)} 卖出 ${count(sold.filledQuantity)} ${symbol}`,
    );
    await until("the batcher to settle client B's sale", async () => {
      const b = await run.d.account("clientB");
      return b.positions.length === 0 ? b : undefined;
    });
    run.state.facts.clientBSold = "true";
    run.d.saveState();
  }
  const wallet = run.wallet("clientB");
  const [debt] = await engine.debtOf(wallet.address);
  if (debt > 0n) {
    await (await engine.connect(wallet).repay(debt + CNY)).wait();
    say(`  client B repays its debt of ${cny(debt)}`, `  客户 B 偿还债务 ${cny(debt)}`);
  }
  let end = await advanceUntil(run, agreementId, (e) => e.step === "reconcile" || e.status === "done");
  const s = end.finalSettlement!;
  const f = end.facts;
  say(
    `  final settlement: net result ${cny(s.netResult)}; providers' share ${cny(s.profitShares.capitalProviders)} ` +
      `into the pool, platform's share ${cny(s.profitShares.platform)}, client B receives ${cny(s.payouts.client)}`,
    `  最终结算：净结果 ${cny(s.netResult)}；出资方分成 ${cny(s.profitShares.capitalProviders)} 注入资金池，` +
      `平台分成 ${cny(s.profitShares.platform)}，客户 B 获得 ${cny(s.payouts.client)}`,
  );
  say(
    `  pool share price: junior ${sharePrice(f.juniorPriceBefore)} → ${sharePrice(f.juniorPriceAfter)}, ` +
      `senior ${sharePrice(f.seniorPriceBefore)} → ${sharePrice(f.seniorPriceAfter)} mbCNY per share`,
    `  资金池份额净值：劣后级 ${sharePrice(f.juniorPriceBefore)} → ${sharePrice(f.juniorPriceAfter)}，` +
      `优先级 ${sharePrice(f.seniorPriceBefore)} → ${sharePrice(f.seniorPriceAfter)} mbCNY/份`,
  );
  if (end.status !== "done") {
    // Client B takes its payout off the chain with the payout's reference; the custodian bank pays it and confirms.
    const payout = BigInt(f.payout!);
    const cash = CollateralToken__factory.connect(run.contract("mbCNY"), wallet);
    if ((await engine.balanceOf(wallet.address, run.contract("mbCNY"))) >= payout)
      await (await engine.connect(wallet).withdraw(run.contract("mbCNY"), payout)).wait();
    await (await cash.redeem(payout, f.payoutRef!)).wait();
    say(
      `  client B withdraws ${cny(payout)} and redeems it on-chain with payoutRef ${short(f.payoutRef)} (${f.endToEndId})`,
      `  客户 B 提取 ${cny(payout)} 并以 payoutRef ${short(f.payoutRef)}（${f.endToEndId}）在链上赎回`,
    );
    const day = new Date().toISOString().slice(0, 10);
    ok(
      await run.d.staff("operator").post<EndView>(`/v1/agreements/${agreementId}/end/bank-confirmation`, {
        format: "camt054",
        content: bankNotification(f.endToEndId!, payout, day),
      }),
      "POST /v1/agreements/:id/end/bank-confirmation",
    );
    say(
      "  the custodian bank's camt.054 debit notification (the bank's side, played by the demo) is handed in",
      "  托管银行的 camt.054 借记通知（银行一方，由演示模拟）已提交",
    );
    end = await advanceUntil(run, agreementId, (e) => e.status === "done");
  }
  narrate(end);
  const registry = AgreementRegistry__factory.connect(run.contract("AgreementRegistry"), run.d.provider);
  const anchor = await registry.agreementOf(agreementId);
  say(
    `  AgreementRegistry: client B's agreement closed at block time ${anchor.closedAt}, final hash ${short(anchor.finalSettlementHash)}; ` +
      `pain.001 ${f.messageId} (schema-valid, hash ${short(f.messageHash)})`,
    `  AgreementRegistry：客户 B 的协议已于区块时间 ${anchor.closedAt} 关闭，最终哈希 ${short(anchor.finalSettlementHash)}；` +
      `pain.001 ${f.messageId}（已通过 XSD 校验，哈希 ${short(f.messageHash)}）`,
  );
}

/**
 * The gap left a deficit in the pool, and the pool lends nothing while one is open: the risk officer accepts it as
 * the capital providers' loss (CapitalPool.acknowledgeDeficit, behind the risk delay, none on the dev chain).
 */
async function acknowledgeDeficit(run: DemoRun): Promise<void> {
  const pool = CapitalPool__factory.connect(run.contract("CapitalPool"), await run.d.devAccount(3));
  const deficit = await pool.deficit();
  if (deficit === 0n) return;
  await (await pool.acknowledgeDeficit()).wait();
  say(
    `  the pool lends nothing while the gap's deficit (${cny(deficit)}) is open: the risk officer accepts it as the ` +
      "capital providers' loss (CapitalPool.acknowledgeDeficit), and lending resumes",
    `  跳空造成的资金池缺口（${cny(deficit)}）未弥补前不放贷：风控官确认其为出资方损失` +
      "（CapitalPool.acknowledgeDeficit），恢复放贷",
  );
}

/** Advances the workflow (operator) until `done(view)` holds; every answer is read back from the API. */
async function advanceUntil(run: DemoRun, agreementId: string, done: (e: EndView) => boolean): Promise<EndView> {
  const operator = run.d.staff("operator");
  return until(`agreement ${short(agreementId)} to reach its next stop`, async () => {
    const e = ok(
      await operator.post<EndView>(`/v1/agreements/${agreementId}/end/advance`),
      "POST /v1/agreements/:id/end/advance",
    );
    if (e.status === "failed") throw new DemoError(`the agreement end failed: ${e.waitingFor?.en}`);
    return done(e) ? e : undefined;
  });
}

/** Each step's outcome, as the workflow recorded it (both languages). */
function narrate(end: EndView): void {
  for (const h of end.history.filter((x) => x.status === "done")) {
    const tx = h.txHash ? ` (tx ${short(h.txHash)})` : "";
    say(`    ${h.step}: ${h.note.en}${tx}`, `    ${h.step}：${h.note.zh}${tx}`);
  }
}

/** The custodian bank's booked debit of the client's payout, as a camt.054.001.08 notification. */
function bankNotification(endToEndId: string, payout: bigint, day: string): string {
  const amount = `${payout / CNY}.${(payout % CNY).toString().padStart(6, "0").slice(0, 2)}`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>CAMT-${endToEndId}</MsgId><CreDtTm>${day}T18:00:00+08:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>N-${endToEndId}</Id>
      <Acct><Id><Othr><Id>31009999999999</Id></Othr></Id></Acct>
      <Ntry>
        <Amt Ccy="CNY">${amount}</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>${day}</Dt></BookgDt>
        <AcctSvcrRef>BANK-${endToEndId}</AcctSvcrRef>
        <NtryDtls><TxDtls><Refs><EndToEndId>${endToEndId}</EndToEndId></Refs></TxDtls></NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>`;
}

function ceilTick(p: bigint): bigint {
  return ((p + TICK - 1n) / TICK) * TICK;
}

function floorTick(p: bigint): bigint {
  return (p / TICK) * TICK;
}

function sharePrice(v: string | null | undefined): string {
  if (!v) return "—";
  const units = BigInt(v);
  return `${units / CNY}.${(units % CNY).toString().padStart(6, "0")}`;
}

function short(h: string | null | undefined): string {
  return h ? `${h.slice(0, 12)}…` : "—";
}
