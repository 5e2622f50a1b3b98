/* global document, setInterval */
import {
  ApiError,
  amount,
  apiGet,
  fillTable,
  keyGate,
  num,
  parseSvg,
  percent,
  row,
  setText,
  shortHex,
  showError,
  showUpdated,
} from "./common.js";
import { applyI18n, currentLang, dateTime, has, t } from "./i18n.js";

applyI18n();

const REFRESH_MS = 10_000;
const EVENT_KINDS = ["default_settled", "written_off", "insurance_covered", "deficit_covered", "deficit_acknowledged"];

function showChart(svgText) {
  const box = document.getElementById("reserve-chart");
  if (!svgText) return;
  const svg = parseSvg(svgText, t("provider.reservesH"));
  if (svg) box.replaceChildren(svg);
}

/** The Risk section: GET /v1/risk/stress (the real book read from the chain through offchain/risk). */
function renderStress(s) {
  const cash = s.cashToken;
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("risk").hidden = false;
  setText(
    "risk-book",
    t("provider.riskBook", {
      accounts: s.accounts,
      block: s.block,
      collateral: money(s.book.collateralValue),
      debt: money(s.book.debt),
      fund: money(s.book.insuranceFund),
      paths: s.monteCarlo.paths,
      days: s.monteCarlo.days,
      bad: s.monteCarlo.pathsWithBadDebt,
    }),
  );
  fillTable(
    document.querySelector("#stress tbody"),
    s.scenarios.map((r) =>
      row(
        has(`scenario.${r.id}`)
          ? t(`scenario.${r.id}`, { paths: s.monteCarlo.paths, days: s.monteCarlo.days })
          : r.name,
        num(`${r.accountsLiquidated}`),
        num(money(r.liquidationVolume)),
        num(money(r.badDebt)),
        num(money(r.insuranceFundUsed)),
        num(money(r.capitalPoolLoss)),
        num(r.reserveRatioAfter === null ? "—" : percent(r.reserveRatioAfter)),
      ),
    ),
    t("provider.noScenario"),
  );
  fillTable(
    document.querySelector("#var tbody"),
    s.valueAtRisk.map((v) =>
      row(
        t(v.method === "historical" ? "provider.var.historical" : "provider.var.montecarlo", {
          confidence: v.confidence * 100,
        }),
        num(t("provider.daysN", { n: v.horizonDays })),
        num(`${v.samples}`),
        num(money(v.valueAtRisk)),
        num(money(v.expectedShortfall)),
      ),
    ),
    t("provider.noVar"),
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

const className = (c) => t(`class.${c}`);
const duration = (s) =>
  s === 0 ? t("common.none") : s % 86_400 === 0 ? t("common.days", { n: s / 86_400 }) : t("common.seconds", { n: s });

/** GET /v1/providers/classes: both classes and the book they share (public figures, read from the chain). */
function renderClasses(c, cash) {
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("classes").hidden = false;
  setText(
    "book-line",
    t("provider.book", {
      assets: money(c.book.totalAssets),
      lent: money(c.book.totalDebt),
      utilisation: percent(c.book.utilisation),
      junior: money(c.book.juniorRequired),
      gate: c.book.gated
        ? t("provider.gateOn", { fraction: percent(c.book.gate.fraction), window: duration(c.book.gate.windowSeconds) })
        : t("provider.gateOff", { room: money(c.book.ungatedRoom) }),
    }),
  );
  fillTable(
    document.querySelector("#class-table tbody"),
    c.classes.map((x) =>
      row(
        className(x.class),
        num(money(x.totalAssets)),
        num(amount(x.sharePrice, cash.decimals, 6)),
        num(percent(x.buffer)),
        num(duration(x.noticeSeconds)),
        num(`${x.queuedRequests}`),
        dateTime(x.nextDueAt),
      ),
    ),
    t("provider.noClass"),
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
        className(x.class),
        num(money(x.value)),
        num(money(x.deposited)),
        num(money(x.withdrawn)),
        num(money(x.earned)),
        num(money(x.claimableAssets)),
        x.agreement.current
          ? t("provider.agreement.current", {
              version: x.agreement.signedVersion,
              time: dateTime(x.agreement.anchoredAt),
            })
          : x.agreement.signedVersion === 0
            ? t("provider.agreement.none")
            : t("provider.agreement.old", { signed: x.agreement.signedVersion, current: x.agreement.currentVersion }),
      ),
    ),
    t("provider.noPosition"),
  );
  fillTable(
    document.querySelector("#my-requests tbody"),
    m.requests.map((r) =>
      row(
        className(r.class),
        num(`${r.ticket}`),
        num(amount(r.remaining, decimals[r.class] ?? 0, 2)),
        num(`${r.ahead}`),
        dateTime(r.dueAt),
      ),
    ),
    t("provider.noRequests"),
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
        dateTime(x.executableAt),
        shortHex(x.caller),
      ),
    ),
    t("provider.nothingScheduled"),
  );
}

/** GET /v1/providers/forecast: expected and stressed cash per day; closed market days marked * on the chart. */
function renderForecast(f, cash) {
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("forecast").hidden = false;
  setText(
    "forecast-line",
    t("provider.forecast", {
      expected: money(f.minCash),
      stressed: money(f.minStressedCash),
      shortfall: f.firstStressedShortfall
        ? t("provider.shortfall", { date: f.firstStressedShortfall })
        : t("provider.noShortfall"),
      closed: f.closedDays.join(", ") || t("common.none"),
    }),
  );
  const svg = parseSvg(f.chartSvg, t("provider.forecastChart"));
  if (svg) document.getElementById("forecast-chart").replaceChildren(svg);
}

/** A capital-provider section's read: a route this deployment does not serve (404), or one the key may not read
 *  (403: staff and auditor keys hold no provider position), or one without its sources (503) hides the section. */
async function section(path, render, { signed = true } = {}) {
  try {
    render(await apiGet(path, { signed }));
  } catch (err) {
    if (!(err instanceof ApiError && [403, 404, 503].includes(err.status))) throw err;
  }
}

async function refreshProviders(cash) {
  let classes;
  await section("/v1/providers/classes", (c) => renderClasses((classes = c), cash), { signed: false });
  await section("/v1/providers/scheduled", renderScheduled, { signed: false });
  await section("/v1/providers/forecast", (f) => renderForecast(f, cash));
  if (classes) await section("/v1/providers/me", (m) => renderMine(m, classes, cash));
}

/** Reserve adequacy: GET /v1/risk/reserve-adequacy (the same stress run; the proposal in the page's language). */
function renderReserve(r, cash) {
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  setText(
    "reserve-adequacy",
    t("provider.reserveTarget", {
      percentile: r.rule.percentile * 100,
      paths: r.rule.paths,
      target: money(r.target),
      fund: money(r.insuranceFund),
      gap: money(r.gap),
    }),
  );
  setText("reserve-proposal", r.proposal.text[currentLang()] ?? r.proposal.text.en);
}

let stressBlock = -1;

function render(p) {
  const cash = p.cashToken;
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("pool").hidden = false;
  document.getElementById("reserves-section").hidden = false;
  setText("total-assets", money(p.pool.totalAssets));
  setText("share-price", t("provider.sharePrice", { price: amount(p.pool.sharePrice, cash.decimals, 6) }));
  setText("utilisation", percent(p.pool.utilisation));
  setText(
    "debt-cash",
    t("provider.lentAvailable", { lent: money(p.pool.totalDebt), available: money(p.pool.availableCash) }),
  );
  setText("rate-day", percent(p.pool.ratePerDay, 6));
  setText("rate-year", t("provider.rateYear", { rate: percent(p.pool.annualRate) }));
  setText("insurance", money(p.insuranceFund.balance));
  setText(
    "insurance-covered",
    t("provider.paidIn", { amount: money(p.insuranceFund.totalCovered), n: p.insuranceFund.claims }),
  );
  setText("written-off", money(p.pool.totalWrittenOff));
  setText(
    "deficit",
    BigInt(p.pool.deficit) > 0n ? t("provider.deficit", { amount: money(p.pool.deficit) }) : t("provider.noDeficit"),
  );
  setText("reserve-factor", percent(p.pool.reserveFactor));
  setText("reserves-owed", t("provider.reservesOwed", { amount: money(p.pool.reservesOwed) }));
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
            num(a.ratio === null ? t("provider.nothingOwed") : percent(a.ratio)),
          ),
        ),
      ),
    t("provider.noEpoch"),
  );
  fillTable(
    document.querySelector("#bad-debt tbody"),
    p.badDebtEvents
      .slice()
      .reverse()
      .map((e) =>
        row(
          num(e.block),
          EVENT_KINDS.includes(e.kind) ? t(`provider.event.${e.kind}`) : e.kind,
          e.account ? shortHex(e.account) : "—",
          num(money(e.amount)),
          Object.entries(e.details)
            .map(([k, v]) => `${k} ${/^[0-9]+$/.test(v) && !k.startsWith("sharePrice") ? amount(v, cash.decimals) : v}`)
            .join(", "),
        ),
      ),
    t("provider.noBadDebt"),
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
    await refreshProviders(p.cashToken);
  } catch (err) {
    showError(err);
  }
}

keyGate(() => {
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
});
