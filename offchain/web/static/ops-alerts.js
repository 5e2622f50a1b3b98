/* global document, URLSearchParams */
// Surveillance and AML alerts for the risk officer: the queue, one alert's evidence (figures against the thresholds,
// the order and trade ids), accept (sets the behaviour tier) or dismiss with a note; AML case files and their notes.
// Every action is a signed, audited API call with the version read (a decision made meanwhile answers 409).
import {
  ApiError,
  apiGet,
  apiPostJson,
  el,
  fillTable,
  keyGate,
  num,
  row,
  setText,
  shortHex,
  showError,
} from "./common.js";
import { applyI18n, dateTime, has, t } from "./i18n.js";
import { renderOpsNav } from "./ops-nav.js";

renderOpsNav();
applyI18n();

let current = null;
let currentCase = null;

const label = (prefix, name) => (has(`${prefix}.${name}`) ? t(`${prefix}.${name}`) : name);
const when = (ms) => dateTime(Math.floor(ms / 1000));

async function loadQueue() {
  const q = new URLSearchParams();
  for (const [id, name] of [
    ["f-status", "status"],
    ["f-kind", "kind"],
  ]) {
    const v = document.getElementById(id).value;
    if (v) q.set(name, v);
  }
  const { alerts } = await apiGet(`/v1/surveillance/alerts${q.size ? `?${q}` : ""}`);
  document.getElementById("queue").hidden = false;
  fillTable(
    document.querySelector("#alert-table tbody"),
    alerts.map((a) =>
      row(
        num(`${a.id}`),
        when(a.raisedAt),
        label("alerts.rule", a.rule),
        el("span", { class: "mono" }, shortHex(a.account)),
        label("alerts.status", a.status),
        el("button", { type: "button", class: "secondary", "data-alert": a.id }, t("alerts.open")),
      ),
    ),
    t("alerts.none"),
  );
  for (const b of document.querySelectorAll("button[data-alert]"))
    b.addEventListener("click", () => showAlert(Number(b.dataset.alert)).catch(showError));
}

function figureRows(e) {
  const rows = Object.entries(e.figures ?? {}).map(([k, v]) => row(label("alerts.fig", k), num(`${v}`), ""));
  for (const [k, v] of Object.entries(e.thresholds ?? {})) rows.push(row(label("alerts.fig", k), "", num(`${v}`)));
  return rows;
}

async function showAlert(id) {
  current = await apiGet(`/v1/surveillance/alerts/${id}`);
  const a = current;
  document.getElementById("detail").hidden = false;
  setText("detail-title", t("alerts.detailH", { id: a.id, rule: label("alerts.rule", a.rule) }));
  setText(
    "detail-line",
    t("alerts.detailLine", {
      kind: label("alerts.kind", a.kind),
      status: label("alerts.status", a.status),
      tier: label("alerts.tier", a.proposedTier),
      reason: label("alerts.reason", a.reasonCode),
    }),
  );
  fillTable(document.querySelector("#figures tbody"), figureRows(a.evidence), t("alerts.noFigures"));
  setText("order-ids", (a.evidence.orderIds ?? []).join(", ") || "—");
  setText("trade-ids", (a.evidence.tradeIds ?? []).join(", ") || "—");
  setText("decided", a.decidedBy ? t("alerts.decidedBy", { who: a.decidedBy, at: when(a.decidedAt) }) : "");
  document.getElementById("decide").hidden = a.status !== "open";
  document.getElementById("d-tier").value = a.proposedTier === "restricted" ? "restricted" : "flagged";
  setText("decide-status", "");
}

async function decide(action) {
  const note = document.getElementById("d-note").value.trim();
  const body = { note, expectedVersion: current.version };
  if (action === "accept") body.tier = document.getElementById("d-tier").value;
  try {
    const a = await apiPostJson(`/v1/surveillance/alerts/${current.id}/${action}`, body);
    await showAlert(a.id);
    setText("decide-status", t(action === "accept" ? "alerts.accepted" : "alerts.dismissed", { id: a.id }));
    await Promise.all([loadQueue(), loadFlagged(), loadCases()]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) setText("decide-status", t("alerts.conflict"));
    else if (err instanceof ApiError && err.status === 400) setText("decide-status", t("alerts.badInput"));
    else throw err;
  }
}

/** The accounts whose behaviour tier is in force (not standard), with a clear action (note required, audited). */
async function loadFlagged() {
  const { tiers } = await apiGet("/v1/surveillance/behaviour-tiers");
  const flagged = tiers.filter((r) => r.effective && r.tier !== "standard");
  document.getElementById("flagged").hidden = false;
  fillTable(
    document.querySelector("#flagged-table tbody"),
    flagged.map((r) =>
      row(
        el("span", { class: "mono" }, shortHex(r.account)),
        label("alerts.tier", r.tier),
        label("alerts.reason", r.reasonCode),
        el("span", { class: "mono" }, r.setBy),
        r.until ? when(r.until) : t("alerts.noUntil"),
        el("button", { type: "button", class: "secondary", "data-clear": r.account }, t("alerts.clear")),
      ),
    ),
    t("alerts.noFlagged"),
  );
  for (const b of document.querySelectorAll("button[data-clear]")) {
    const record = flagged.find((r) => r.account === b.dataset.clear);
    b.addEventListener("click", () => clearFlag(record).catch(showError));
  }
}

async function clearFlag(record) {
  const note = document.getElementById("flag-note").value.trim();
  try {
    await apiPostJson(`/v1/surveillance/behaviour-tiers/${record.account}/clear`, {
      reasonCode: "MANUAL_REVIEW",
      note,
      expectedVersion: record.version,
    });
    document.getElementById("flag-note").value = "";
    setText("flag-status", t("alerts.cleared", { account: shortHex(record.account) }));
    await loadFlagged();
  } catch (err) {
    if (err instanceof ApiError && (err.status === 409 || err.status === 400))
      setText("flag-status", t(err.status === 409 ? "alerts.conflict" : "alerts.badInput"));
    else throw err;
  }
}

async function loadCases() {
  const { cases } = await apiGet("/v1/surveillance/cases");
  document.getElementById("cases").hidden = false;
  fillTable(
    document.querySelector("#case-table tbody"),
    cases.map((c) =>
      row(
        num(`${c.id}`),
        el("span", { class: "mono" }, shortHex(c.account)),
        label("alerts.case", c.status),
        when(c.updatedAt),
        el("button", { type: "button", class: "secondary", "data-case": c.id }, t("alerts.open")),
      ),
    ),
    t("alerts.noCases"),
  );
  for (const b of document.querySelectorAll("button[data-case]"))
    b.addEventListener("click", () => showCase(Number(b.dataset.case)).catch(showError));
}

async function showCase(id) {
  const f = await apiGet(`/v1/surveillance/cases/${id}`);
  currentCase = f.case;
  document.getElementById("case-detail").hidden = false;
  setText(
    "case-title",
    t("alerts.caseH", { id: f.case.id, alert: f.alert.id, rule: label("alerts.rule", f.alert.rule) }),
  );
  document
    .getElementById("case-notes")
    .replaceChildren(
      ...(f.notes.length
        ? f.notes.map((n) =>
            el(
              "li",
              {},
              `${when(n.at)} · ${label("alerts.case", n.status)} · `,
              el("span", { class: "mono" }, n.author),
              ` · `,
              el("span", { class: "mono" }, n.note),
            ),
          )
        : [el("li", { class: "muted" }, t("alerts.noNotes"))]),
    );
  document.getElementById("c-status").value = f.case.status;
}

async function addNote() {
  const note = document.getElementById("c-note").value.trim();
  const status = document.getElementById("c-status").value;
  try {
    await apiPostJson(`/v1/surveillance/cases/${currentCase.id}/notes`, {
      note,
      status,
      expectedVersion: currentCase.version,
    });
    document.getElementById("c-note").value = "";
    await Promise.all([showCase(currentCase.id), loadCases()]);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 409 || err.status === 400))
      setText("load-status", t(err.status === 409 ? "alerts.conflict" : "alerts.badInput"));
    else throw err;
  }
}

document.getElementById("accept").addEventListener("click", () => decide("accept").catch(showError));
document.getElementById("dismiss").addEventListener("click", () => decide("dismiss").catch(showError));
document.getElementById("add-note").addEventListener("click", () => addNote().catch(showError));
for (const id of ["f-status", "f-kind"])
  document.getElementById(id).addEventListener("change", () => loadQueue().catch(showError));

keyGate(() => Promise.all([loadQueue(), loadFlagged(), loadCases()]).catch(showError));
