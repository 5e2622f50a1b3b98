/* global document */
// Oracle feeds and circuit breakers per listed security (GET /v1/risk/oracle), and the re-arm of a tripped breaker
// (POST /v1/risk/oracle/:asset/breaker/reset: recorded, then sent with the service's key; audited). Without a key
// that may re-arm, the action is shown unavailable with the reason the service gives.
import {
  ApiError,
  amount,
  apiGet,
  apiPostJson,
  el,
  fillTable,
  keyGate,
  price,
  row,
  shortHex,
  showError,
  showUpdated,
} from "./common.js";
import { applyI18n, dateTime, t } from "./i18n.js";
import { duration, renderOpsNav } from "./ops-nav.js";

renderOpsNav();
applyI18n();

function resetLine(reset) {
  const line = document.getElementById("reset-line");
  line.className = reset.available ? "status" : "status bad";
  line.dataset.available = String(reset.available);
  line.replaceChildren(
    ...(reset.available
      ? [t("oracle.resetOn", { via: t(`oracle.via.${reset.via}`) }), " ", el("span", { class: "mono" }, reset.signer)]
      : [t("oracle.resetOff", { reason: "" }), el("span", { class: "mono" }, reset.reason)]),
  );
}

function actionCell(a, reset) {
  if (!a.tripped) return el("span", { class: "muted" }, t("oracle.notTripped"));
  if (!reset.available) return el("span", { class: "muted", title: reset.reason }, t("oracle.unavailable"));
  const form = el(
    "form",
    { class: "inline", "data-reset": a.asset },
    el("input", {
      name: "reason",
      type: "text",
      required: "",
      minlength: "3",
      maxlength: "500",
      placeholder: t("oracle.reason"),
      "aria-label": t("oracle.reason"),
    }),
    el("button", { type: "submit" }, t("oracle.reset")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const status = document.getElementById("reset-status");
    status.className = "status";
    try {
      await apiPostJson(`/v1/risk/oracle/${a.asset}/breaker/reset`, { reason: form.reason.value.trim() });
      status.textContent = t("oracle.resetDone", { symbol: a.symbol });
      status.dataset.done = a.symbol;
      await load();
    } catch (err) {
      status.className = "status bad";
      status.textContent = t("ops.failed", { message: err instanceof ApiError ? `${err.code}: ${err.message}` : err });
    }
  });
  return form;
}

function render(board) {
  resetLine(board.reset);
  const rows = board.assets.map((a) => {
    const tr = row(
      el("span", { class: "mono" }, a.symbol),
      { num: amount(a.answer, a.decimals, 4) },
      { num: a.roundId },
      a.ageSeconds === null ? "—" : t("oracle.ago", { time: duration(a.ageSeconds) }),
      el(
        "div",
        {},
        t("oracle.quorum", { n: a.reporters.length, quorum: a.quorum }),
        el("div", { class: "mono" }, a.reporters.map(shortHex).join(" ")),
      ),
      { num: price(a.price) },
      el(
        "span",
        { class: `badge ${a.status === "Safe" ? "state-Healthy" : "state-Liquidatable"}` },
        t(`price.${a.status}`),
      ),
      a.tripped
        ? el("span", { class: "tripped" }, t("oracle.tripped", { round: a.trippedRoundId }))
        : t("oracle.armed"),
      actionCell(a, board.reset),
    );
    tr.dataset.asset = a.symbol;
    tr.dataset.tripped = String(a.tripped);
    return tr;
  });
  fillTable(document.querySelector("#feeds tbody"), rows, "—");
  showUpdated(board.block);
}

function renderResets(resets, symbols) {
  const rows = resets.map((r) =>
    row(
      dateTime(Math.floor(r.createdAt / 1000)),
      el("span", { class: "mono" }, symbols.get(r.asset.toLowerCase()) ?? shortHex(r.asset)),
      t(`oracle.status.${r.status}`),
      el("span", { class: "mono" }, r.reason),
      el("span", { class: "mono" }, r.actor),
      el("span", { class: "mono" }, shortHex(r.txHash)),
    ),
  );
  fillTable(document.querySelector("#resets tbody"), rows, t("oracle.noResets"));
}

async function load() {
  try {
    const board = await apiGet("/v1/risk/oracle");
    render(board);
    const symbols = new Map(board.assets.map((a) => [a.asset.toLowerCase(), a.symbol]));
    renderResets((await apiGet("/v1/risk/oracle/resets")).resets, symbols);
  } catch (err) {
    showError(err);
  }
}

keyGate(load);
