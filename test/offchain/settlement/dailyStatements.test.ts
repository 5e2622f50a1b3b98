import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JsonRpcSigner } from "ethers";
import { ApiClient } from "../../../offchain/api";
import { statementChain } from "../../../offchain/chain/statementChain";
import type { Service } from "../../../offchain/main";
import { BUSINESS_DAY_UTC_OFFSET_MINUTES, DailyStatements } from "../../../offchain/settlement";
import {
  AgreementService,
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  buildStatement,
  dateOfTimestamp,
  type StatementInput,
} from "../../../offchain/settlement/legal";
import { silentLogger } from "../../../offchain/shared/logger";
import { AgreementRegistry__factory, MarginEngine__factory, OracleRouter__factory } from "../../../typechain-types";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { CHROMIUM, CNY, E2eStack, SHOTS, launchChromium } from "../../helpers/e2eStack";
import { seedTerms } from "./legal/seed";

const CHAIN_PORT = 8920;
const API_PORT = 19200;
const DAY = 86_400;
const offset = BUSINESS_DAY_UTC_OFFSET_MINUTES;

/**
 * The daily statement job over a real hardhat node and the service on SQLite: an anchored agreement's account
 * deposits, borrows, repays and adds collateral across natural days (chain time moved with evm_increaseTime);
 * each closed day's statement is built once from the indexed events and pinned chain reads, and its figures are the
 * chain's own at the day's last block.
 */
describe("settlement: daily statements from the indexed chain", function () {
  this.timeout(120_000);
  let dev: DevChain;
  let dir: string;
  let service: Service;
  let client: JsonRpcSigner;
  let stack: E2eStack;
  let agreementId: string;
  const days: string[] = [];

  const chainNow = async (): Promise<number> => (await dev.chain.provider.getBlock("latest"))!.timestamp;
  const nextDay = async (): Promise<void> => {
    const now = await chainNow();
    const local = now + offset * 60;
    const toMidnight = DAY - (local % DAY);
    await dev.chain.provider.send("evm_increaseTime", [toMidnight + 3_600]);
    await dev.chain.provider.send("evm_mine", []);
  };
  /** Waits until the indexer has confirmed every block so far (one more block is mined on top of them). */
  const indexed = async (): Promise<void> => {
    const head = await dev.chain.provider.getBlockNumber();
    await dev.chain.provider.send("evm_mine", []);
    for (let i = 0; i < 200; i++) {
      if (((await service.store.chain.cursor("main"))?.blockNumber ?? -1) >= head) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the indexer did not reach the head");
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "mb-daily-"));
    dev = await startDevChain(CHAIN_PORT);
    stack = new E2eStack(dev, dir);
    const p = dev.chain.provider;
    client = await p.getSigner(10);
    const lender = await p.getSigner(11);
    const platform = await p.getSigner(12);
    await stack.verify(5, [client, "daily-client"], [lender, "daily-lender"]);
    await stack.relayPrices({ mbBANK: "10", mbTECH: "50", mbSMALL: "20" });
    await stack.mint("mbCNY", lender, 1_000_000n * CNY, "daily-lender-1");
    await stack.mint("mbBANK", client, 12_000n, "daily-client-1");
    await stack.supplyPool(lender, 1_000_000n * CNY);

    service = await stack.startService(API_PORT, await client.getAddress());

    // The seed agreement, effective now, signed by both sides and anchored by the operator.
    const registry = AgreementRegistry__factory.connect(dev.record.contracts.AgreementRegistry, dev.signers[4]);
    const domain = agreementDomain(BigInt(dev.record.chainId), await registry.getAddress());
    const legal = new AgreementService(service.store.legal, domain);
    const now = await chainNow();
    const rec = await legal.prepare(
      seedTerms(await client.getAddress(), await platform.getAddress(), {
        agreementId: "0x" + "d1".repeat(32),
        effectiveAt: now,
        expiresAt: now + 365 * DAY,
      }),
    );
    agreementId = rec.document.terms.agreementId;
    const td = agreementTypedData(domain, agreementMessage(rec.document));
    for (const s of [platform, client])
      await legal.addSignature(agreementId, await s.signTypedData(td.domain, td.types, td.message));
    const receipt = await (await registry.anchor(...(await legal.anchorArguments(agreementId)))).wait();
    await legal.markAnchored(agreementId, {
      txHash: receipt!.hash,
      blockNumber: receipt!.blockNumber,
      registry: await registry.getAddress(),
      chainId: dev.record.chainId,
    });

    // Day 1: 10,000 mbBANK in (100,000 CNY at 10), 100,000 CNY borrowed.
    days.push(dateOfTimestamp(await chainNow(), offset));
    await stack.deposit(client, "mbBANK", 10_000n);
    await stack.borrow(client, 100_000n * CNY);
    // Day 2: 10,000 repaid from the margin cash, 2,000 mbBANK more; mbBANK marked at 11 (a new oracle round).
    await nextDay();
    days.push(dateOfTimestamp(await chainNow(), offset));
    await (await MarginEngine__factory.connect(dev.record.contracts.MarginEngine, client).repay(10_000n * CNY)).wait();
    await stack.deposit(client, "mbBANK", 2_000n);
    await stack.relayPrices({ mbBANK: "11", mbTECH: "50", mbSMALL: "20" });
    await nextDay(); // day 2 closes
    await indexed();
  });

  after(async () => {
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("POST /v1/statements/daily builds the closed day (and the missing day before it) from the chain", async () => {
    const operator = new ApiClient(service.url, service.demoKeys.operator!);
    const res = await operator.post<{
      day: string;
      statements: { agreementId: string; account: string; hash: string }[];
    }>("/v1/statements/daily", { day: days[1] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.day).to.equal(days[1]);
    expect(res.body.statements.map((s) => s.agreementId)).to.deep.equal([agreementId]);
    expect(await service.store.legal.lastStatementDay(agreementId, days[0])).to.equal(days[1]);

    const engine = MarginEngine__factory.connect(dev.record.contracts.MarginEngine, dev.chain.provider);
    const router = OracleRouter__factory.connect(dev.record.contracts.OracleRouter, dev.chain.provider);
    const account = await client.getAddress();
    for (const [i, day] of days.entries()) {
      const input = (await service.store.legal.getStatementInput<StatementInput>(agreementId, day, day))!;
      const s = buildStatement(input);
      const at = { blockTag: s.sources!.block };
      // The close block is the day's last: the next block is on a later day.
      const closeTime = (await dev.chain.provider.getBlock(s.sources!.block))!.timestamp;
      const nextTime = (await dev.chain.provider.getBlock(s.sources!.block + 1))!.timestamp;
      expect(dateOfTimestamp(closeTime, offset)).to.equal(day);
      expect(dateOfTimestamp(nextTime, offset) > day).to.equal(true);
      // Figures are the chain's own at that block: cash, securities, price with its round.
      expect(s.balances.closingCash).to.equal(await engine.balanceOf(account, dev.record.contracts.mbCNY, at));
      const bank = s.positions.find((x) => x.asset === "mbBANK")!;
      expect(bank.quantity).to.equal(await engine.balanceOf(account, dev.record.contracts.mbBANK, at));
      const [price18] = await router.getPrice(dev.record.contracts.mbBANK, at);
      expect(bank.price).to.equal((price18 * CNY) / 10n ** 18n);
      expect(s.sources!.prices.mbBANK.roundId).to.not.equal("0");
      // Interest per natural day on that day's principal: 8 % / 365 (ACT/365), cumulative rounding up.
      expect(s.interestByDay.map((d) => d.date)).to.deep.equal([day]);
      expect(s.balances.principal).to.equal(i === 0 ? 100_000n * CNY : 90_000n * CNY);
      expect(s.interestByDay[0].balance).to.equal(s.balances.principal);
    }
    const [d1, d2] = await Promise.all(
      days.map(async (d) =>
        buildStatement((await service.store.legal.getStatementInput<StatementInput>(agreementId, d, d))!),
      ),
    );
    // 100,000 × 8 % / 365 = 21.917808… → 21.917809 on day 1; day 2 carries the accrual on 90,000.
    expect(d1.interestByDay[0].amount).to.equal(21_917_809n);
    expect(d1.interestByDay[0].cumulative + d2.interestByDay[0].amount).to.equal(d2.interestByDay[0].cumulative);
    expect(d1.cashMovements.map((m) => [m.kind, m.amount])).to.deep.equal([["borrow", 100_000n * CNY]]);
    expect(d1.positionMovements!.map((m) => [m.kind, m.asset, m.quantity, m.price])).to.deep.equal([
      ["deposit", "mbBANK", 10_000n, 10n * CNY],
    ]);
    // Day 2 opens where day 1 closed; the repayment and the new collateral are listed with their transactions.
    expect(d2.balances.openingCash).to.equal(d1.balances.closingCash);
    expect(d2.cashMovements.map((m) => [m.kind, m.amount])).to.deep.equal([["repay", 10_000n * CNY]]);
    expect(d2.positionMovements!.map((m) => [m.kind, m.quantity])).to.deep.equal([["deposit", 2_000n]]);
    expect(d2.positions[0].costBasis).to.equal(120_000n * CNY);
    // 12,000 mbBANK bought in at 10 and marked at 11 on day 2's close, with day 2's round
    expect(d2.positions[0].price).to.equal(11n * CNY);
    expect(d2.positions[0].unrealisedPnl).to.equal(12_000n * CNY);
    expect(BigInt(d2.sources!.prices.mbBANK.roundId)).to.be.greaterThan(BigInt(d1.sources!.prices.mbBANK.roundId));

    // Idempotent: the same day again returns the same statements and stores nothing new.
    const again = await operator.post<typeof res.body>("/v1/statements/daily", { day: days[1] });
    expect(again.body.statements).to.deep.equal(res.body.statements);

    // The client reads its statement as HTML, with the sources section.
    const html = await new ApiClient(service.url, service.demoKeys.client!).get<{ body: string }>(
      `/v1/statements/${agreementId}/${days[1]}?format=html`,
    );
    expect(html.status).to.equal(200);
    expect(html.body.body).to.contain("Sources").and.to.contain("Cash movements");

    // The client lists its statements (newest first) for the console; staff name the account.
    const mine = await new ApiClient(service.url, service.demoKeys.client!).get<{
      statements: { from: string; interest: string; marginStatus: string }[];
    }>("/v1/statements");
    expect(mine.status).to.equal(200);
    expect(mine.body.statements.map((x) => x.from)).to.deep.equal([days[1], days[0]]);
    expect(mine.body.statements[1].interest).to.equal("21917809");
    expect((await operator.get("/v1/statements")).status).to.equal(400);
    const byAccount = await operator.get<{ statements: unknown[] }>(`/v1/statements?account=${account}`);
    expect(byAccount.body.statements).to.have.length(2);
  });

  it("the client console lists the statements (headless Chromium)", async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${service.url}/console/client.html`);
      const key = service.demoKeys.client!;
      await page.fill("input[name=keyId]", key.keyId);
      await page.fill("input[name=secret]", key.secret);
      await page.click("#key-form button[type=submit]");
      await page.waitForSelector(`#statements tbody td:has-text('${days[1]}')`, { timeout: 15_000 });
      const text = await page.textContent("#statements tbody");
      expect(text).to.contain(days[0]).and.to.contain("21.91"); // day 1's interest 21.917809, shown to the cent (truncated)
      await page.screenshot({ path: path.join(SHOTS, "console-client-statements.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it("refuses a day that has not closed (409), a malformed day (400) and a client caller (403)", async () => {
    const operator = new ApiClient(service.url, service.demoKeys.operator!);
    const today = dateOfTimestamp(await chainNow(), offset);
    const open = await operator.post<{ error: { code: string; message: string } }>("/v1/statements/daily", {
      day: today,
    });
    expect(open.status).to.equal(409);
    expect(open.body.error.message).to.contain("has not closed");
    expect((await operator.post("/v1/statements/daily", { day: "2026-13-45" })).status).to.equal(400);
    expect((await operator.post("/v1/statements/daily", { day: "2026-02-30" })).status).to.equal(400);
    const asClient = new ApiClient(service.url, service.demoKeys.client!);
    expect((await asClient.post("/v1/statements/daily", { day: days[0] })).status).to.equal(403);
  });

  it("catches up every missed day after downtime, once each (a fresh job instance, as after a restart)", async () => {
    await nextDay();
    await nextDay();
    await indexed();
    const job = () =>
      new DailyStatements({
        store: service.store,
        chain: statementChain(service.chain!),
        deployment: dev.record,
        log: silentLogger,
      });
    const issued = await job().runDue();
    expect(issued.length).to.equal(2); // days 3 and 4 (closed since day 2; day 5 is today)
    const last = await service.store.legal.lastStatementDay(agreementId, days[0]);
    expect(last! > days[1]).to.equal(true);
    expect(await job().runDue()).to.deep.equal([]);
    // No activity on the caught-up days: each opens where the previous closed; interest keeps accruing on 90,000.
    const s = buildStatement((await service.store.legal.getStatementInput<StatementInput>(agreementId, last!, last!))!);
    expect(s.balances.principal).to.equal(90_000n * CNY);
    expect(s.trades).to.deep.equal([]);
  });
});
