/* global document */
// Agreement ends (issue 22) for the operations desk: every financing agreement being executed at its end (expiry,
// the client's termination, or default), the step it is at and what it waits for, each step's transaction, the
// final settlement and the client's pain.001; an officer starts an end, advances or retries it, and hands in the
// custodian bank's confirmation for the reconciliation of the payout.
import { ApiError, amount, apiGet, apiPostJson, el, keyGate, shortHex, showError } from "./common.js";
import { applyI18n, currentLang, dateTime, t } from "./i18n.js";
import { renderOpsNav } from "./ops-nav.js";

renderOpsNav();
applyI18n();

const STEPS = ["freeze", "close-positions", "repay", "fees", "settle", "statement", "reconcile"];

/** A note the service wrote in both languages, in the page's. */
function say(note) {
  if (!note) return "";
  return currentLang() === "en" ? note.en : note.zh;
}

function stepList(end) {
  const at = end.step === "done" ? STEPS.length : STEPS.indexOf(end.step);
  return el(
    "ol",
    { class: "steps" },
    ...STEPS.map((s, i) => {
      const state = i < at ? "done" : i === at ? end.status : "upcoming";
      const done = end.history.filter((h) => h.step === s && h.status === "done").at(-1);
      return el(
        "li",
        { class: `step ${state}`, "data-step": s, "data-state": state },
        el("strong", {}, t(`ends.step.${s}`)),
        " — ",
        t(`ends.state.${state}`),
        done ? el("div", { class: "muted" }, say(done.note), done.txHash ? ` (tx ${shortHex(done.txHash)})` : "") : "",
        i === at && end.waitingFor
          ? el("div", { class: end.status === "failed" ? "bad" : "" }, say(end.waitingFor))
          : "",
      );
    }),
  );
}

function settlementBlock(end) {
  const s = end.finalSettlement;
  if (!s) return "";
  const d = s.currency.decimals;
  const f = end.facts;
  const lines = [
    t("ends.fs.shares", {
      providers: amount(s.profitShares.capitalProviders, d),
      platform: amount(s.profitShares.platform, d),
      client: amount(s.payouts.client, d),
    }),
  ];
  if (f.seniorPriceBefore && f.seniorPriceAfter)
    lines.push(
      t("ends.fs.price", {
        before: amount(f.juniorPriceBefore, d, 6),
        after: amount(f.juniorPriceAfter, d, 6),
        seniorBefore: amount(f.seniorPriceBefore, d, 6),
        seniorAfter: amount(f.seniorPriceAfter, d, 6),
      }),
    );
  if (f.messageId) lines.push(t("ends.fs.pain001", { id: f.messageId, amount: amount(f.payout, d) }));
  return el(
    "details",
    {},
    el("summary", {}, t("ends.fs.summary", { hash: shortHex(f.finalHash ?? "") })),
    ...lines.map((l) => el("p", {}, l)),
    el("pre", {}, s.text),
  );
}

function actions(end) {
  const box = el("div", { class: "inline" });
  const advance = el("button", { type: "button", "data-action": "advance" }, t("ends.action.advance"));
  advance.addEventListener("click", () => act(end, "advance"));
  box.append(advance);
  if (end.status === "failed") {
    const retry = el("button", { type: "button", class: "secondary", "data-action": "retry" }, t("ends.action.retry"));
    retry.addEventListener("click", () => act(end, "retry"));
    box.append(retry);
  }
  if (end.step === "reconcile") {
    const format = el(
      "select",
      { name: "format", "aria-label": "format" },
      el("option", { value: "camt054" }, "camt.054"),
      el("option", { value: "csv" }, "CSV"),
    );
    const content = el("textarea", { name: "content", rows: 3, placeholder: t("ends.bank.placeholder") });
    const send = el("button", { type: "button", "data-action": "bank" }, t("ends.action.bank"));
    send.addEventListener("click", () => act(end, "bank", { format: format.value, content: content.value }));
    box.append(format, content, send);
  }
  return box;
}

function endCard(end) {
  return el(
    "article",
    { class: "card", "data-agreement": end.agreementId, "data-status": end.status },
    el(
      "h3",
      {},
      `${shortHex(end.agreementId)} · ${t(`ends.reason.${end.reason}`)} · `,
      el("span", { class: `badge ${end.status}` }, t(`ends.status.${end.status}`)),
    ),
    el(
      "p",
      { class: "muted" },
      t("ends.meta", {
        account: shortHex(end.account),
        by: end.requestedBy,
        at: dateTime(Math.floor(end.requestedAt / 1000)),
        deadline: end.closeDeadline ? dateTime(end.closeDeadline) : "—",
      }),
    ),
    stepList(end),
    settlementBlock(end),
    end.status === "done" ? "" : actions(end),
  );
}

async function act(end, action, body) {
  const status = document.getElementById("action-status");
  const path = {
    advance: `/v1/agreements/${end.agreementId}/end/advance`,
    retry: `/v1/agreements/${end.agreementId}/end/retry`,
    bank: `/v1/agreements/${end.agreementId}/end/bank-confirmation`,
  }[action];
  try {
    const after = await apiPostJson(path, body ?? {});
    status.className = "status";
    status.textContent = t("ends.acted", { id: shortHex(end.agreementId), status: t(`ends.status.${after.status}`) });
  } catch (err) {
    status.className = "status bad";
    status.textContent = err instanceof ApiError ? `${err.status}: ${err.message}` : String(err?.message ?? err);
  }
  await load();
}

document.getElementById("start-end").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target;
  const status = document.getElementById("start-status");
  try {
    const end = await apiPostJson(`/v1/agreements/${form.agreementId.value}/end`, {
      reason: form.reason.value,
      payee: { name: form.payeeName.value, account: { other: form.payeeAccount.value } },
    });
    status.className = "status";
    status.textContent = t("ends.started", { id: shortHex(end.agreementId), step: t(`ends.step.${end.step}`) });
  } catch (err) {
    status.className = "status bad";
    status.textContent = err instanceof ApiError ? `${err.status}: ${err.message}` : String(err?.message ?? err);
  }
  await load();
});

async function load() {
  try {
    const { ends } = await apiGet("/v1/agreement-ends");
    const box = document.getElementById("ends");
    box.replaceChildren(...(ends.length ? ends.map(endCard) : [el("p", { class: "muted" }, t("ends.none"))]));
    document.getElementById("load-status").textContent = "";
  } catch (err) {
    showError(err);
  }
}

keyGate(load);
