/* global document */
// Scheduled risk-parameter changes: every AccessManager operation since deployment, decoded with the project's
// ABIs, with its ETA, caller and outcome (GET /v1/risk/scheduled).
import { apiGet, el, fillTable, keyGate, row, shortHex, showError, showUpdated } from "./common.js";
import { applyI18n, dateTime, t } from "./i18n.js";
import { duration, renderOpsNav } from "./ops-nav.js";

renderOpsNav();
applyI18n();

function callCell(o) {
  if (!o.call) return [t("params.undecoded"), el("div", { class: "mono" }, `${o.data.slice(0, 10)}…`)];
  const args = Object.entries(o.call.args).map(([k, v]) => `${k}=${v}`);
  return el("div", { class: "mono" }, el("div", {}, o.call.function), ...args.map((a) => el("div", {}, a)));
}

async function load() {
  try {
    const body = await apiGet("/v1/risk/scheduled");
    document.getElementById("delay-line").textContent = t("params.delay", { delay: duration(body.riskDelaySeconds) });
    const want = document.getElementById("op-status").value;
    const rows = body.operations
      .filter((o) => !want || o.status === want)
      .map((o) => {
        const tr = row(
          t(`params.status.${o.status}`),
          el("span", { class: "mono" }, o.contract ?? shortHex(o.target)),
          callCell(o),
          dateTime(o.executableAt),
          el("span", { class: "mono" }, shortHex(o.caller)),
          el("span", { class: "mono" }, `#${o.scheduledBlock} ${shortHex(o.scheduledTxHash)}`),
        );
        tr.dataset.status = o.status;
        tr.dataset.operation = o.operationId;
        return tr;
      });
    fillTable(document.querySelector("#operations tbody"), rows, t("params.none"));
    showUpdated(body.block);
  } catch (err) {
    showError(err);
  }
}

document.getElementById("params-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  void load();
});

keyGate(load);
