import { expect } from "chai";
import {
  buildStatement,
  statementHash,
  statementToCsv,
  statementToHtml,
  statementToJson,
  ZERO_ACCRUAL,
  type StatementInput,
} from "../../../../offchain/settlement/legal";
import { CNY, seedTerms, START } from "./seed";

const A = "0x00000000000000000000000000000000000000A1";
const P = "0x00000000000000000000000000000000000000F1";
const DECIMALS = { mbBANK: 0, mbTECH: 0, mbSMALL: 0 };

/** Client A after deposit and 2× financing: 200,000 cash; buys 1,000 mbBANK at 150, sells 400 at 160 next day. */
function seedInput(over: Partial<StatementInput> = {}): StatementInput {
  return {
    terms: seedTerms(A, P, { client: { address: A, name: 'Client "A" <Zhang>, Ltd.', accountRef: "MB-000001" } }),
    period: { from: "2027-01-01", to: "2027-01-02" },
    assetDecimals: DECIMALS,
    openingCash: 200_000n * CNY,
    openingPositions: [],
    trades: [
      {
        tradeId: "T-1",
        at: START + 7200,
        asset: "mbBANK",
        side: "buy",
        quantity: 1000n,
        price: 150n * CNY,
        batchId: "B-1",
      },
      { tradeId: "T-2", at: START + 86400 + 3600, asset: "mbBANK", side: "sell", quantity: 400n, price: 160n * CNY },
    ],
    dailyPrincipal: [
      { date: "2027-01-01", principal: 100_000n * CNY },
      { date: "2027-01-02", principal: 100_000n * CNY },
    ],
    openingAccruals: { interest: ZERO_ACCRUAL, fees: {} },
    closingPrices: { mbBANK: 155n * CNY },
    generatedAt: START + 2 * 86400,
    ...over,
  };
}

describe("legal: account statements", () => {
  const s = buildStatement(seedInput());

  it("books securities deposits, withdrawals and liquidation segments at average cost, in time order with trades", () => {
    const m = buildStatement(
      seedInput({
        openingCash: 0n,
        trades: [
          // bought after the deposit below: the average cost mixes both
          { tradeId: "T-9", at: START + 7200, asset: "mbBANK", side: "buy", quantity: 1000n, price: 150n * CNY },
        ],
        positionMovements: [
          // 1,000 deposited at the oracle's 130: cost basis 130,000
          { at: START + 3600, asset: "mbBANK", kind: "deposit", quantity: 1000n, price: 130n * CNY, reference: "d" },
          // 500 withdrawn at average cost 140: nothing realised
          { at: START + 86400, asset: "mbBANK", kind: "withdrawal", quantity: 500n, price: 150n * CNY, reference: "w" },
          // 300 seized at 100 less a 5 % penalty: proceeds 28,500 against 42,000 of cost
          {
            at: START + 86400 + 60,
            asset: "mbBANK",
            kind: "liquidation",
            quantity: 300n,
            price: 100n * CNY,
            proceeds: 28_500n * CNY,
            reference: "l",
          },
        ],
        cashMovements: [
          { date: "2027-01-01", kind: "borrow", amount: 150_000n * CNY, reference: "b" },
          { date: "2027-01-02", kind: "repay", amount: 20_000n * CNY, reference: "r" },
        ],
      }),
    );
    expect(m.positionMovements!.map((x) => [x.reference, x.date, x.realisedPnl])).to.deep.equal([
      ["d", "2027-01-01", 0n],
      ["w", "2027-01-02", 0n],
      ["l", "2027-01-02", -13_500n * CNY],
    ]);
    // 2,000 held at 140 average → 1,500 → 1,200 left at 168,000 of cost
    expect(m.positions.map((p) => [p.quantity, p.costBasis, p.averageCost])).to.deep.equal([
      [1200n, 168_000n * CNY, 140n * CNY],
    ]);
    // cash: −150,000 trade − 45 commission + 150,000 borrowed − 20,000 repaid + 28,500 proceeds
    expect(m.balances.closingCash).to.equal(8_455n * CNY);
    expect(m.totals.realisedPnl).to.equal(-13_500n * CNY);
    // a liquidation without its proceeds, or taking more than is held, is refused
    expect(() =>
      buildStatement(
        seedInput({
          trades: [],
          positionMovements: [
            { at: START + 60, asset: "mbBANK", kind: "liquidation", quantity: 1n, price: CNY, reference: "x" },
          ],
        }),
      ),
    ).to.throw(/exceeds the position|needs its proceeds/);
  });

  it("lists trades with notional, itemised commission and realised P&L at average cost", () => {
    expect(s.trades.map((t) => [t.tradeId, t.date, t.notional, t.fee, t.realisedPnl])).to.deep.equal([
      ["T-1", "2027-01-01", 150_000n * CNY, 45n * CNY, 0n],
      ["T-2", "2027-01-02", 64_000n * CNY, 19_200_000n, 4_000n * CNY],
    ]);
    expect(s.positions).to.deep.equal([
      {
        asset: "mbBANK",
        quantity: 600n,
        costBasis: 90_000n * CNY,
        averageCost: 150n * CNY,
        price: 155n * CNY,
        marketValue: 93_000n * CNY,
        unrealisedPnl: 3_000n * CNY,
      },
    ]);
  });

  it("accrues interest per natural day on the principal (8% on 100,000 = 21.917809, then 21.917808)", () => {
    expect(s.interestByDay.map((d) => [d.date, d.amount, d.cumulative])).to.deep.equal([
      ["2027-01-01", 21_917_809n, 21_917_809n],
      ["2027-01-02", 21_917_808n, 43_835_617n],
    ]);
    expect(s.closingAccruals.interest.charged).to.equal(43_835_617n);
  });

  it("itemises every fee: commissions per trade and the management fee per day", () => {
    expect(s.fees.map((f) => [f.date, f.code, f.amount, f.reference])).to.deep.equal([
      ["2027-01-01", "COMMISSION", 45n * CNY, "T-1"],
      ["2027-01-01", "MGMT", 5_479_453n, "accrual:2027-01-01"],
      ["2027-01-02", "COMMISSION", 19_200_000n, "T-2"],
      ["2027-01-02", "MGMT", 5_479_452n, "accrual:2027-01-02"],
    ]);
    expect(s.totals.fees).to.equal(45n * CNY + 19_200_000n + 10_958_905n);
  });

  it("computes balances, equity and the margin ratio against initial and maintenance margin", () => {
    expect(s.balances).to.deep.equal({
      openingCash: 200_000n * CNY,
      closingCash: 113_935_800_000n,
      marketValue: 93_000n * CNY,
      principal: 100_000n * CNY,
      accruedInterest: 43_835_617n,
      accruedFees: 10_958_905n,
      equity: 113_935_800_000n + 93_000n * CNY - 100_000n * CNY - 43_835_617n - 10_958_905n,
    });
    expect(s.margin.ratioBps).to.equal(11_492n);
    expect(s.margin.status).to.equal("healthy");
    expect(s.totals.realisedPnl).to.equal(4_000n * CNY);
    expect(s.totals.unrealisedPnl).to.equal(3_000n * CNY);
  });

  it("flags warning, margin call and liquidatable as the price falls (IM 20%, MM 15%, line 10%)", () => {
    const full = (price: bigint) =>
      buildStatement(
        seedInput({
          period: { from: "2027-01-03", to: "2027-01-03" },
          openingCash: 0n,
          openingPositions: [{ asset: "mbBANK", quantity: 1000n, costBasis: 200_000n * CNY }],
          trades: [],
          dailyPrincipal: [{ date: "2027-01-03", principal: 100_000n * CNY }],
          closingPrices: { mbBANK: price },
        }),
      ).margin.status;
    expect(full(130n * CNY)).to.equal("healthy");
    expect(full(125n * CNY)).to.equal("warning");
    expect(full(117n * CNY)).to.equal("margin-call");
    expect(full(110n * CNY)).to.equal("liquidatable");
  });

  it("includes the fee schedule with the worst case to expiry", () => {
    const w = s.feeSchedule.worstCaseToExpiry;
    expect(w.assumptions.days).to.equal(363); // 2027-01-03 .. 2027-12-31
    expect(w.lines.map((l) => l.code)).to.deep.equal(["INTEREST", "COMMISSION", "MGMT", "LIQ_PENALTY"]);
    expect(w.lines[3].amount).to.equal(10_000n * CNY); // 5% of the 200,000 position
  });

  it("writes canonical JSON whose hash is stable, and CSV with one block per section", () => {
    const json = statementToJson(s);
    expect(JSON.parse(json).balances.equity).to.equal("106881005478");
    expect(statementHash(s)).to.equal(statementHash(buildStatement(seedInput())));
    const csv = statementToCsv(s);
    const blocks = csv.trimEnd().split("\r\n\r\n");
    expect(blocks.map((b) => b.split(",")[0])).to.deep.equal([
      "statement",
      "position",
      "trade",
      "cash",
      "movement",
      "source",
      "interest",
      "fee",
      "total",
      "balance",
      "margin",
      "worstcase",
    ]);
    expect(csv).to.contain("interest,2027-01-01,100000.000000,21.917809,21.917809");
    expect(csv).to.contain(
      "trade,T-1,2027-01-01,1798768800,mbBANK,buy,1000,150.000000,150000.000000,45.000000,0.000000,B-1,",
    );
    expect(csv).to.contain("margin,11492,2000,1500,1000,healthy");
  });

  it("prints as HTML with print CSS and escapes everything it shows", () => {
    const html = statementToHtml(s, statementHash(s));
    expect(html).to.contain("@page { size: A4;");
    expect(html).to.contain("thead { display: table-header-group; }");
    expect(html).to.contain("Client &quot;A&quot; &lt;Zhang&gt;, Ltd.");
    expect(html).not.to.contain("<Zhang>");
    expect(html).to.contain("114.92%");
    expect(html).to.contain(statementHash(s));
  });

  it("refuses a principal series that does not cover every natural day, and a sell larger than the position", () => {
    expect(() => buildStatement(seedInput({ dailyPrincipal: [] }))).to.throw(/one entry per natural day/);
    const oversell = seedInput();
    oversell.trades = [{ ...oversell.trades[1], quantity: 5n }];
    expect(() => buildStatement(oversell)).to.throw(/sell exceeds the position/);
  });
});
