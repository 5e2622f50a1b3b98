/* global document, FormData */
// Operations landing and the KYC review queue: list applications by status, open one (identity for KYC officers,
// its history and signed acknowledgements), approve or reject it with a reason — each through the audited KYC API.
import { ApiError, apiGet, apiPostJson, el, fillTable, keyGate, row, shortHex, showError } from "./common.js";
import { applyI18n, dateTime, has, t, withLang } from "./i18n.js";
import { OPS_PAGES, renderOpsNav } from "./ops-nav.js";

renderOpsNav();
applyI18n();

const links = OPS_PAGES.map((p) =>
  el("li", {}, el("a", { href: withLang(p.href) }, t(p.key)), " — ", t(`${p.key}.desc`)),
);
document.getElementById("ops-pages").replaceChildren(...links);

/** The KYC capability's review reasons are English sentences; the two it writes are shown translated. */
function reasonText(reason) {
  const tier = /^tier (\d+) is above the auto-approval limit (\d+)$/.exec(reason);
  if (tier) return t("ops.reason.tier", { tier: tier[1], limit: tier[2] });
  const near = /^sanctions near match: SDN (\S+) \(([\d.]+)\)$/.exec(reason);
  if (near) return t("ops.reason.sanctions", { entNum: near[1], score: near[2] });
  return el("span", { class: "mono" }, reason);
}

/** A history entry's status: an application status, or one of the steps only the history records. */
function historyStatus(status) {
  if (has(`onb.status.${status}`)) return t(`onb.status.${status}`);
  if (has(`ops.history.${status}`)) return t(`ops.history.${status}`);
  return el("span", { class: "mono" }, status);
}

let selected = null;

async function openApplication(id) {
  const status = document.getElementById("decide-status");
  status.textContent = "";
  try {
    const [a, { history }] = await Promise.all([
      apiGet(`/v1/kyc/applications/${id}`),
      apiGet(`/v1/kyc/applications/${id}/history`),
    ]);
    selected = a;
    document.getElementById("detail-head").textContent = `${a.id} · ${a.account} · ${a.identityHash}`;
    const s = a.suitability;
    document.getElementById("detail-quiz").textContent = s
      ? t("onb.quizResult", { score: s.score, total: s.total, quizTier: s.quizTier, riskTier: s.riskTier })
      : "—";
    document.getElementById("detail-identity").hidden = !a.identity;
    document.getElementById("detail-identity-hidden").hidden = Boolean(a.identity);
    document.getElementById("detail-identity").textContent = a.identity ? JSON.stringify(a.identity, null, 2) : "";
    const acks = a.acknowledgements ?? [];
    document
      .getElementById("detail-acks")
      .replaceChildren(
        ...(acks.length
          ? acks.map((k) =>
              el(
                "div",
                { "data-ack": k.documentId },
                t(`onb.doc.${k.documentId}`),
                ` v${k.version} · ${dateTime(k.acknowledgedAt)} `,
                el("span", { class: "mono" }, shortHex(k.signature)),
              ),
            )
          : [t("onb.noAck")]),
      );
    document
      .getElementById("detail-history")
      .replaceChildren(
        ...history.map((h) =>
          el(
            "li",
            {},
            `${dateTime(Math.floor(h.at / 1000))} · `,
            historyStatus(h.status),
            " · ",
            el("span", { class: "mono" }, `${h.actor} ${h.reason}`),
          ),
        ),
      );
    const open = a.status === "pending_review";
    document.getElementById("approve").disabled = !open;
    document.getElementById("reject").disabled = !open;
    document.getElementById("kyc-detail").hidden = false;
  } catch (err) {
    showError(err);
  }
}

async function loadQueue() {
  const status = document.getElementById("kyc-status").value;
  try {
    const { applications } = await apiGet(`/v1/kyc/applications?limit=200${status ? `&status=${status}` : ""}`);
    const rows = applications.map((a) => {
      const tr = row(
        el("span", { class: "mono" }, shortHex(a.id)),
        el("span", { class: "mono" }, shortHex(a.account)),
        t(`onb.status.${a.status}`),
        { num: String(a.tier) },
        { num: String(a.score) },
        a.reviewReasons.length ? a.reviewReasons.map((r) => el("div", {}, reasonText(r))) : "—",
        a.screening.length ? t("ops.screeningHits", { n: a.screening.length }) : "—",
        dateTime(Math.floor(a.createdAt / 1000)),
        el("button", { type: "button", class: "secondary", "data-open": a.id }, t("ops.open")),
      );
      tr.dataset.application = a.id;
      return tr;
    });
    fillTable(document.querySelector("#kyc-queue tbody"), rows, t("ops.noApplications"));
    for (const b of document.querySelectorAll("#kyc-queue [data-open]"))
      b.addEventListener("click", () => openApplication(b.dataset.open));
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) {
      fillTable(document.querySelector("#kyc-queue tbody"), [], t("ops.staffOnly"));
      return;
    }
    showError(err);
  }
}

document.getElementById("kyc-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  void loadQueue();
});

document.getElementById("decide-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!selected) return;
  const action = e.submitter?.value === "reject" ? "reject" : "approve";
  const data = new FormData(e.target);
  const body = { reason: String(data.get("reason")).trim() };
  if (action === "approve" && data.get("tier")) body.tier = Number(data.get("tier"));
  const status = document.getElementById("decide-status");
  status.className = "status";
  try {
    const a = await apiPostJson(`/v1/kyc/applications/${selected.id}/${action}`, body);
    e.target.reset();
    await Promise.all([loadQueue(), openApplication(a.id)]);
    status.textContent = t(action === "approve" ? "ops.done.approved" : "ops.done.rejected", { id: a.id });
    status.dataset.done = action;
  } catch (err) {
    status.className = "status bad";
    status.textContent = t("ops.failed", { message: err instanceof ApiError ? `${err.code}: ${err.message}` : err });
  }
});

keyGate(loadQueue);
