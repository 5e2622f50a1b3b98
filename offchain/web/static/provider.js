/* global document, setInterval, DOMParser */
import {
  amount,
  apiGet,
  fillTable,
  keyGate,
  num,
  percent,
  row,
  setText,
  shortHex,
  showError,
  showUpdated,
} from "./common.js";

const REFRESH_MS = 10_000;
const EVENT_NAMES = {
  default_settled: "Default settled (account → insurance → pool)",
  written_off: "Written off by the pool",
  insurance_covered: "Paid by the insurance fund",
  deficit_covered: "Deficit covered",
  deficit_acknowledged: "Deficit accepted by providers",
};

/** The chart is an SVG document built by the service (offchain/risk charts); it is parsed, never run as HTML. */
function parseSvg(svgText, label) {
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") return null;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  return document.importNode(svg, true);
}

function showChart(svgText) {
  const box = document.getElementById("reserve-chart");
  if (!svgText) return;
  const svg = parseSvg(svgText, "Reserve ratio per asset over epochs");
  if (svg) box.replaceChildren(svg);
}

/** The Risk section: GET /v1/risk/stress (the real book read from the chain through offchain/risk). */
function renderStress(s) {
  const cash = s.cashToken;
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("risk").hidden = false;
  setText(
    "risk-book",
    `${s.accounts} margin account(s) at block ${s.block}: collateral ${money(s.book.collateralValue)}, debt ` +
      `${money(s.book.debt)}, insurance fund ${money(s.book.insuranceFund)}. Monte Carlo: ${s.monteCarlo.paths} ` +
      `paths × ${s.monteCarlo.days} days, ${s.monteCarlo.pathsWithBadDebt} with bad debt (row: 99th percentile).`,
  );
  fillTable(
    document.querySelector("#stress tbody"),
    s.scenarios.map((r) =>
      row(
        r.name,
        num(`${r.accountsLiquidated}`),
        num(money(r.liquidationVolume)),
        num(money(r.badDebt)),
        num(money(r.insuranceFundUsed)),
        num(money(r.capitalPoolLoss)),
        num(r.reserveRatioAfter === null ? "—" : percent(r.reserveRatioAfter)),
      ),
    ),
    "No scenario.",
  );
  fillTable(
    document.querySelector("#var tbody"),
    s.valueAtRisk.map((v) =>
      row(
        `${v.method === "historical" ? "Historical (stressed)" : "Monte Carlo"} ${v.confidence * 100}%`,
        num(`${v.horizonDays} day(s)`),
        num(`${v.samples}`),
        num(money(v.valueAtRisk)),
        num(money(v.expectedShortfall)),
      ),
    ),
    "No VaR figure.",
  );
  const box = document.getElementById("stress-charts");
  box.replaceChildren(
    ...s.charts.flatMap((c) => {
      const svg = parseSvg(c.svg, c.title);
      if (!svg) return [];
      const div = document.createElement("div");
      div.className = "chart";
      div.dataset.chart = c.name;
      div.append(svg);
      return [div];
    }),
  );
}

/** Reserve adequacy: GET /v1/risk/reserve-adequacy (the same stress run; the proposal in both languages). */
function renderReserve(r, cash) {
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  setText(
    "reserve-adequacy",
    `Target (stress loss at the ${r.rule.percentile * 100}th percentile of ${r.rule.paths} paths): ${money(r.target)}; ` +
      `fund: ${money(r.insuranceFund)}; gap: ${money(r.gap)}. 目标：${money(r.target)}；基金：${money(r.insuranceFund)}；` +
      `缺口：${money(r.gap)}。`,
  );
  setText("reserve-proposal-en", r.proposal.text.en);
  setText("reserve-proposal-zh", r.proposal.text["zh-CN"]);
}

let stressBlock = -1;

function render(p) {
  const cash = p.cashToken;
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("pool").hidden = false;
  setText("total-assets", money(p.pool.totalAssets));
  setText("share-price", `share price ${amount(p.pool.sharePrice, cash.decimals, 6)} per share`);
  setText("utilisation", percent(p.pool.utilisation));
  setText("debt-cash", `${money(p.pool.totalDebt)} lent · ${money(p.pool.availableCash)} available`);
  setText("rate-day", percent(p.pool.ratePerDay, 6));
  setText("rate-year", `${percent(p.pool.annualRate)} a year ÷ 365`);
  setText("insurance", money(p.insuranceFund.balance));
  setText("insurance-covered", `${money(p.insuranceFund.totalCovered)} paid in ${p.insuranceFund.claims} claim(s)`);
  setText("written-off", money(p.pool.totalWrittenOff));
  setText(
    "deficit",
    BigInt(p.pool.deficit) > 0n ? `open deficit ${money(p.pool.deficit)}: borrowing stopped` : "no open deficit",
  );
  setText("reserve-factor", percent(p.pool.reserveFactor));
  setText("reserves-owed", `${money(p.pool.reservesOwed)} owed to the insurance fund`);
  showChart(p.reserves.chartSvg);
  fillTable(
    document.querySelector("#reserves tbody"),
    p.reserves.epochs
      .slice()
      .reverse()
      .flatMap((e) =>
        e.perAsset.map((a) =>
          row(
            `${e.epoch}`,
            a.token.symbol,
            num(amount(a.liabilities, a.token.decimals, Math.min(2, a.token.decimals))),
            num(amount(a.debt, a.token.decimals, Math.min(2, a.token.decimals))),
            num(amount(a.reserves, a.token.decimals, Math.min(2, a.token.decimals))),
            num(a.ratio === null ? "nothing owed" : percent(a.ratio)),
          ),
        ),
      ),
    "No reserves epoch published yet.",
  );
  fillTable(
    document.querySelector("#bad-debt tbody"),
    p.badDebtEvents
      .slice()
      .reverse()
      .map((e) =>
        row(
          num(e.block),
          EVENT_NAMES[e.kind] ?? e.kind,
          e.account ? shortHex(e.account) : "—",
          num(money(e.amount)),
          Object.entries(e.details)
            .map(([k, v]) => `${k} ${/^[0-9]+$/.test(v) && !k.startsWith("sharePrice") ? amount(v, cash.decimals) : v}`)
            .join(", "),
        ),
      ),
    "No bad debt recorded since deployment.",
  );
}

async function refresh() {
  try {
    const p = await apiGet("/v1/pool");
    render(p);
    showUpdated(p.block);
    if (p.block !== stressBlock) {
      const s = await apiGet("/v1/risk/stress");
      stressBlock = s.block;
      renderStress(s);
      renderReserve(await apiGet("/v1/risk/reserve-adequacy"), s.cashToken);
    }
  } catch (err) {
    showError(err);
  }
}

keyGate(() => {
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
});
