/* global document */
// The margin-call board: accounts by state from the engine's own reading at one block, each with its deadline,
// amount to cure, the keeper's last action and the overrides that hold it (GET /v1/risk/margin-calls).
import {
  ApiError,
  amount,
  apiDelete,
  apiGet,
  apiPostJson,
  el,
  fillTable,
  keyGate,
  row,
  shortHex,
  showError,
  showUpdated,
} from "./common.js";
import { applyI18n, dateTime, t } from "./i18n.js";
import { duration, renderOpsNav } from "./ops-nav.js";

renderOpsNav();
applyI18n();

const STATES = ["Healthy", "Warning", "MarginCall", "Liquidatable", "Defaulted"];
let symbols = new Map();

function deadlineCell(r, now) {
  if (r.deadline === null) return "—";
  const left = r.deadline - now;
  return el(
    "span",
    { "data-deadline": r.deadline },
    dateTime(r.deadline),
    " · ",
    left > 0 ? t("margin.left", { time: duration(left) }) : t("margin.overdue"),
  );
}

function keeperCell(r) {
  const parts = [];
  if (r.lastIntent)
    parts.push(
      el(
        "div",
        {},
        t("margin.intent", { status: t(`margin.intent.${r.lastIntent.status}`), reason: "" }),
        el("span", { class: "mono" }, `${r.lastIntent.triggerReason} ${shortHex(r.lastIntent.txHash)}`),
      ),
    );
  if (r.lastNotice)
    parts.push(
      el(
        "div",
        {},
        t("margin.notice", { kind: t(`margin.notice.${r.lastNotice.kind}`) }),
        " · ",
        dateTime(Math.floor(r.lastNotice.createdAt / 1000)),
      ),
    );
  return parts.length ? parts : t("margin.noAction");
}

function overrideTarget(o) {
  return o.scope === "asset" ? (symbols.get(o.target.toLowerCase()) ?? shortHex(o.target)) : shortHex(o.target);
}

/** Runs a keeper override change (risk officer; audited by the API) and reloads the board. */
async function act(fn, done) {
  const status = document.getElementById("action-status");
  status.className = "status";
  try {
    await fn();
    status.textContent = t(done);
    status.dataset.done = done;
    await load();
  } catch (err) {
    status.className = "status bad";
    status.textContent = t("ops.failed", { message: err instanceof ApiError ? `${err.code}: ${err.message}` : err });
  }
}

/** Pause automatic liquidation of the account (POST /v1/keeper/overrides), with a reason. */
function pauseForm(r) {
  const form = el(
    "form",
    { class: "inline", "data-pause": r.account },
    el("input", {
      name: "reason",
      type: "text",
      required: "",
      minlength: "3",
      maxlength: "500",
      placeholder: t("margin.col.reason"),
      "aria-label": t("margin.col.reason"),
    }),
    el("button", { type: "submit", class: "secondary" }, t("margin.pause")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { scope: "account", target: r.account, reason: form.reason.value.trim() };
    void act(() => apiPostJson("/v1/keeper/overrides", body), "margin.pausedDone");
  });
  return form;
}

function resumeButton(o) {
  const b = el("button", { type: "button", class: "secondary", "data-resume": o.target }, t("margin.resume"));
  b.addEventListener("click", () =>
    act(() => apiDelete(`/v1/keeper/overrides/${o.scope}/${o.target}`), "margin.resumedDone"),
  );
  return b;
}

function render(board) {
  const d = board.cashDecimals;
  document.getElementById("keeper-line").textContent = t(board.keeperRunning ? "margin.keeperOn" : "margin.keeperOff");
  document
    .getElementById("counts")
    .replaceChildren(
      ...STATES.map((s) =>
        el(
          "div",
          { class: "card", "data-state": s },
          el("div", { class: "label" }, t(`state.${s}`)),
          el("div", { class: "value" }, String(board.counts[s] ?? 0)),
        ),
      ),
    );
  const rows = board.accounts.map((r) => {
    const tr = row(
      el("span", { class: "mono" }, r.account),
      el("span", { class: `badge state-${r.state}` }, t(`state.${r.state}`)),
      { num: amount(r.equity, d) },
      { num: amount(r.maintenanceReq, d) },
      { num: r.amountToCure === null ? "—" : amount(r.amountToCure, d) },
      deadlineCell(r, board.chainTime),
      keeperCell(r),
      r.overrides.length
        ? r.overrides.map((o) =>
            el("div", {}, t("margin.paused"), " · ", el("span", { class: "mono" }, overrideTarget(o))),
          )
        : r.state === "Healthy"
          ? "—"
          : pauseForm(r),
    );
    tr.dataset.account = r.account;
    tr.dataset.state = r.state;
    return tr;
  });
  fillTable(document.querySelector("#board tbody"), rows, t("margin.none"));
  const overrides = board.overrides.map((o) =>
    row(
      t(`margin.scope.${o.scope}`),
      el("span", { class: "mono" }, overrideTarget(o)),
      el("span", { class: "mono" }, o.reason),
      el("span", { class: "mono" }, o.createdBy),
      dateTime(Math.floor(o.createdAt / 1000)),
      resumeButton(o),
    ),
  );
  fillTable(document.querySelector("#overrides tbody"), overrides, t("margin.noOverrides"));
  showUpdated(board.block);
}

async function load() {
  try {
    const config = await apiGet("/v1/config", { signed: false });
    symbols = new Map(config.tokens.map((x) => [x.address.toLowerCase(), x.symbol]));
    const state = document.getElementById("state-filter").value;
    render(await apiGet(`/v1/risk/margin-calls${state ? `?state=${state}` : ""}`));
  } catch (err) {
    showError(err);
  }
}

document.getElementById("board-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  void load();
});

keyGate(load);
