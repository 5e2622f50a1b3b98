/* global document */
// Amendments: what the scheduled parameter changes issued to the live financing agreements they move, and what each
// client answered (GET /v1/agreements/amendments); an operator scans now instead of waiting for the minute's job
// (POST /v1/agreements/amendments/scan).
import { apiGet, apiPost, el, fillTable, keyGate, row, shortHex, showError } from "./common.js";
import { applyI18n, dateTime, t } from "./i18n.js";
import { renderOpsNav } from "./ops-nav.js";

renderOpsNav();
applyI18n();

function changesCell(a) {
  return el(
    "div",
    { class: "mono" },
    a.changes.map((c) => el("div", {}, `${c.path}: ${c.from} → ${c.to}`)),
  );
}

function answeredCell(a) {
  if (a.status === "lapsed") return a.lapsedAt ?? "";
  if (a.status === "withdrawn") return a.withdrawnAt ?? "";
  if (!a.answeredAt) return "—";
  return el("span", { class: "mono" }, `${a.answeredAt} ${shortHex(a.answeredBy)}`);
}

async function load() {
  try {
    const want = document.getElementById("amend-status").value;
    const body = await apiGet(`/v1/agreements/amendments${want ? `?status=${want}` : ""}`);
    const rows = body.amendments.map((a) => {
      const tr = row(
        t(`amendment.status.${a.status}`),
        el("span", { class: "mono" }, shortHex(a.agreementId)),
        el("span", { class: "mono" }, shortHex(a.client)),
        el("span", { class: "mono" }, `${a.contract ?? shortHex(a.target)}.${a.function}`),
        changesCell(a),
        dateTime(a.effectiveAt),
        answeredCell(a),
      );
      tr.dataset.status = a.status;
      tr.dataset.amendment = a.id;
      return tr;
    });
    fillTable(document.querySelector("#amendments tbody"), rows, t("amend.none"));
  } catch (err) {
    showError(err);
  }
}

document.getElementById("amend-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  void load();
});

document.getElementById("amend-scan").addEventListener("click", async () => {
  try {
    const scan = await apiPost("/v1/agreements/amendments/scan");
    document.getElementById("scan-status").textContent = t("amend.scanned", {
      issued: scan.issued.length,
      lapsed: scan.lapsed,
    });
    await load();
  } catch (err) {
    showError(err);
  }
});

keyGate(load);
