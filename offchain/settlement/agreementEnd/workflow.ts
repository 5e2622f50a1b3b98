import { randomUUID } from "node:crypto";
import { keccak256, toUtf8Bytes } from "ethers";
import { feeRef, type AgreementEndChain } from "../../chain/agreementEndChain";
import { AppError } from "../../shared/errors";
import type { Logger } from "../../shared/logger";
import type { Store } from "../../store";
import { BUSINESS_DAY_UTC_OFFSET_MINUTES } from "../dailyStatements";
import {
  CURRENCY_MINOR_UNITS,
  buildPain001,
  canonicalize,
  chainReference,
  computeFinalSettlement,
  dateOfTimestamp,
  daysBetween,
  finalSettlementHash,
  parseCamt054,
  parseConfirmationCsv,
  reconcile,
  tradeFee,
  validatePain001,
  type AmendmentExitHook,
  type BankAccount,
  type BankAgent,
  type FinalSettlement,
  type FinancingTerms,
  type Payee,
} from "../legal";
import { BPS, DAYS_PER_YEAR, divDown, divUp, formatUnits } from "../legal/amounts";
import { AgreementService } from "../legal/agreements";
import type { AgreementEndRecord, EndEvent, EndReason, EndStep } from "./port";
import { END_STEPS } from "./port";

/** The custody account the client's payout leaves from (the pain.001's debtor side; settlement config). */
export interface CustodyAccount {
  initiatingParty: { name: string; orgId?: string };
  debtor: { name: string };
  debtorAccount: BankAccount;
  debtorAgent: BankAgent;
}

export interface AgreementEndDeps {
  store: Pick<Store, "agreementEnds" | "legal" | "settlement">;
  chain: AgreementEndChain;
  log: Logger;
  /** Absent: the statement step fails with a message naming the missing setting. */
  custody?: CustodyAccount;
  /** How long one instance may hold a workflow while it advances it (ms). */
  leaseMs: number;
  /** Names this process in lease owners. */
  instance: string;
  now?: () => number;
}

type Text = { en: string; zh: string };
type Outcome =
  | { kind: "next"; note: Text; facts?: Record<string, string>; txHash?: string; skipTo?: EndStep }
  | { kind: "wait"; waitingFor: Text; facts?: Record<string, string> }
  | { kind: "fail"; reason: Text };

const next = (note: Text, extra: Omit<Extract<Outcome, { kind: "next" }>, "kind" | "note"> = {}): Outcome => ({
  kind: "next",
  note,
  ...extra,
});
const wait = (waitingFor: Text, facts?: Record<string, string>): Outcome => ({ kind: "wait", waitingFor, facts });

/** At most this many steps per advance (every step is short; a waiting step stops the run anyway). */
const MAX_STEPS_PER_RUN = END_STEPS.length + 1;

/**
 * Starts the end of an agreement (idempotent: a second request for the same agreement returns the workflow already
 * under way, and one with another reason is refused). An expiry needs the term to have run out on the chain's
 * clock; a client may only terminate its own agreement (checked by the route); a default is an officer's call.
 */
export async function requestEnd(
  deps: AgreementEndDeps,
  req: { agreementId: string; reason: EndReason; by: string; payee?: Payee },
): Promise<{ record: AgreementEndRecord; created: boolean }> {
  const legal = await deps.store.legal.getAgreement(req.agreementId);
  if (!legal) throw new AppError("NOT_FOUND", "no such agreement", { details: { agreementId: req.agreementId } });
  const existing = await deps.store.agreementEnds.getEnd(req.agreementId);
  if (existing) {
    if (existing.reason !== req.reason)
      throw new AppError("CONFLICT", `the agreement is already ending (${existing.reason})`, {
        details: { agreementId: req.agreementId, reason: existing.reason },
      });
    // A payee given later (an exit from an amendment starts the end without one) is recorded once.
    if (req.payee && existing.facts.payee === undefined) {
      const note = { en: "the client's bank account for the payout was given", zh: "已提供客户收款银行账户" };
      const updated = await write(deps, existing, {
        facts: { ...existing.facts, payee: JSON.stringify(req.payee) },
        status: existing.status === "waiting" ? "running" : existing.status,
        history: [...existing.history, event((deps.now ?? Date.now)(), existing.step, existing.status, note)],
      });
      if (updated) return { record: updated, created: false };
    }
    return { record: existing, created: false };
  }
  if (legal.status !== "anchored")
    throw new AppError("CONFLICT", `only an anchored agreement can end; this one is ${legal.status}`, {
      details: { agreementId: req.agreementId, status: legal.status },
    });
  const anchor = await deps.chain.anchorOf(req.agreementId);
  if (anchor.closedAt !== 0)
    throw new AppError("CONFLICT", "the agreement is closed on-chain already", {
      details: { agreementId: req.agreementId, closedAt: anchor.closedAt },
    });
  const chainNow = await deps.chain.now();
  if (req.reason === "expiry" && chainNow < anchor.expiresAt)
    throw new AppError("CONFLICT", `the agreement runs until ${new Date(anchor.expiresAt * 1000).toISOString()}`, {
      details: { agreementId: req.agreementId, expiresAt: anchor.expiresAt },
    });
  const now = (deps.now ?? Date.now)();
  const started: Text = {
    expiry: { en: "the agreement's term ran out", zh: "协议期限届满" },
    termination: { en: "the client ended the agreement early", zh: "客户提前终止协议" },
    default: { en: "the platform ended the agreement on the client's default", zh: "因客户违约，平台终止协议" },
  }[req.reason];
  const rec: AgreementEndRecord = {
    agreementId: req.agreementId,
    account: legal.document.terms.client.address.toLowerCase(),
    reason: req.reason,
    requestedBy: req.by,
    requestedAt: now,
    step: "freeze",
    status: "running",
    waitingFor: null,
    closeDeadline: null,
    lease: null,
    pending: null,
    facts: {
      ...(req.payee ? { payee: JSON.stringify(req.payee) } : {}),
      anchorBlock: String(legal.anchor?.blockNumber ?? 0),
    },
    history: [{ at: now, step: "freeze", status: "running", note: started }],
    revision: 0,
    updatedAt: now,
  };
  return deps.store.agreementEnds.insertEnd(rec);
}

/**
 * Advances one workflow as far as it can go now: takes its lease (compare-and-swap; a workflow another instance is
 * advancing is left alone), runs steps until one waits, fails or the workflow is done, writing the record after
 * every step, and releases the lease. Every step reads the chain before it sends anything, so a run that died
 * after a send (its `pending` left behind) is continued without sending the same thing twice.
 */
export async function advanceEnd(deps: AgreementEndDeps, agreementId: string): Promise<AgreementEndRecord> {
  const clock = deps.now ?? Date.now;
  let rec = await deps.store.agreementEnds.getEnd(agreementId);
  if (!rec) throw new AppError("NOT_FOUND", "this agreement is not ending", { details: { agreementId } });
  if (rec.status === "done") return rec;
  if (rec.lease && rec.lease.until > clock()) return rec;
  const owner = `${deps.instance}-${randomUUID()}`;
  const claimed = await write(deps, rec, { lease: { owner, until: clock() + deps.leaseMs } });
  if (!claimed) return (await deps.store.agreementEnds.getEnd(agreementId))!;
  rec = claimed;
  try {
    for (let i = 0; i < MAX_STEPS_PER_RUN && rec.step !== "done"; i++) {
      const step = rec.step;
      let outcome: Outcome;
      try {
        outcome = await runStep(deps, rec, owner);
      } catch (err) {
        const reason = describe(err);
        deps.log.warn("agreement end: step did not complete", { agreementId, step, err });
        // A chain that did not answer, or a send whose outcome is unknown: the next run reads the chain again.
        const retry = err instanceof AppError && (err.code === "CHAIN_UNAVAILABLE" || err.details.effect === "unknown");
        const latest = (await deps.store.agreementEnds.getEnd(agreementId))!;
        const updated = await write(deps, latest, {
          status: retry ? "running" : "failed",
          waitingFor: reason,
          history: [...latest.history, event(clock(), step, retry ? "running" : "failed", reason)],
        });
        rec = updated ?? latest;
        break;
      }
      const latest = (await deps.store.agreementEnds.getEnd(agreementId))!;
      if (latest.lease?.owner !== owner) break; // taken over (our lease ran out): the new holder goes on
      const facts = { ...latest.facts, ...(outcome.kind !== "fail" ? outcome.facts : {}) };
      let patch: Partial<AgreementEndRecord>;
      if (outcome.kind === "next") {
        const to = outcome.skipTo ?? following(step);
        patch = {
          step: to,
          status: to === "done" ? "done" : "running",
          waitingFor: null,
          pending: null,
          facts,
          history: [
            ...latest.history,
            { ...event(clock(), step, "done", outcome.note), ...(outcome.txHash ? { txHash: outcome.txHash } : {}) },
          ],
        };
      } else if (outcome.kind === "wait") {
        const same = latest.status === "waiting" && latest.waitingFor?.en === outcome.waitingFor.en;
        patch = {
          status: "waiting",
          waitingFor: outcome.waitingFor,
          pending: null,
          facts,
          history: same ? latest.history : [...latest.history, event(clock(), step, "waiting", outcome.waitingFor)],
        };
      } else {
        patch = {
          status: "failed",
          waitingFor: outcome.reason,
          pending: null,
          history: [...latest.history, event(clock(), step, "failed", outcome.reason)],
        };
      }
      const written = await write(deps, latest, patch);
      if (!written) break;
      rec = written;
      if (outcome.kind !== "next") break;
    }
  } finally {
    const latest = await deps.store.agreementEnds.getEnd(agreementId);
    if (latest?.lease?.owner === owner) {
      const released = await write(deps, latest, { lease: null });
      if (released) rec = released;
    }
  }
  return (await deps.store.agreementEnds.getEnd(agreementId)) ?? rec;
}

/** An officer's retry of a failed workflow: back to running at the step that failed. */
export async function retryEnd(deps: AgreementEndDeps, agreementId: string): Promise<AgreementEndRecord> {
  const rec = await deps.store.agreementEnds.getEnd(agreementId);
  if (!rec) throw new AppError("NOT_FOUND", "this agreement is not ending", { details: { agreementId } });
  if (rec.status === "failed") {
    const note = { en: "an officer retried the step", zh: "运营人员重试该步骤" };
    await write(deps, rec, {
      status: "running",
      waitingFor: null,
      history: [...rec.history, event((deps.now ?? Date.now)(), rec.step, "running", note)],
    });
  }
  return advanceEnd(deps, agreementId);
}

/** Records the custodian bank's confirmation file (camt.054 or the CSV format) for the reconciliation step. */
export async function recordBankConfirmation(
  deps: AgreementEndDeps,
  agreementId: string,
  file: { format: "camt054" | "csv"; content: string },
): Promise<AgreementEndRecord> {
  // Parse now, so a file that cannot be read is refused before it is kept.
  const entries = file.format === "camt054" ? parseCamt054(file.content) : parseConfirmationCsv(file.content);
  for (let attempt = 0; attempt < 5; attempt++) {
    const rec = await deps.store.agreementEnds.getEnd(agreementId);
    if (!rec) throw new AppError("NOT_FOUND", "this agreement is not ending", { details: { agreementId } });
    const note = {
      en: `bank confirmation received (${file.format}, ${entries.length} entries)`,
      zh: `已收到银行回单（${file.format}，${entries.length} 条）`,
    };
    const updated = await write(deps, rec, {
      facts: { ...rec.facts, bankFile: JSON.stringify(file) },
      status: rec.status === "waiting" ? "running" : rec.status,
      history: [...rec.history, event((deps.now ?? Date.now)(), rec.step, rec.status, note)],
    });
    if (updated) return advanceEnd(deps, agreementId);
  }
  throw new AppError("CONFLICT", "the workflow kept changing; try again", { details: { agreementId } });
}

/** The job: advances every workflow that is not done or failed (waiting ones re-check their condition). */
export async function advanceDueEnds(deps: AgreementEndDeps): Promise<{ advanced: number; done: number }> {
  const out = { advanced: 0, done: 0 };
  // An exit from an amendment whose hook did not start the end (a crash, a chain outage) is started here.
  for (const a of await deps.store.legal.listAmendments("exited")) {
    const legal = await deps.store.legal.getAgreement(a.agreementId);
    if (legal?.status !== "anchored" || (await deps.store.agreementEnds.getEnd(a.agreementId))) continue;
    await requestEnd(deps, { agreementId: a.agreementId, reason: "termination", by: `client:${a.client}` });
  }
  for (const status of ["running", "waiting"] as const) {
    for (const rec of await deps.store.agreementEnds.listEnds({ status })) {
      const after = await advanceEnd(deps, rec.agreementId);
      out.advanced++;
      if (after.status === "done") out.done++;
    }
  }
  return out;
}

/**
 * The amendment exit hook: a client that exits before a parameter change takes effect ends its agreement early
 * under the unamended terms (termination; its bank account for the payout follows with POST …/end).
 */
export function endOnExit(deps: AgreementEndDeps): AmendmentExitHook {
  return async (agreementId, amendment) => {
    if (await deps.store.agreementEnds.getEnd(agreementId)) return; // ending already, for whatever reason
    await requestEnd(deps, { agreementId, reason: "termination", by: `client:${amendment.client}` });
    await advanceEnd(deps, agreementId);
  };
}

/** The final settlement as the workflow computed it (undefined before the settle step). */
export function finalSettlementOf(rec: AgreementEndRecord, terms: FinancingTerms): FinalSettlement | undefined {
  const f = rec.facts;
  if (f.settledOn === undefined) return undefined;
  return computeFinalSettlement({
    terms,
    settledOn: f.settledOn,
    closingCash: BigInt(f.closingCash),
    principal: BigInt(f.principal),
    interestDue: BigInt(f.interestDue),
    feesDue: (JSON.parse(f.feeLines) as { code: string; label: string; amount: string }[]).map((x) => ({
      ...x,
      amount: BigInt(x.amount),
    })),
    insuranceFundAvailable: BigInt(f.fromInsurance),
  });
}

// ───────────────────────────── the steps ─────────────────────────────

async function runStep(deps: AgreementEndDeps, rec: AgreementEndRecord, owner: string): Promise<Outcome> {
  const legal = await deps.store.legal.getAgreement(rec.agreementId);
  if (!legal) return { kind: "fail", reason: { en: "the agreement record is gone", zh: "协议记录不存在" } };
  const terms = legal.document.terms;
  switch (rec.step) {
    case "freeze":
      return freeze(deps, rec, owner);
    case "close-positions":
      return closePositions(deps, rec, owner);
    case "repay":
      return repay(deps, rec, terms);
    case "fees":
      return chargeFees(deps, rec, owner, terms);
    case "settle":
      return settle(deps, rec, owner, terms);
    case "statement":
      return statement(deps, rec, terms);
    case "reconcile":
      return reconcileBankLeg(deps, rec, terms);
    case "done":
      return next({ en: "done", zh: "完成" });
  }
}

/** 1. Freeze new risk: AgreementBinding.terminate ends the binding now, so the engine refuses every new borrow. */
async function freeze(deps: AgreementEndDeps, rec: AgreementEndRecord, owner: string): Promise<Outcome> {
  const { chain } = deps;
  const binding = await chain.bindingOf(rec.account);
  if (binding.agreementId.toLowerCase() !== rec.agreementId.toLowerCase()) {
    return next(
      {
        en: "the account was never bound to this agreement on-chain: nothing was financed under it; closing the record",
        zh: "该账户从未在链上绑定此协议：协议项下没有融资；直接结清记录",
      },
      { facts: { bound: "false" }, skipTo: "settle" },
    );
  }
  let txHash: string | undefined;
  let endedAt = binding.expiresAt;
  const now = await chain.now();
  if (binding.expiresAt > now) {
    await journal(deps, rec, owner);
    const sent = await chain.terminate(rec.account);
    txHash = sent.txHash;
    endedAt = (await chain.bindingOf(rec.account)).expiresAt;
  }
  const deadline = endedAt + (await chain.closeOutPeriod());
  await setDeadline(deps, rec.agreementId, deadline);
  return next(
    {
      en: `new borrowing refused from ${iso(endedAt)} (AgreementBinding); positions to be closed by ${iso(deadline)}`,
      zh: `自 ${iso(endedAt)} 起拒绝新增借款（AgreementBinding）；持仓须于 ${iso(deadline)} 前平仓`,
    },
    { facts: { bound: "true", frozenAt: String(endedAt), closeDeadline: String(deadline) }, txHash },
  );
}

/**
 * 2. Close the positions: the client sells through the order book until the close-out deadline; after it, the
 * platform's close-out account buys what is left (AgreementSettlement.forceClose, at the oracle price less at most
 * the agreed penalty and the haircut). Without a close-out key the forced close is left to any verified buyer.
 */
async function closePositions(deps: AgreementEndDeps, rec: AgreementEndRecord, owner: string): Promise<Outcome> {
  const { chain } = deps;
  let positions = await chain.positions(rec.account);
  if (positions.length === 0)
    return next({ en: "every position is closed", zh: "所有持仓均已平仓" }, { facts: { positionsClosed: "true" } });
  const deadline = Number(rec.facts.closeDeadline ?? 0);
  const now = await chain.now();
  const list = positions.map((p) => `${p.units} × ${symbolOf(deps, p.asset)}`).join(", ");
  if (now < deadline)
    return wait({
      en: `the client closes its positions (${list}) through the order book by ${iso(deadline)}; after that they are force-closed`,
      zh: `客户须于 ${iso(deadline)} 前通过订单簿平仓（${list}）；逾期将被强制平仓`,
    });
  if (!chain.forceClose)
    return wait({
      en: `the close-out deadline passed: any verified buyer may force-close ${list} (AgreementSettlement.forceClose); no close-out key is configured here`,
      zh: `平仓期限已过：任何已验证的买方均可强制平仓 ${list}（AgreementSettlement.forceClose）；本服务未配置平仓账户密钥`,
    });
  let lastTx: string | undefined;
  for (const p of positions) {
    await journal(deps, rec, owner);
    lastTx = (await chain.forceClose(rec.agreementId, p.asset, p.units)).txHash;
  }
  positions = await chain.positions(rec.account);
  if (positions.length > 0) return wait({ en: "force-closing the positions", zh: "正在强制平仓" });
  return next(
    { en: `positions force-closed after the deadline (${list})`, zh: `逾期后已强制平仓（${list}）` },
    { facts: { positionsClosed: "forced" }, txHash: lastTx },
  );
}

/** 3. The client repays its debt from its margin cash (MarginEngine.repay): interest and principal to the pool. */
async function repay(deps: AgreementEndDeps, rec: AgreementEndRecord, terms: FinancingTerms): Promise<Outcome> {
  const debt = await deps.chain.debtOf(rec.account);
  if (debt === 0n) return next({ en: "the debt is repaid in full", zh: "债务已全部偿还" });
  const cash = await deps.chain.cashOf(rec.account);
  const d = terms.currency.decimals;
  return wait({
    en: `the client repays ${formatUnits(debt, d)} ${terms.currency.symbol} of debt (MarginEngine.repay; margin cash ${formatUnits(cash, d)})`,
    zh: `客户须偿还债务 ${formatUnits(debt, d)} ${terms.currency.symbol}（MarginEngine.repay；保证金现金 ${formatUnits(cash, d)}）`,
  });
}

/**
 * 4. The fees go on the chain's fee ledger (AgreementSettlement.feesOf). The `fee-ledger` job charged each daily
 * statement's fees as the days closed (chargeDailyFees); what the agreement's rules amount to over its whole life
 * (commissions on the account's settled trades, the daily fee on own funds for every natural day, the fixed fees)
 * beyond that is charged now under one final reference (`<id>:fee:final`, so a retry never charges twice), up to the
 * cash left (the rest is written off by the platform). The statement's fee lines are what the ledger holds, by rule.
 */
async function chargeFees(
  deps: AgreementEndDeps,
  rec: AgreementEndRecord,
  owner: string,
  terms: FinancingTerms,
): Promise<Outcome> {
  const { chain } = deps;
  const due = await feesDue(deps, rec, terms);
  const totalDue = due.reduce((s, f) => s + f.amount, 0n);
  const ref = feeRef(rec.agreementId, "final");
  let lastTx: string | undefined;
  // Charged already (by an earlier run, perhaps one that died before recording it)? Then the chain has it.
  if ((await chain.chargedFee(ref)) === undefined) {
    const before = await chain.feesOf(rec.agreementId);
    const cash = await chain.cashOf(rec.account);
    const rest = totalDue > before ? totalDue - before : 0n;
    const amount = rest < cash ? rest : cash;
    if (amount > 0n) {
      await journal(deps, rec, owner);
      lastTx = (await chain.chargeFee(rec.agreementId, amount, ref)).txHash;
    }
  }
  const onChain = await chain.feesOf(rec.agreementId);
  // The ledger's total, allocated to the rules in the agreement's order (what it could not take is written off).
  let left = onChain;
  const lines = due.map((f) => {
    const amount = f.amount < left ? f.amount : left;
    left -= amount;
    return { code: f.code, label: f.label, amount: amount.toString() };
  });
  if (left > 0n) lines.push({ code: "OTHER", label: "Other fees on the ledger", amount: left.toString() });
  const d = terms.currency.decimals;
  const list = (sep: string): string => lines.map((l) => `${l.code} ${formatUnits(BigInt(l.amount), d)}`).join(sep);
  const writtenOff = totalDue > onChain ? totalDue - onChain : 0n;
  const off = writtenOff > 0n ? formatUnits(writtenOff, d) : undefined;
  return next(
    {
      en: `fees on the chain's ledger: ${formatUnits(onChain, d)} ${terms.currency.symbol} (${list(", ") || "none"})${off ? `; ${off} written off` : ""}`,
      zh: `链上费用账本：${formatUnits(onChain, d)} ${terms.currency.symbol}（${list("，") || "无"}）${off ? `；核销 ${off}` : ""}`,
    },
    { facts: { feeLines: JSON.stringify(lines), feesOnChain: onChain.toString() }, txHash: lastTx },
  );
}

/**
 * The `fee-ledger` job: each daily statement's fees (its `totals.fees`: the day's commissions and account fee) are
 * charged on the chain's fee ledger under the reference `<id>:fee:day:<day>`, once, for every anchored agreement
 * bound to its client's account and not ending, so the equity the chain values follows the statements day by day.
 * A day whose fees the account's cash cannot pay, or that would take an indebted account below initial margin, is
 * left for the agreement's end (which charges what the rules amount to beyond the ledger).
 */
export async function chargeDailyFees(
  deps: AgreementEndDeps,
  lookbackDays = 400,
): Promise<{ charged: number; amount: bigint; refused: number }> {
  const out = { charged: 0, amount: 0n, refused: 0 };
  for (const legal of await deps.store.legal.listAnchoredAgreements()) {
    const terms = legal.document.terms;
    const id = terms.agreementId;
    if (await deps.store.agreementEnds.getEnd(id)) continue;
    const binding = await deps.chain.bindingOf(terms.client.address);
    if (binding.agreementId.toLowerCase() !== id.toLowerCase()) continue;
    const statements = (await deps.store.legal.listStatementsOf(terms.client.address, lookbackDays))
      .filter((s) => s.agreementId === id && s.from === s.to)
      .reverse();
    for (const s of statements) {
      const fees = BigInt(String((JSON.parse(s.json) as { totals?: { fees?: unknown } }).totals?.fees ?? "0"));
      if (fees === 0n) continue;
      const ref = feeRef(id, `day:${s.from}`);
      if ((await deps.chain.chargedFee(ref)) !== undefined) continue;
      if ((await deps.chain.cashOf(terms.client.address)) < fees) {
        out.refused++;
        continue;
      }
      try {
        await deps.chain.chargeFee(id, fees, ref);
        out.charged++;
        out.amount += fees;
      } catch (err) {
        // Refused on-chain (an indebted account that would fall below initial margin): the end collects it.
        if (!(err instanceof AppError && err.code === "CHAIN_REVERTED")) throw err;
        out.refused++;
        deps.log.warn("daily fees not charged", { agreementId: id, day: s.from, err });
      }
    }
  }
  if (out.charged || out.refused) deps.log.info("fee ledger", { ...out, amount: out.amount.toString() });
  return out;
}

/** What each fee rule of the agreement amounts to over its life (base units, rounded up as the statements do). */
async function feesDue(
  deps: AgreementEndDeps,
  rec: AgreementEndRecord,
  terms: FinancingTerms,
): Promise<{ code: string; label: string; amount: bigint }[]> {
  // The account-management fee runs for every natural day the financing is open, up to the day its fees are taken.
  const settledOn = dateOfTimestamp(await deps.chain.now(), OFFSET);
  const days = BigInt(Math.max(0, daysBetween(dateOfTimestamp(terms.effectiveAt, OFFSET), settledOn)));
  const out: { code: string; label: string; amount: bigint }[] = [];
  const anchorBlock = Number(rec.facts.anchorBlock ?? 0);
  for (const rule of terms.fees) {
    let amount = 0n;
    if (rule.kind === "fixed") amount = rule.amount;
    else if (rule.kind === "daily-on-own-funds")
      amount = divUp(terms.ownFunds * BigInt(rule.annualBps) * days, BPS * DAYS_PER_YEAR);
    else {
      const decimals = new Map(deps.chain.tokens.map((t) => [t.address.toLowerCase(), t.decimals]));
      for (const t of await deps.store.settlement.tradesSettledBetween(anchorBlock, Number.MAX_SAFE_INTEGER)) {
        const mine = [t.buy.account, t.sell.account].some((a) => a.toLowerCase() === rec.account);
        const dec = decimals.get(t.instrument.toLowerCase());
        if (!mine || dec === undefined) continue;
        amount += tradeFee(rule, divUp(t.quantity * t.price, 10n ** BigInt(dec)));
      }
    }
    out.push({ code: rule.code, label: rule.label, amount });
  }
  return out;
}

/**
 * 5–6. The waterfall from the chain's figures, executed on-chain in one transaction: the providers' share of the
 * performance fee into the pool (their share price shows it), the platform's to its account, the registry entry
 * closed with the final settlement's hash (AgreementSettlement.settleEnd). The figures are journaled before the
 * send, so a retry after a crash sends the same hash; a registry entry found closed is adopted from the chain.
 */
async function settle(
  deps: AgreementEndDeps,
  rec: AgreementEndRecord,
  owner: string,
  terms: FinancingTerms,
): Promise<Outcome> {
  const { chain } = deps;
  let facts = rec.facts;
  if (facts.settledOn === undefined) {
    const cash = rec.facts.bound === "false" ? 0n : await chain.cashOf(rec.account);
    const flows =
      rec.facts.bound === "false"
        ? { borrowed: 0n, repaid: 0n, fromInsurance: 0n, writtenOff: 0n }
        : await chain.debtFlows(rec.account, Number(facts.anchorBlock ?? 0));
    const feeLines = (JSON.parse(facts.feeLines ?? "[]") as { amount: string }[]).map((l) => BigInt(l.amount));
    const fees = feeLines.reduce((s, x) => s + x, 0n);
    const extinguished = flows.fromInsurance + flows.writtenOff;
    const interest = flows.repaid + extinguished > flows.borrowed ? flows.repaid + extinguished - flows.borrowed : 0n;
    const prices = await chain.sharePrices();
    facts = {
      ...facts,
      feeLines: facts.feeLines ?? "[]",
      settledOn: dateOfTimestamp(await chain.now(), OFFSET),
      closingCash: (cash + flows.repaid + fees).toString(),
      cashAtSettlement: cash.toString(),
      principal: flows.borrowed.toString(),
      interestDue: interest.toString(),
      fromInsurance: flows.fromInsurance.toString(),
      writtenOff: flows.writtenOff.toString(),
      seniorPriceBefore: prices.senior.toString(),
      juniorPriceBefore: prices.junior.toString(),
    };
    const s = finalSettlementOf({ ...rec, facts }, terms)!;
    facts = { ...facts, finalHash: finalSettlementHash(s) };
    const journaled = await journal(deps, rec, owner, facts);
    rec = journaled;
  }
  const s = finalSettlementOf(rec, terms)!;
  const providers = s.profitShares.capitalProviders;
  const platform = s.profitShares.platform;
  const cashAtSettlement = BigInt(facts.cashAtSettlement);
  if (providers + platform > cashAtSettlement)
    return {
      kind: "fail",
      reason: {
        en: `the shares (${providers} + ${platform}) exceed the account's cash ${cashAtSettlement}`,
        zh: `分成（${providers} + ${platform}）超过账户现金 ${cashAtSettlement}`,
      },
    };
  let txHash: string | undefined;
  const anchor = await chain.anchorOf(rec.agreementId);
  if (anchor.closedAt === 0) {
    await journal(deps, rec, owner);
    txHash = (await chain.settleEnd(rec.agreementId, providers, platform, facts.finalHash)).txHash;
  }
  const onChain = await chain.settlementOf(rec.agreementId);
  if (onChain.finalHash.toLowerCase() !== facts.finalHash.toLowerCase())
    return {
      kind: "fail",
      reason: {
        en: `the registry entry was closed with another hash (${onChain.finalHash})`,
        zh: `登记簿条目已以其他哈希关闭（${onChain.finalHash}）`,
      },
    };
  const prices = await chain.sharePrices();
  const d = terms.currency.decimals;
  const sym = terms.currency.symbol;
  return next(
    {
      en: `waterfall executed on-chain: ${formatUnits(providers, d)} ${sym} into the pool, ${formatUnits(platform, d)} ${sym} to the platform account; registry closed with ${facts.finalHash.slice(0, 18)}…`,
      zh: `链上执行分配顺序：${formatUnits(providers, d)} ${sym} 注入资金池，${formatUnits(platform, d)} ${sym} 划入平台账户；登记簿已关闭（${facts.finalHash.slice(0, 18)}…）`,
    },
    {
      facts: {
        providersShare: providers.toString(),
        platformShare: platform.toString(),
        seniorPriceAfter: prices.senior.toString(),
        juniorPriceAfter: prices.junior.toString(),
        closedOnChainAt: String(onChain.settledAt),
      },
      txHash,
    },
  );
}

/**
 * 7. The final statement (stored under the agreement with its hash) and the client's payout as a pain.001,
 * validated against the ISO 20022 schema before it is stored (message id derived from the agreement: a retry finds
 * it stored and uses it). The agreement's record is closed with the final settlement's hash.
 */
async function statement(deps: AgreementEndDeps, rec: AgreementEndRecord, terms: FinancingTerms): Promise<Outcome> {
  const s = finalSettlementOf(rec, terms)!;
  const hash = rec.facts.finalHash;
  // The final statement is the final settlement itself: its canonical JSON is kept in this record (its keccak256 is
  // the hash the registry closed with), served by GET /v1/agreements/:id/end with its lines and text.
  const finalStatement = canonicalize(s);
  if (finalSettlementHash(s) !== hash)
    return {
      kind: "fail",
      reason: {
        en: "the final settlement no longer matches the hash journaled before the registry was closed",
        zh: "最终结算与关闭登记簿前记录的哈希不一致",
      },
    };
  const legal = await deps.store.legal.getAgreement(rec.agreementId);
  if (legal?.status === "anchored") {
    await new AgreementService(deps.store.legal, {}).markClosed(rec.agreementId, hash).catch((err: unknown) => {
      deps.log.warn("agreement end: the record was closed meanwhile", { agreementId: rec.agreementId, err });
    });
  }
  const minor = CURRENCY_MINOR_UNITS[terms.currency.iso4217] ?? terms.currency.decimals;
  const unit = 10n ** BigInt(terms.currency.decimals - minor);
  const cashLeft =
    BigInt(rec.facts.cashAtSettlement) -
    BigInt(rec.facts.providersShare ?? "0") -
    BigInt(rec.facts.platformShare ?? "0");
  const payout = divDown(cashLeft, unit) * unit;
  if (payout === 0n)
    return next(
      { en: "final statement issued; nothing to pay out to the client", zh: "已出具最终结算单；无需向客户付款" },
      { facts: { payout: "0", finalStatement }, skipTo: "done" },
    );
  if (!deps.custody)
    return {
      kind: "fail",
      reason: {
        en: "no custody account is configured (settlement.custody): the pain.001 has no debtor",
        zh: "未配置托管账户（settlement.custody）：pain.001 缺少付款人",
      },
    };
  if (rec.facts.payee === undefined)
    return wait({
      en: `the client's bank account for its payout of ${formatUnits(payout, terms.currency.decimals)} is needed (POST /v1/agreements/:id/end with the payee)`,
      zh: `需要客户提供收款银行账户以支付 ${formatUnits(payout, terms.currency.decimals)}（POST /v1/agreements/:id/end，附收款人）`,
    });
  const payee = JSON.parse(rec.facts.payee) as Payee;
  const messageId = `FS-${rec.agreementId.slice(2, 18)}`;
  const endToEndId = `${messageId}-CLIENT`;
  let stored = await deps.store.legal.getPaymentMessage(messageId);
  if (!stored) {
    const createdAt = new Date((deps.now ?? Date.now)()).toISOString();
    const xml = buildPain001({
      messageId,
      createdAt,
      initiatingParty: deps.custody.initiatingParty,
      payments: [
        {
          paymentInfoId: `${messageId}-1`,
          requestedExecutionDate: s.settledOn,
          debtor: deps.custody.debtor,
          debtorAccount: deps.custody.debtorAccount,
          debtorAgent: deps.custody.debtorAgent,
          transfers: [
            {
              endToEndId,
              amount: payout,
              decimals: terms.currency.decimals,
              currency: terms.currency.iso4217,
              creditor: { name: payee.name },
              creditorAccount: payee.account,
              creditorAgent: payee.agent,
              remittance: `Final settlement ${s.settledOn} of agreement ${rec.agreementId.slice(0, 18)}`,
            },
          ],
        },
      ],
    });
    const report = await validatePain001(xml);
    if (!report.valid)
      return {
        kind: "fail",
        reason: {
          en: `the client's pain.001 does not validate: ${report.issues
            .slice(0, 3)
            .map((i) => `${i.path}: ${i.message}`)
            .join("; ")}`,
          zh: `客户付款 pain.001 未通过校验：${report.issues
            .slice(0, 3)
            .map((i) => `${i.path}: ${i.message}`)
            .join("；")}`,
        },
      };
    const message = { messageId, createdAt, xml, hash: keccak256(toUtf8Bytes(xml)), endToEndIds: [endToEndId] };
    await deps.store.legal.putPaymentMessage(message).catch(async (err: unknown) => {
      if (!(await deps.store.legal.getPaymentMessage(messageId))) throw err;
    });
    stored = (await deps.store.legal.getPaymentMessage(messageId))!;
  }
  const d = terms.currency.decimals;
  return next(
    {
      en: `final statement issued (hash ${hash.slice(0, 18)}…); pain.001 ${messageId} pays the client ${formatUnits(payout, d)} ${terms.currency.iso4217} (schema-valid)`,
      zh: `已出具最终结算单（哈希 ${hash.slice(0, 18)}…）；pain.001 ${messageId} 向客户支付 ${formatUnits(payout, d)} ${terms.currency.iso4217}（已通过 XSD 校验）`,
    },
    {
      facts: {
        finalStatement,
        messageId,
        messageHash: stored.hash,
        endToEndId,
        payoutRef: chainReference(endToEndId),
        payout: payout.toString(),
      },
    },
  );
}

/**
 * 8. The bank leg against the chain: the client's cash leaves the chain by a redemption carrying the payout's
 * reference (CollateralToken.redeem(amount, payoutRef)), and the custodian bank's confirmation books the payment
 * under the same EndToEndId. Done when they match exactly once (nothing paid or counted twice).
 */
async function reconcileBankLeg(
  deps: AgreementEndDeps,
  rec: AgreementEndRecord,
  terms: FinancingTerms,
): Promise<Outcome> {
  const f = rec.facts;
  const d = terms.currency.decimals;
  const payout = BigInt(f.payout);
  const redemptions = await deps.chain.redemptions(rec.account, f.payoutRef, Number(f.anchorBlock ?? 0));
  if (redemptions.length === 0)
    return wait({
      en: `the client withdraws ${formatUnits(payout, d)} from its margin account and redeems it with payoutRef ${f.payoutRef} (${f.endToEndId})`,
      zh: `客户须从保证金账户提取 ${formatUnits(payout, d)} 并以 payoutRef ${f.payoutRef}（${f.endToEndId}）赎回`,
    });
  if (!f.bankFile)
    return wait({
      en: `redeemed on-chain (tx ${redemptions[0].txHash}); awaiting the custodian bank's confirmation of ${f.endToEndId}`,
      zh: `已在链上赎回（交易 ${redemptions[0].txHash}）；等待托管银行对 ${f.endToEndId} 的回单`,
    });
  const file = JSON.parse(f.bankFile) as { format: "camt054" | "csv"; content: string };
  const bank = (file.format === "camt054" ? parseCamt054(file.content) : parseConfirmationCsv(file.content)).filter(
    (b) => b.endToEndId === f.endToEndId,
  );
  const report = reconcile(
    bank,
    redemptions.map((r) => ({
      kind: "redeem" as const,
      ref: f.payoutRef,
      account: rec.account,
      amount: r.amount,
      decimals: d,
      currency: terms.currency.iso4217,
      txHash: r.txHash,
      blockNumber: r.blockNumber,
    })),
  );
  const matched = report.matched.filter((m) => m.endToEndId === f.endToEndId);
  if (report.duplicates.length > 0 || report.mismatched.length > 0)
    return {
      kind: "fail",
      reason: {
        en: `the bank leg does not reconcile: ${report.mismatched.flatMap((m) => m.reasons).join("; ") || `${report.duplicates.length} duplicate(s)`}`,
        zh: `银行端与链上不一致：${report.mismatched.flatMap((m) => m.reasons).join("；") || `${report.duplicates.length} 笔重复`}`,
      },
    };
  if (matched.length !== 1)
    return wait({
      en: `the bank's confirmation does not book ${f.endToEndId} yet (pending ${report.pending.length})`,
      zh: `银行回单尚未记账 ${f.endToEndId}（待处理 ${report.pending.length} 笔）`,
    });
  if (redemptions[0].amount !== payout)
    return {
      kind: "fail",
      reason: {
        en: `redeemed ${formatUnits(redemptions[0].amount, d)} but the payout is ${formatUnits(payout, d)}`,
        zh: `赎回 ${formatUnits(redemptions[0].amount, d)}，但应付 ${formatUnits(payout, d)}`,
      },
    };
  return next(
    {
      en: `bank leg reconciled: ${f.endToEndId} booked ${matched[0].bookingDate}, redeemed in tx ${redemptions[0].txHash}; the agreement is executed`,
      zh: `银行端已对账：${f.endToEndId} 于 ${matched[0].bookingDate} 记账，链上赎回交易 ${redemptions[0].txHash}；协议执行完毕`,
    },
    { facts: { reconciledAt: matched[0].bookingDate, redeemTx: redemptions[0].txHash } },
  );
}

// ───────────────────────────── helpers ─────────────────────────────

const OFFSET = BUSINESS_DAY_UTC_OFFSET_MINUTES;

function following(step: EndStep): EndStep {
  const i = END_STEPS.indexOf(step as (typeof END_STEPS)[number]);
  return i < 0 || i + 1 >= END_STEPS.length ? "done" : END_STEPS[i + 1];
}

function event(at: number, step: EndStep, status: EndEvent["status"], note: Text): EndEvent {
  return { at, step, status, note };
}

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");
}

function symbolOf(deps: AgreementEndDeps, asset: string): string {
  return deps.chain.tokens.find((t) => t.address.toLowerCase() === asset.toLowerCase())?.symbol ?? asset;
}

function describe(err: unknown): Text {
  const msg = err instanceof Error ? err.message : String(err);
  return { en: msg, zh: `步骤未完成：${msg}` };
}

/** One compare-and-swap write of a patch (false when the record changed meanwhile). */
async function write(
  deps: AgreementEndDeps,
  rec: AgreementEndRecord,
  patch: Partial<AgreementEndRecord>,
): Promise<AgreementEndRecord | undefined> {
  const nextRec = { ...rec, ...patch, updatedAt: (deps.now ?? Date.now)() };
  if (!(await deps.store.agreementEnds.updateEnd(nextRec, rec.revision))) return undefined;
  return { ...nextRec, revision: rec.revision + 1 };
}

/**
 * Journal before a send: the step and (optionally) the figures it is about to send go into the record under our
 * lease, so a crash after the send leaves a trace and the same figures for the retry. Throws when the lease was
 * lost (another instance holds the workflow now: nothing is sent).
 */
async function journal(
  deps: AgreementEndDeps,
  rec: AgreementEndRecord,
  owner: string,
  facts?: Record<string, string>,
): Promise<AgreementEndRecord> {
  const latest = await deps.store.agreementEnds.getEnd(rec.agreementId);
  if (!latest || latest.lease?.owner !== owner)
    throw new AppError("CONFLICT", "the workflow was taken over by another instance", {
      details: { agreementId: rec.agreementId },
    });
  const clock = deps.now ?? Date.now;
  const written = await write(deps, latest, {
    pending: { step: latest.step, txHash: null, sentAt: clock() },
    facts: facts ? { ...latest.facts, ...facts } : latest.facts,
    lease: { owner, until: clock() + deps.leaseMs },
  });
  if (!written)
    throw new AppError("CONFLICT", "the workflow changed meanwhile", { details: { agreementId: rec.agreementId } });
  return written;
}

async function setDeadline(deps: AgreementEndDeps, agreementId: string, deadline: number): Promise<void> {
  const latest = await deps.store.agreementEnds.getEnd(agreementId);
  if (latest && latest.closeDeadline !== deadline) await write(deps, latest, { closeDeadline: deadline });
}
