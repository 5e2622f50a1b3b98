import { expect } from "chai";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { buildStatement, statementHash, statementToHtml, ZERO_ACCRUAL } from "../../../../offchain/settlement/legal";
import { CNY, seedTerms, START } from "./seed";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("legal: statement printed to PDF by a real browser", function () {
  this.timeout(60_000);

  it("prints the HTML statement as an A4 PDF with every section", async function () {
    if (!existsSync(CHROMIUM)) {
      // .ci/run installs chromium; a developer machine without it cannot run this check.
      this.skip();
    }
    const A = "0x00000000000000000000000000000000000000A1";
    const s = buildStatement({
      terms: seedTerms(A, "0x00000000000000000000000000000000000000F1"),
      period: { from: "2027-01-01", to: "2027-01-01" },
      assetDecimals: { mbBANK: 0 },
      openingCash: 200_000n * CNY,
      openingPositions: [],
      trades: [{ tradeId: "T-1", at: START + 7200, asset: "mbBANK", side: "buy", quantity: 1000n, price: 150n * CNY }],
      dailyPrincipal: [{ date: "2027-01-01", principal: 100_000n * CNY }],
      openingAccruals: { interest: ZERO_ACCRUAL, fees: {} },
      closingPrices: { mbBANK: 151n * CNY },
      generatedAt: START + 86400,
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      await page.setContent(statementToHtml(s, statementHash(s)));
      const headings = await page.locator("h2").allTextContents();
      expect(headings).to.deep.equal([
        "Summary",
        "Positions",
        "Trades",
        "Cash movements",
        "Deposits, withdrawals and liquidations of securities",
        "Interest by natural day",
        "Fees",
        "Fee schedule and worst case to expiry",
      ]);
      const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
      expect(pdf.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
      // A4 portrait is 595 x 842 points.
      const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(pdf.toString("latin1"));
      expect(box, "a MediaBox").to.not.equal(null);
      expect([Math.round(Number(box![1])), Math.round(Number(box![2]))]).to.deep.equal([595, 842]);
    } finally {
      await browser.close();
    }
  });
});
