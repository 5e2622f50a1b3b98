import type { StatementChain } from "../chain/statementChain";
import type { DeploymentRecord } from "../chain/deployment";
import { AppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";
import type { StoredEvent } from "../store/repos/chain";
import type { AgreementRecord } from "./legal/port";
import { addDays, dateOfTimestamp, type IsoDate } from "./legal/days";
import {
  buildStatement,
  statementHash,
  type CashMovementInput,
  type PositionMovementInput,
  type Statement,
  type StatementInput,
  type StatementSources,
  type TradeInput,
} from "./legal/statement";
import { statementToJson } from "./legal/statementRender";

/** The platform's business day: natural days in Beijing time (UTC+8), as the financing terms quote interest. */
export const BUSINESS_DAY_UTC_OFFSET_MINUTES = 480;
const WAD = 10n ** 18n;

export interface DailyStatementDeps {
  store: Store;
  chain: StatementChain;
  deployment: DeploymentRecord;
  /** The indexer whose confirmed cursor bounds what is read (events and pinned state). */
  indexerName?: string;
  log: Logger;
}

export interface IssuedStatement {
  agreementId: string;
  account: string;
  hash: string;
}

/**
 * Builds each anchored agreement's daily statement from the chain, once the day has closed on the indexed chain:
 *
 * - the day's block range is [first block at or after 00:00, last block before 24:00) in Beijing time, found by
 *   block timestamp; a day is closed when the indexer's confirmed cursor has a block at or after its end;
 * - activity from the indexed MarginEngine events of the range (collateral deposits and withdrawals, borrowing,
 *   repayments, liquidation segments, and a default that extinguishes the rest of the debt) and the settlement queue's trades settled in it (marked from indexed
 *   SettlementHub events), each with its transaction hash;
 * - closing prices from the oracle router at the day's last block, with the feed's round (pinned reads);
 * - the opening state is the previous day's statement (re-derived from its stored input); the first statement of
 *   an agreement opens from the margin account at the last block before its first day, securities valued at the
 *   oracle price of that block (their cost basis from then on) and the debt then outstanding as principal.
 *
 * Statements are stored once per (agreement, day) with the input they derive from; running a day again finds it
 * issued and changes nothing. Catching up after downtime builds every closed day in order.
 */
export class DailyStatements {
  private readonly offset = BUSINESS_DAY_UTC_OFFSET_MINUTES;
  private readonly cash;
  private readonly securities;

  constructor(private readonly deps: DailyStatementDeps) {
    this.cash = deps.deployment.tokens.find((t) => t.kind === "cash")!;
    this.securities = deps.deployment.tokens.filter((t) => t.kind !== "cash");
  }

  /** The job's pass: every anchored agreement, every closed day not yet issued (oldest first). */
  async runDue(): Promise<IssuedStatement[]> {
    const head = await this.confirmedHead();
    if (head === undefined) return [];
    const closedThrough = addDays(dateOfTimestamp((await this.deps.chain.block(head)).timestamp, this.offset), -1);
    const out: IssuedStatement[] = [];
    for (const rec of await this.deps.store.legal.listAnchoredAgreements()) {
      const first = this.firstDay(rec);
      const last = await this.lastIssuedDay(rec, first);
      for (let day = last === undefined ? first : addDays(last, 1); day <= closedThrough; day = addDays(day, 1)) {
        out.push(await this.issue(rec, day, head));
      }
    }
    return out;
  }

  /** Builds (or finds) the statements of one closed day for every anchored agreement active on it. */
  async runDay(day: IsoDate): Promise<{ day: IsoDate; statements: IssuedStatement[] }> {
    const head = await this.confirmedHead();
    const end = this.dayStart(addDays(day, 1));
    if (head === undefined || (await this.deps.chain.block(head)).timestamp < end) {
      throw new AppError("CONFLICT", `${day} has not closed on the indexed chain yet`, {
        details: { day, indexedBlock: head ?? null },
      });
    }
    const statements: IssuedStatement[] = [];
    for (const rec of await this.deps.store.legal.listAnchoredAgreements()) {
      const first = this.firstDay(rec);
      if (day < first) continue;
      // earlier days first: each statement opens from the previous one
      const last = await this.lastIssuedDay(rec, first);
      for (let d = last === undefined ? first : addDays(last, 1); d < day; d = addDays(d, 1))
        await this.issue(rec, d, head);
      statements.push(await this.issue(rec, day, head));
    }
    return { day, statements };
  }

  private async confirmedHead(): Promise<number | undefined> {
    return (await this.deps.store.chain.cursor(this.deps.indexerName ?? "main"))?.blockNumber;
  }

  /** Unix seconds of 00:00 of `day` in business time. */
  private dayStart(day: IsoDate): number {
    return Date.parse(`${day}T00:00:00Z`) / 1000 - this.offset * 60;
  }

  private firstDay(rec: AgreementRecord): IsoDate {
    return dateOfTimestamp(rec.document.terms.effectiveAt, this.offset);
  }

  private async lastIssuedDay(rec: AgreementRecord, first: IsoDate): Promise<IsoDate | undefined> {
    return this.deps.store.legal.lastStatementDay(rec.document.terms.agreementId, first);
  }

  /** Issues (idempotently) the statement of `day` for `rec`; the previous day must be issued (or `day` first). */
  private async issue(rec: AgreementRecord, day: IsoDate, head: number): Promise<IssuedStatement> {
    const terms = rec.document.terms;
    const account = terms.client.address;
    const existing = await this.deps.store.legal.getStatement(terms.agreementId, day, day);
    if (existing) return { agreementId: terms.agreementId, account, hash: existing.hash };
    const input = await this.inputFor(rec, day, head);
    const statement = buildStatement(input);
    const hash = statementHash(statement);
    await this.deps.store.transaction(async (tx) => {
      await tx.legal.putStatement({
        agreementId: terms.agreementId,
        from: day,
        to: day,
        account,
        hash,
        json: statementToJson(statement),
      });
      await tx.legal.putStatementInput(terms.agreementId, day, day, input);
    });
    this.deps.log.info("daily statement issued", { agreementId: terms.agreementId, day, hash });
    return { agreementId: terms.agreementId, account, hash };
  }

  private async inputFor(rec: AgreementRecord, day: IsoDate, head: number): Promise<StatementInput> {
    const { chain, store } = this.deps;
    const terms = rec.document.terms;
    const account = terms.client.address;
    const startTs = this.dayStart(day);
    const endTs = this.dayStart(addDays(day, 1));
    const openBlock = await chain.lastBlockBefore(startTs, head);
    const closeBlock = await chain.lastBlockBefore(endTs, head);
    const close = await chain.block(closeBlock);
    const symbolOf = new Map(this.deps.deployment.tokens.map((t) => [t.address.toLowerCase(), t.symbol]));
    const unit = (decimals: number): bigint => 10n ** BigInt(decimals);
    const cashUnit = unit(this.cash.decimals);
    const toCash = (price18: bigint): bigint => (price18 * cashUnit) / WAD;

    const opening = await this.opening(rec, day, openBlock);

    // Prices at the close, with the oracle round behind each.
    const closingPrices: Record<string, bigint> = {};
    const sources: StatementSources = {
      chainId: chain.chainId,
      block: close.number,
      blockHash: close.hash,
      blockTime: close.timestamp,
      prices: {},
    };
    for (const t of this.securities) {
      const p = await chain.price(t.address, closeBlock);
      closingPrices[t.symbol] = toCash(p.price18);
      sources.prices[t.symbol] = {
        feed: p.feed,
        roundId: p.roundId.toString(),
        answer: p.answer.toString(),
        updatedAt: p.updatedAt,
      };
    }

    // The day's indexed MarginEngine events of this account.
    const events = (await this.engineEvents(openBlock + 1, closeBlock)).filter(
      (e) => String(e.args.account).toLowerCase() === account.toLowerCase(),
    );
    const cashMovements: CashMovementInput[] = [];
    const positionMovements: PositionMovementInput[] = [];
    let principal = opening.principal;
    /** Debt repaid by liquidation segments, per transaction (a default's fromAccount includes them). */
    const repaidInTx = new Map<string, bigint>();
    for (const e of events) {
      const ts = (await chain.block(e.blockNumber)).timestamp;
      const reference = `${e.txHash}:${e.logIndex}`;
      const asset = symbolOf.get(String(e.args.asset ?? "").toLowerCase());
      const amount = BigInt(String(e.args.amount ?? e.args.units ?? "0"));
      if (e.event === "CollateralDeposited" || e.event === "CollateralWithdrawn") {
        const kind = e.event === "CollateralDeposited" ? "deposit" : "withdrawal";
        if (asset === this.cash.symbol) cashMovements.push({ date: day, kind, amount, reference });
        else if (asset !== undefined) {
          const p = await chain.price(String(e.args.asset), e.blockNumber);
          positionMovements.push({ at: ts, asset, kind, quantity: amount, price: toCash(p.price18), reference });
        }
      } else if (e.event === "Borrowed") {
        cashMovements.push({ date: day, kind: "borrow", amount, reference });
        principal += amount;
      } else if (e.event === "Repaid") {
        // repayFromWallet brings the cash from the wallet: in and straight out again
        if (await chain.repaidFromWallet(e.txHash))
          cashMovements.push({ date: day, kind: "deposit", amount, reference: `${reference}:wallet` });
        cashMovements.push({ date: day, kind: "repay", amount, reference });
        principal = principal > amount ? principal - amount : 0n;
      } else if (e.event === "Liquidated" && asset !== undefined) {
        const value = BigInt(String(e.args.value));
        const proceeds = value - BigInt(String(e.args.liquidatorBonus)) - BigInt(String(e.args.insuranceShare));
        const repaid = BigInt(String(e.args.debtRepaid));
        positionMovements.push({
          at: ts,
          asset,
          kind: "liquidation",
          quantity: amount,
          price: toCash(BigInt(String(e.args.price))),
          proceeds,
          reference,
        });
        if (repaid > 0n) cashMovements.push({ date: day, kind: "repay", amount: repaid, reference });
        repaidInTx.set(e.txHash, (repaidInTx.get(e.txHash) ?? 0n) + repaid);
        principal = principal > repaid ? principal - repaid : 0n;
      } else if (e.event === "DefaultSettled") {
        // the waterfall took the account's remaining cash first, then extinguished what it could not repay
        // (insurance fund, then a pool write-off)
        // fromAccount counts the closing liquidation's segment proceeds (already repaid above) and the cash
        const fromCash = BigInt(String(e.args.fromAccount)) - (repaidInTx.get(e.txHash) ?? 0n);
        if (fromCash > 0n) cashMovements.push({ date: day, kind: "repay", amount: fromCash, reference });
        principal = 0n;
      }
    }

    // Trades settled on the chain during the day (the batcher's queue, marked settled from indexed events).
    const trades: TradeInput[] = [];
    for (const t of await store.settlement.tradesSettledBetween(openBlock + 1, closeBlock)) {
      const buyer = t.buy.account.toLowerCase() === account.toLowerCase();
      const seller = t.sell.account.toLowerCase() === account.toLowerCase();
      if (!buyer && !seller) continue;
      const asset = symbolOf.get(t.instrument.toLowerCase());
      if (asset === undefined) continue;
      trades.push({
        tradeId: t.tradeId,
        at: (await chain.block(t.settledBlock!)).timestamp,
        asset,
        side: buyer ? "buy" : "sell",
        quantity: t.quantity,
        price: t.price,
        ...(t.batchId ? { batchId: t.batchId } : {}),
        ...(t.settledTx ? { txHash: t.settledTx } : {}),
      });
    }

    return {
      terms,
      period: { from: day, to: day },
      assetDecimals: Object.fromEntries(this.deps.deployment.tokens.map((t) => [t.symbol, t.decimals])),
      openingCash: opening.cash,
      openingPositions: opening.positions,
      trades,
      cashMovements,
      positionMovements,
      dailyPrincipal: [{ date: day, principal }],
      openingAccruals: opening.accruals,
      closingPrices,
      utcOffsetMinutes: this.offset,
      sources,
      generatedAt: close.timestamp,
    };
  }

  private async engineEvents(from: number, to: number): Promise<StoredEvent[]> {
    if (to < from) return [];
    return this.deps.store.chain.events(this.deps.indexerName ?? "main", {
      contract: "MarginEngine",
      fromBlock: from,
      toBlock: to,
    });
  }

  /** The opening state of `day`: the previous day's closing statement, or the chain before the first day. */
  private async opening(
    rec: AgreementRecord,
    day: IsoDate,
    openBlock: number,
  ): Promise<{
    cash: bigint;
    positions: StatementInput["openingPositions"];
    principal: bigint;
    accruals: StatementInput["openingAccruals"];
  }> {
    const id = rec.document.terms.agreementId;
    const prevDay = addDays(day, -1);
    const prevInput = await this.deps.store.legal.getStatementInput<StatementInput>(id, prevDay, prevDay);
    if (prevInput) {
      const prev: Statement = buildStatement(prevInput);
      return {
        cash: prev.balances.closingCash,
        positions: prev.positions.map((p) => ({ asset: p.asset, quantity: p.quantity, costBasis: p.costBasis })),
        principal: prev.balances.principal,
        accruals: prev.closingAccruals,
      };
    }
    if (day !== this.firstDay(rec))
      throw new AppError("CONFLICT", `the statement of ${prevDay} is missing for agreement ${id}`);
    const account = rec.document.terms.client.address;
    const { chain } = this.deps;
    if (openBlock < 0)
      return { cash: 0n, positions: [], principal: 0n, accruals: { interest: { scaled: 0n, charged: 0n }, fees: {} } };
    const cash = await chain.balanceOf(account, this.cash.address, openBlock);
    const positions: StatementInput["openingPositions"] = [];
    for (const t of this.securities) {
      const quantity = await chain.balanceOf(account, t.address, openBlock);
      if (quantity === 0n) continue;
      const p = await chain.price(t.address, openBlock);
      const price = (p.price18 * 10n ** BigInt(this.cash.decimals)) / WAD;
      positions.push({ asset: t.symbol, quantity, costBasis: (quantity * price) / 10n ** BigInt(t.decimals) });
    }
    const principal = await this.debtAt(account, openBlock);
    return { cash, positions, principal, accruals: { interest: { scaled: 0n, charged: 0n }, fees: {} } };
  }

  private async debtAt(account: string, block: number): Promise<bigint> {
    return this.deps.chain.debtOf(account, block);
  }
}
