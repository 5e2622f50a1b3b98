/* global document, setInterval, DOMParser */
import {
  ApiError,
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

const CLASS_NAMES = { senior: "Senior · 优先级", junior: "Junior (first loss) · 劣后级(首损)" };
const when = (t) => (t === null ? "—" : new Date(t * 1000).toISOString().replace(".000Z", "Z"));
const duration = (s) => (s === 0 ? "none · 无" : s % 86_400 === 0 ? `${s / 86_400} d · 天` : `${s} s`);

/** GET /v1/providers/classes: both classes and the book they share (public figures, read from the chain). */
function renderClasses(c, cash) {
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("classes").hidden = false;
  setText(
    "book-line",
    `Book · 资金池: ${money(c.book.totalAssets)}, lent · 已出借 ${money(c.book.totalDebt)}, utilisation · 使用率 ` +
      `${percent(c.book.utilisation)}; junior required · 劣后级最低要求 ${money(c.book.juniorRequired)}; ` +
      (c.book.gated
        ? `gate on · 赎回闸门已启用 (${percent(c.book.gate.fraction)} per ${duration(c.book.gate.windowSeconds)})`
        : `gate off · 赎回闸门未启用 (room · 余量 ${money(c.book.ungatedRoom)})`),
  );
  fillTable(
    document.querySelector("#class-table tbody"),
    c.classes.map((x) =>
      row(
        CLASS_NAMES[x.class] ?? x.class,
        num(money(x.totalAssets)),
        num(amount(x.sharePrice, cash.decimals, 6)),
        num(percent(x.buffer)),
        num(duration(x.noticeSeconds)),
        num(`${x.queuedRequests}`),
        when(x.nextDueAt),
      ),
    ),
    "No class.",
  );
}

/** GET /v1/providers/me: the connected provider's own figures (a capital-provider key bound to its address). */
function renderMine(m, c, cash) {
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  const decimals = Object.fromEntries(c.classes.map((x) => [x.class, x.shareDecimals]));
  document.getElementById("mine").hidden = false;
  fillTable(
    document.querySelector("#my-classes tbody"),
    m.classes.map((x) =>
      row(
        CLASS_NAMES[x.class] ?? x.class,
        num(money(x.value)),
        num(money(x.deposited)),
        num(money(x.withdrawn)),
        num(money(x.earned)),
        num(money(x.claimableAssets)),
        x.agreement.current
          ? `v${x.agreement.signedVersion} anchored · 已上链 ${when(x.agreement.anchoredAt)}`
          : x.agreement.signedVersion === 0
            ? "none · 未签署"
            : `v${x.agreement.signedVersion}, current v${x.agreement.currentVersion}: sign again · 请重新签署`,
      ),
    ),
    "No position.",
  );
  fillTable(
    document.querySelector("#my-requests tbody"),
    m.requests.map((r) =>
      row(
        CLASS_NAMES[r.class] ?? r.class,
        num(`${r.ticket}`),
        num(amount(r.remaining, decimals[r.class] ?? 0, 2)),
        num(`${r.ahead}`),
        when(r.dueAt),
      ),
    ),
    "No request waiting · 无排队请求",
  );
}

/** GET /v1/providers/scheduled: pending AccessManager operations, decoded. */
function renderScheduled(s) {
  document.getElementById("scheduled").hidden = false;
  fillTable(
    document.querySelector("#scheduled-table tbody"),
    s.changes.map((x) =>
      row(
        x.contract ?? shortHex(x.target),
        x.call
          ? `${x.call.function.split("(")[0]}(${Object.entries(x.call.args)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")})`
          : shortHex(x.data),
        when(x.executableAt),
        shortHex(x.caller),
      ),
    ),
    "Nothing scheduled · 暂无待生效变更",
  );
}

/** GET /v1/providers/forecast: expected and stressed cash per day; closed market days marked * on the chart. */
function renderForecast(f, cash) {
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("forecast").hidden = false;
  setText(
    "forecast-line",
    `Lowest cash · 最低现金: expected · 预期 ${money(f.minCash)}, stressed · 压力情景 ${money(f.minStressedCash)}; ` +
      (f.firstStressedShortfall
        ? `stressed shortfall from · 压力情景缺口始于 ${f.firstStressedShortfall}`
        : "no shortfall under stress · 压力情景下无缺口") +
      `; market closed · 休市: ${f.closedDays.join(", ") || "none · 无"}`,
  );
  const svg = parseSvg(f.chartSvg, "Capital pool cash over the next 30 days");
  if (svg) document.getElementById("forecast-chart").replaceChildren(svg);
}

async function refreshProviders(cash) {
  const c = await apiGet("/v1/providers/classes", { signed: false });
  renderClasses(c, cash);
  renderScheduled(await apiGet("/v1/providers/scheduled", { signed: false }));
  try {
    renderForecast(await apiGet("/v1/providers/forecast"), cash);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 503)) throw err;
  }
  try {
    renderMine(await apiGet("/v1/providers/me"), c, cash);
  } catch (err) {
    // Staff and auditor keys read the pool but hold no provider position.
    if (!(err instanceof ApiError && err.status === 403)) throw err;
  }
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
    await refreshProviders(p.cashToken);
    if (p.block !== stressBlock) {
      const s = await apiGet("/v1/risk/stress");
      stressBlock = s.block;
      renderStress(s);
    }
  } catch (err) {
    showError(err);
  }
}

keyGate(() => {
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
});
