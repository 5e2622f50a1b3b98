/* global document, sessionStorage, setInterval */
import {
  amount,
  apiGet,
  apiGetOptional,
  el,
  fillTable,
  keyGate,
  num,
  walletAddress,
  percent,
  price,
  row,
  setText,
  shortHex,
  showError,
  showUpdated,
} from "./common.js";
import { applyI18n, currentLang, dateTime, t, withLang } from "./i18n.js";
import { mountPracticeReset } from "./practice.js";
import { renderAmendments } from "./amendments.js";
import { renderHistory } from "./history.js";
import { mountTicket } from "./ticket.js";
import { wallet } from "./wallet.js";

applyI18n();

const REFRESH_MS = 5_000;

function render(a) {
  const cash = a.cashToken;
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("account").hidden = false;
  setText("account-address", a.account);
  const state = document.getElementById("state");
  state.textContent = t(`state.${a.state}`);
  state.className = `badge state-${a.state}`;
  setText("deadline", a.callDeadline ? t("client.cureBefore", { time: dateTime(a.callDeadline) }) : "");
  setText("margin-ratio", a.marginRatio === null ? t("client.noPosition") : percent(a.marginRatio));
  setText("prices-safe", t(a.pricesSafe ? "client.pricesSafe" : "client.pricesUnsafe"));
  const mode = a.marginMode;
  setText(
    "margin-mode",
    mode.mode === "fixed" ? t("client.modeFixed", { date: mode.fixedUntil }) : t("client.modeDynamic"),
  );
  setText("equity", money(a.equity));
  setText("cushion", t("client.aboveMaint", { amount: money(a.risk.cushion) }));
  setText("debt", money(a.debt));
  setText(
    "daily-interest",
    t("client.dailyInterest", { amount: money(a.interest.dailyInterest), rate: percent(a.interest.annualRate) }),
  );
  setText("liquidation-return", BigInt(a.debt) === 0n ? t("client.noDebt") : percent(a.liquidationReturn));
  setText("liquidation-price", a.liquidationPrice ? t("client.enginePrice", { price: price(a.liquidationPrice) }) : "");
  setText("cash", money(a.cash));
  setText("position-value", t("client.positionsWorth", { amount: money(a.positionValue) }));
  setText("maintenance", money(a.maintenanceReq));
  setText("warning-line", money(a.warningLine));
  setText("initial", money(a.initialReq));
  setText("hard-line", money(a.hardLine));
  fillTable(
    document.querySelector("#positions tbody"),
    a.positions.map((p) =>
      row(
        p.token.symbol,
        num(p.liquidityTier),
        num(amount(p.quantity, p.token.decimals, 0)),
        num(p.price === null ? `— (${t(`price.${p.priceStatus}`)})` : price(p.price)),
        num(amount(p.value, cash.decimals)),
        num(percent(p.haircut)),
        num(percent(p.maintenanceMargin)),
        num(p.liquidationPrice === null ? "—" : price(p.liquidationPrice)),
        num(p.moveToLiquidation === null ? "—" : percent(p.moveToLiquidation)),
      ),
    ),
    t("client.noSecurities"),
  );
  fillTable(
    document.querySelector("#wallet tbody"),
    a.wallet
      .filter((w) => BigInt(w.balance) > 0n)
      .map((w) => row(w.token.symbol, num(amount(w.balance, w.token.decimals, Math.min(2, w.token.decimals))))),
    t("client.walletEmpty"),
  );
}

const NOTICE_KINDS = ["warning", "margin_call", "cured", "liquidated"];

/** The keeper's warnings, margin calls, cures and liquidations for this account (also sent by webhook). */
async function renderNotices() {
  const r = await apiGetOptional("/v1/keeper/notifications");
  const tbody = document.querySelector("#notices tbody");
  if (!r.data)
    return fillTable(
      tbody,
      [],
      r.missing ? t("client.noticesMissing") : t("client.noticesError", { message: r.error.message }),
    );
  fillTable(
    tbody,
    (r.data.notifications ?? []).map((n) =>
      row(
        dateTime(Math.floor(n.createdAt / 1000)),
        NOTICE_KINDS.includes(n.kind) ? t(`client.notice.${n.kind}`) : n.kind,
        n.deadline ? dateTime(n.deadline) : "",
        n.amountToCure ? num(amount(n.amountToCure, 6, 2)) : "",
        n.deliveredAt ? t("common.yes") : t("client.pending", { n: n.attempts }),
      ),
    ),
    t("client.noNotices"),
  );
}

async function renderStatements() {
  const r = await apiGetOptional("/v1/statements");
  const tbody = document.querySelector("#statements tbody");
  if (!r.data)
    return fillTable(
      tbody,
      [],
      r.missing ? t("client.statementsMissing") : t("client.statementsError", { message: r.error.message }),
    );
  fillTable(
    tbody,
    r.data.statements.map((s) =>
      row(
        `${shortHex(s.agreementId)} · ${s.marginStatus}`,
        s.from === s.to ? s.from : `${s.from} – ${s.to}`,
        num(amount(s.interest, s.currencyDecimals, 2)),
        num(amount(s.fees, s.currencyDecimals, 2)),
      ),
    ),
    t("client.noStatements"),
  );
}

/** The binding's numbers as the client reads them: "3× · penalty ≤ 5.00%". */
function bindingTerms(b) {
  const leverage = amount(b.maxLeverage, 18, 2);
  return t("client.binding.terms", { leverage, penalty: percent(b.maxPenalty) });
}

/** The accept button of a proposed binding: sent from the signed-in wallet, the table re-read after it is mined. */
function acceptButton(address, binding) {
  const button = el("button", { type: "button" }, t("client.binding.accept"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await wallet.acceptBinding(address, binding);
      await renderAgreements();
    } catch (err) {
      button.disabled = false;
      showError(err);
    }
  });
  return button;
}

/**
 * The client's agreements and their on-chain binding: none yet, proposed by the operator (the client accepts it
 * here with its wallet; with an API key the page says the wallet is needed), or bound.
 */
async function renderAgreements() {
  const r = await apiGetOptional("/v1/agreements");
  const tbody = document.querySelector("#agreements tbody");
  if (!r.data)
    return fillTable(
      tbody,
      [],
      r.missing ? t("client.agreementsMissing") : t("client.agreementsError", { message: r.error.message }),
    );
  const address = walletAddress();
  const rows = [];
  for (const listed of r.data.agreements) {
    const a = listed.anchor ? await apiGet(`/v1/agreements/${listed.agreementId}`) : listed;
    const b = a.binding ?? null;
    const state = b ? b.state : "none";
    const action =
      state !== "proposed"
        ? ""
        : address && wallet.available()
          ? acceptButton(address, { ...b, agreementId: a.agreementId })
          : t("client.binding.walletNeeded");
    rows.push(
      row(
        shortHex(a.agreementId),
        t(`client.agreementStatus.${a.status}`),
        state === "none" ? t("client.binding.none") : `${t(`client.binding.${state}`)} · ${bindingTerms(b)}`,
        await endCell(a),
        action,
      ),
    );
  }
  fillTable(tbody, rows, t("client.noAgreements"));
}

/**
 * An anchored agreement that is ending (expiry, the client's termination, default): the step its end is at and
 * what that step waits for, in the page's language (the service writes every note in both).
 */
async function endCell(a) {
  if (!a.anchor) return "—";
  const r = await apiGetOptional(`/v1/agreements/${a.agreementId}/end`);
  if (!r.data) return "—";
  const e = r.data;
  const head =
    e.status === "done"
      ? `${t(`ends.reason.${e.reason}`)} · ${t("ends.status.done")}`
      : `${t(`ends.reason.${e.reason}`)} · ${t(`ends.step.${e.step}`)} · ${t(`ends.status.${e.status}`)}`;
  const note = e.waitingFor ? (currentLang() === "en" ? e.waitingFor.en : e.waitingFor.zh) : "";
  return el(
    "span",
    { "data-end-step": e.step, "data-end-status": e.status },
    head,
    note ? el("div", { class: "muted" }, note) : "",
  );
}

async function renderProof() {
  const box = document.getElementById("proof");
  const r = await apiGetOptional("/v1/reserves/me/proof");
  if (!r.data) {
    box.replaceChildren(
      el(
        "span",
        { class: "muted" },
        r.missing === "no such route"
          ? t("client.proofMissing")
          : r.missing
            ? t("client.proofNone")
            : t("client.proofError", { message: r.error.message }),
      ),
    );
    return;
  }
  const proof = r.data.proof ?? r.data;
  const open = el("button", { type: "button" }, t("client.verifyIt"));
  open.addEventListener("click", () => {
    sessionStorage.setItem("mb.console.proof", JSON.stringify(proof));
    document.location.href = withLang("auditor.html");
  });
  box.replaceChildren(
    el(
      "div",
      {},
      t("client.proofLine", { epoch: proof.epoch, block: proof.snapshotBlock }),
      el("span", { class: "mono" }, proof.root),
    ),
    el("div", { class: "muted" }, t("client.proofLeaf", { count: proof.leafCount, depth: proof.depth })),
    open,
  );
}

let cashDecimals = 6;

/** The account's behaviour tier (surveillance): what a risk officer set, why, and until when. */
async function renderTier(account) {
  const r = await apiGetOptional(`/v1/surveillance/behaviour-tiers/${account}`);
  if (!r.data) return setText("behaviour-tier", "");
  const { tier, record } = r.data;
  const text =
    tier === "standard" || record === null
      ? t("client.tier.standard")
      : t(`client.tier.${tier}`, { reason: t(`reason.${record.reasonCode}`) }) +
        (record.until ? t("client.tier.until", { time: dateTime(Math.floor(record.until / 1000)) }) : "");
  setText("behaviour-tier", text);
}

async function refresh() {
  try {
    const a = await apiGet("/v1/accounts/me");
    cashDecimals = a.cashToken.decimals;
    render(a);
    await renderTier(a.account);
    showUpdated(a.block);
  } catch (err) {
    showError(err);
  }
}

/** The ticket needs the wallet (it signs the orders); with an API key the page says so. */
function mountOrderEntry() {
  const address = walletAddress();
  document.getElementById("ticket-key-only").hidden = Boolean(address);
  if (address && wallet.available()) void mountTicket(address, () => void renderHistory(cashDecimals)).catch(showError);
}

keyGate(
  () => {
    void refresh();
    void renderNotices();
    void renderHistory(cashDecimals);
    void renderStatements();
    void renderAmendments(document.getElementById("amendments"));
    void renderAgreements().catch(showError);
    void renderProof();
    mountOrderEntry();
    setInterval(() => void refresh(), REFRESH_MS);
    setInterval(() => void renderNotices(), REFRESH_MS);
    setInterval(() => void renderHistory(cashDecimals), REFRESH_MS);
    void mountPracticeReset(() => void refresh());
  },
  { wallet },
);
