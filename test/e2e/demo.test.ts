import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { ApiClient, type ApiCredentials } from "../../offchain/api";
import type { AccountSummary, PoolSummary } from "../../offchain/portfolio";
import { auditClientProof, parseClientProof } from "../../offchain/reserves";
import { ReserveLedger__factory } from "../../typechain-types";
import { type Proc, runScript, waitForOutput } from "../helpers/childProcess";
import { CHROMIUM, SHOTS, launchChromium } from "../helpers/e2eStack";

const CHAIN_PORT = 8796;
const API_PORT = 18796;
const API = `http://127.0.0.1:${API_PORT}`;

/** A script of the project (npm start's or npm run demo's program) as a child process on the test's ports. */
function run(script: string, dataDir: string, env: Record<string, string> = {}): Proc {
  return runScript(script, {
    MB_DATA_DIR: dataDir,
    MB_DEPLOYMENTS_DIR: path.join(dataDir, "deployments"),
    MB_CHAIN_PORT: String(CHAIN_PORT),
    MB_API_PORT: String(API_PORT),
    MB_PRACTICE_PORT: String(API_PORT + 1),
    MB_ORACLE_INTERVAL_MS: "1000",
    MB_LOG_LEVEL: "warn",
    ...env,
  });
}

async function running(p: Proc): Promise<void> {
  await waitForOutput(p, /MarginBridge is running/, 180_000);
}

async function stop(p: Proc): Promise<void> {
  p.child.kill("SIGINT");
  expect(await p.exited, p.output().slice(-3000)).to.equal(0);
}

/**
 * The main job end to end: `npm start` in a child process (durable local chain, service on SQLite, reporters,
 * keeper, batcher, console), `npm run demo` against it as users would; the platform is stopped and started again
 * in the middle of the scenario and the demo resumes. The assertions read the system, not the narration only.
 */
describe("npm start + npm run demo, restarted in the middle (e2e)", function () {
  this.timeout(900_000);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "mb-demo-"));
  let platform: Proc | undefined;
  let narration = "";

  after(async () => {
    if (platform && platform.child.exitCode === null) {
      platform.child.kill("SIGKILL");
      await platform.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs the seed flow to the trades, survives a restart of the platform, and finishes it", async () => {
    platform = run("scripts/start.ts", dataDir);
    await running(platform);
    const keysFile = path.join(dataDir, "demo-keys.json");
    expect(statSync(keysFile).mode & 0o777).to.equal(0o600);

    // The first half narrates in Chinese (the default language), the second in English (MB_LANG=en).
    const first = run("scripts/demo.ts", dataDir, { MB_DEMO_STOP_AFTER: "trading" });
    expect(await first.exited, first.output()).to.equal(0);
    expect(first.output()).to.match(/已在“trading”之后停止/);
    expect(first.output()).to.match(/已结算：[\d,]+ mbBANK/);
    expect(first.output()).to.match(/已结算：[\d,]+ mbSMALL/);
    // the simulator's figures before client A signs its first buy (POST /v1/simulate)
    expect(first.output()).to.match(
      /下单前的模拟（客户 A 签名之前）：保证金比例 .+ → [\d.]+%，买入后 mbBANK 的强平价格 [\d.]+/,
    );
    // client A's ATR trailing stop, armed at entry with its child order signed then
    expect(first.output()).to.match(
      /客户 A 在建仓时为 [\d,]+ mbBANK 设置 ATR 跟踪止损（订单 \d+）：止损价 [\d,.]+ = 最高价/,
    );
    expect(first.output()).to.match(/\[2\/\d+\] KYC：每位用户完成适当性测评/);
    expect(first.output()).to.match(/赎回申请排队中：senior 编号 \d+/);
    for (const line of [
      /clientA +测评答对 7\/7：测评等级 5，问卷等级 5 → 等级 5 = min\(5, 5\)/,
      /provider +测评答对 6\/7：测评等级 2，问卷等级 5 → 等级 2 = min\(5, 2\)/,
      /clientA +签署了《风险揭示书》v1 的确认，keccak256 0x[0-9a-f]{16}…/,
      /clientA +Li Wei：approved（已批准），评分 \d+，等级 5（杠杆最高 5×）/,
      /clientA +签署了《融资合同摘要》v1 的确认/,
      /mbBANK（流动性等级 1）：动态模式当前 [\d.]+% \/ [\d.]+%（最高 [\d.]+×），随市场变化；固定模式 19\.77% \/ 24\.77%/,
    ])
      expect(first.output()).to.match(line);
    expect(first.output()).not.to.match(/\bsettled:|\bstopped after\b/);

    // The platform goes down and comes back: same chain (replayed), same database, new staff keys.
    await stop(platform);
    platform = run("scripts/start.ts", dataDir);
    await running(platform);
    expect(platform.output()).to.match(/replayed \d+ blocks/);
    expect(platform.output()).to.match(/deployment reused/);

    const second = run("scripts/demo.ts", dataDir, { MB_LANG: "en" });
    expect(await second.exited, second.output()).to.equal(0);
    narration += second.output();
    expect(second.output()).to.match(/resuming run \w+ after "trading"/);
    expect(second.output()).to.match(/Demo run \w+ complete/);
  });

  it("left the state the narration describes: warning, margin call, liquidation, default, statement, proof", async () => {
    for (const line of [
      /state Warning/,
      /mbBANK: maintenance [\d.]+% → [\d.]+%, max leverage [\d.]+× → [\d.]+× \(volatility-linked margin\)/,
      /keeper notice: warning/,
      /before the margin call, client A's ATR trailing stop \d+ fired at [\d,.]+: its signed child sold [\d,]+ @ [\d,.]+/,
      /state MarginCall/,
      /keeper notice: margin_call, deadline/,
      /422 ORDER_REJECTED MARGIN_STATE_BLOCKS_RISK/,
      /mbSMALL \(tier 3\): [\d,]+ → [\d,]+/,
      /mbBANK CircuitBroken, mbSMALL CircuitBroken/,
      /resets its breaker: [\d.]+, Safe/,
      /margin-call board: \w+ \d+/,
      /oracle and breakers: mbBANK \w+.*reporters/,
      /surveillance: \d+ linked-account group\(s\) \(self-trade across a group: refuse\), \d+ account\(s\) in the review queue, \d+ open alert\(s\)/,
      /default_settled/,
      /insurance_covered/,
      /written_off/,
      /FINAL SETTLEMENT of agreement/,
      /served: the senior request no longer waits/,
      /junior: deposited 100,000\.00, .*earned -[\d,.]+ mbCNY/,
      /RESULT: PASS/,
      /every practice answer is marked: header MarginBridge-Mode: practice, "mode":"practice"/,
      /client B borrows as much again \(2× its practice cash\)/,
      /the real margin engine holds nothing of it: debt 0\.00, cash 0\.00 for that account/,
      /client B resets: \d+ transactions on the practice deployment, 0 orders cancelled; back at the start: true/,
      /client A's result -[\d,.]+ mbCNY; nothing to pay out; registry closed with 0x[0-9a-f]{10}…/,
      /providers' share [\d,.]+ into the pool, platform's share [\d,.]+, client B receives [\d,.]+/,
      /reconcile: bank leg reconciled: FS-[0-9a-f]{16}-CLIENT booked/,
      /pain\.001 FS-[0-9a-f]{16} \(schema-valid/,
      /the market maker writes [\d,]+ mbBANK-P9 \(put, strike 9\.00, 100 shares a contract\)/,
      /client C buys [\d,]+ mbBANK-P9 at [\d,.]+ a contract through the order book/,
      /mbBANK-P9 {3}put strike 9\.00 open: [\d,.]+ a contract \(Safe, implied volatility [\d.]+%\)/,
      /client C opts into portfolio margin \(PortfolioRisk\.setPortfolioMargin\): .* maintenance [\d,.]+ instead of the rule's [\d,.]+/,
      /the scenario grid \(SPAN-like\) asks [\d,.]+ of C's mbBANK and its puts together; .*C is portfolio-margined: the engine applies the grid/,
      /client C after the gap: [\d,]+ mbBANK, [\d,]+ mbBANK-P9; .* state (Healthy|Warning|MarginCall)/,
    ])
      expect(narration).to.match(line);

    const state = JSON.parse(readFileSync(path.join(dataDir, "demo", "state.json"), "utf8")) as {
      wallets: Record<string, string>;
      keys: Record<string, ApiCredentials>;
      facts: Record<string, string>;
      done: string[];
    };
    expect(state.done).to.have.length(19);
    // Both financings were executed at their end: client B's with a profit shared into the pool and paid out.
    const clientB = new ApiClient(API, state.keys.clientB);
    const endB = await clientB.get<{ status: string; facts: Record<string, string> }>(
      `/v1/agreements/${state.facts.agreementIdB}/end`,
    );
    expect([endB.status, endB.body.status]).to.deep.equal([200, "done"]);
    expect(BigInt(endB.body.facts.providersShare)).to.be.greaterThan(0n);
    expect(BigInt(endB.body.facts.juniorPriceAfter) + BigInt(endB.body.facts.seniorPriceAfter)).to.be.greaterThan(
      BigInt(endB.body.facts.juniorPriceBefore) + BigInt(endB.body.facts.seniorPriceBefore),
    );
    // Client C, hedged with protective puts, came through the gap that closed client A out (issue 26): the
    // narration's line after the gap names its state; its agreement is still bound and it still owes its loan.
    const clientC = (await new ApiClient(API, state.keys.clientC).get<AccountSummary>("/v1/accounts/me")).body;
    expect(BigInt(clientC.debt)).to.be.greaterThan(0n);
    const clientA = new ApiClient(API, state.keys.clientA);
    const address = new Wallet(state.wallets.clientA).address.toLowerCase();

    // Client A was closed out: no positions, no debt, no cash (the waterfall took it).
    const me = (await clientA.get<AccountSummary>("/v1/accounts/me")).body;
    expect(me.positions).to.deep.equal([]);
    expect(me.debt).to.equal("0");
    expect(me.cash).to.equal("0");
    const notices = (await clientA.get<{ notifications: { kind: string }[] }>("/v1/keeper/notifications")).body;
    expect(notices.notifications.map((n) => n.kind)).to.include.members(["warning", "margin_call", "liquidated"]);

    // The pool and the insurance fund absorbed the gap, and say so.
    const keys = JSON.parse(readFileSync(path.join(dataDir, "demo-keys.json"), "utf8")) as {
      keys: Record<string, ApiCredentials>;
    };
    const pool = (await new ApiClient(API, keys.keys.capital_provider).get<PoolSummary>("/v1/pool")).body;
    const settled = pool.badDebtEvents.find(
      (e) => e.kind === "default_settled" && e.account?.toLowerCase() === address,
    );
    expect(settled, JSON.stringify(pool.badDebtEvents)).to.not.equal(undefined);
    // the pool's write-off names no account: the default's transaction ties them together
    const mine = pool.badDebtEvents.filter((e) => e.txHash === settled!.txHash);
    expect(mine.map((e) => e.kind)).to.include.members(["default_settled", "written_off", "insurance_covered"]);
    const writtenOff = mine.find((e) => e.kind === "written_off")!;
    expect(BigInt(writtenOff.amount)).to.be.greaterThan(0n);
    expect(BigInt(pool.pool.totalWrittenOff)).to.equal(BigInt(writtenOff.amount));

    // The day's statement matches the chain: nothing left, the principal extinguished.
    const statements = (
      await clientA.get<{ statements: { agreementId: string; from: string }[] }>("/v1/statements")
    ).body.statements.filter((s) => s.agreementId === state.facts.agreementId);
    expect(statements).to.have.length.greaterThan(0);
    const doc = (await clientA.get<{ body: string }>(`/v1/statements/${state.facts.agreementId}/${statements[0].from}`))
      .body;
    const statement = JSON.parse(doc.body) as {
      balances: { closingCash: string; principal: string };
      positions: unknown[];
      positionMovements: { kind: string }[];
    };
    // The account's cash went to the waterfall; what is left is the commissions charged off-chain and still owed.
    expect(statement.balances.principal).to.equal("0");
    expect(BigInt(statement.balances.closingCash))
      .to.be.lte(0n)
      .and.gt(-1_000n * 10n ** 6n);
    expect(statement.positions).to.deep.equal([]);
    expect(statement.positionMovements.filter((m) => m.kind === "liquidation").length).to.be.gte(2);

    // Client A's proof of the published epoch verifies against the chain.
    const proof = parseClientProof((await clientA.get("/v1/reserves/me/proof")).body);
    const provider = new JsonRpcProvider(`http://127.0.0.1:${CHAIN_PORT}`);
    try {
      const report = await auditClientProof(proof, ReserveLedger__factory.connect(proof.ledger, provider));
      expect(report.ok, JSON.stringify(report.checks)).to.equal(true);
    } finally {
      provider.destroy();
    }
  });

  it("client A's console page shows the closed-out account, its notices and its statement", async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    const state = JSON.parse(readFileSync(path.join(dataDir, "demo", "state.json"), "utf8")) as {
      keys: Record<string, ApiCredentials>;
    };
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${API}/console/client.html?lang=en`);
      await page.fill("input[name=keyId]", state.keys.clientA.keyId);
      await page.fill("input[name=secret]", state.keys.clientA.secret);
      await page.click("#key-form button[type=submit]");
      await page.waitForSelector("#notices tbody td:has-text('liquidated')", { timeout: 20_000 });
      await page.waitForSelector("#statements tbody tr td", { timeout: 20_000 });
      // the history the issue asked for: client A's fills, each settled on-chain with its transaction
      await page.waitForSelector("#fills td.settlement:has-text('settled on-chain')", { timeout: 20_000 });
      expect(await page.textContent("#debt")).to.match(/^0(\.0+)?/);
      // its agreement, executed at its end after the default
      await page.waitForSelector("#agreements [data-end-status='done']", { timeout: 20_000 });
      expect(await page.textContent("#agreements [data-end-status='done']")).to.contain("default · executed");
      await page.screenshot({ path: path.join(SHOTS, "demo-client-a.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it("refuses a narration language it does not have, before it touches the run", async () => {
    const before = readFileSync(path.join(dataDir, "demo", "state.json"), "utf8");
    const wrong = run("scripts/demo.ts", dataDir, { MB_LANG: "fr" });
    expect(await wrong.exited).to.equal(1);
    expect(wrong.output()).to.match(/npm run demo: MB_LANG must be one of zh-CN, en \(got "fr"\)/);
    expect(readFileSync(path.join(dataDir, "demo", "state.json"), "utf8")).to.equal(before);
  });

  it("a second `npm run demo` starts a new run with new users", async () => {
    const again = run("scripts/demo.ts", dataDir, { MB_DEMO_STOP_AFTER: "users", MB_LANG: "en" });
    expect(await again.exited, again.output()).to.equal(0);
    expect(again.output()).to.match(/the previous run \w+ finished; this one starts with new users/);
    await stop(platform!);
  });
});
