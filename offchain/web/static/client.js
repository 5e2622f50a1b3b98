/* global document, sessionStorage, setInterval */
import {
  ApiError,
  amount,
  apiGet,
  el,
  fillTable,
  keyGate,
  num,
  percent,
  price,
  row,
  setText,
  shortHex,
  showError,
  showUpdated,
} from "./common.js";

const REFRESH_MS = 5_000;

function render(a) {
  const cash = a.cashToken;
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("account").hidden = false;
  setText("account-address", a.account);
  const state = document.getElementById("state");
  state.textContent = a.state;
  state.className = `badge state-${a.state}`;
  setText("deadline", a.callDeadline ? `Cure before ${new Date(a.callDeadline * 1000).toLocaleString()}` : "");
  setText("margin-ratio", a.marginRatio === null ? "no position" : percent(a.marginRatio));
  setText("prices-safe", a.pricesSafe ? "all prices safe" : "a price is not safe: new risk is blocked");
  setText("equity", money(a.equity));
  setText("cushion", `${money(a.risk.cushion)} above maintenance`);
  setText("debt", money(a.debt));
  setText("daily-interest", `${money(a.interest.dailyInterest)} a day at ${percent(a.interest.annualRate)} a year`);
  setText("liquidation-return", BigInt(a.debt) === 0n ? "no debt" : percent(a.liquidationReturn));
  setText("liquidation-price", a.liquidationPrice ? `engine liquidation price ${price(a.liquidationPrice)}` : "");
  setText("cash", money(a.cash));
  setText("position-value", `positions worth ${money(a.positionValue)}`);
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
        num(p.price === null ? `— (${p.priceStatus})` : price(p.price)),
        num(amount(p.value, cash.decimals)),
        num(percent(p.haircut)),
        num(percent(p.maintenanceMargin)),
        num(p.liquidationPrice === null ? "—" : price(p.liquidationPrice)),
        num(p.moveToLiquidation === null ? "—" : percent(p.moveToLiquidation)),
      ),
    ),
    "No securities in the margin account.",
  );
  fillTable(
    document.querySelector("#wallet tbody"),
    a.wallet
      .filter((w) => BigInt(w.balance) > 0n)
      .map((w) => row(w.token.symbol, num(amount(w.balance, w.token.decimals, Math.min(2, w.token.decimals))))),
    "Nothing outside the margin account.",
  );
}

/** Optional capabilities (order book, statements, reserve proofs) may not be deployed: say so plainly. */
async function optional(path) {
  try {
    return { data: await apiGet(path) };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return { missing: err.message };
    return { error: err };
  }
}

const NOTICE_LABELS = {
  warning: "Warning: close to the maintenance line",
  margin_call: "Margin call: deposit or repay before the deadline",
  cured: "Margin call cured",
  liquidated: "Liquidated",
};

/** The keeper's warnings, margin calls, cures and liquidations for this account (also sent by webhook). */
async function renderNotices() {
  const r = await optional("/v1/keeper/notifications");
  const tbody = document.querySelector("#notices tbody");
  if (!r.data)
    return fillTable(
      tbody,
      [],
      r.missing ? "Notices are not available in this deployment." : `Could not load notices: ${r.error.message}`,
    );
  const when = (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);
  fillTable(
    tbody,
    (r.data.notifications ?? []).map((n) =>
      row(
        when(n.createdAt),
        NOTICE_LABELS[n.kind] ?? n.kind,
        n.deadline ? when(n.deadline * 1000) : "",
        n.amountToCure ? num(amount(n.amountToCure, 6, 2)) : "",
        n.deliveredAt ? "yes" : `pending (${n.attempts} attempts)`,
      ),
    ),
    "No notices.",
  );
}

async function renderOrders() {
  const r = await optional("/v1/orders");
  const tbody = document.querySelector("#orders tbody");
  if (!r.data)
    return fillTable(
      tbody,
      [],
      r.missing ? "The order book is not available in this deployment." : `Could not load orders: ${r.error.message}`,
    );
  const orders = Array.isArray(r.data) ? r.data : (r.data.orders ?? []);
  fillTable(
    tbody,
    orders.map((o) =>
      row(
        shortHex(String(o.id ?? o.orderId ?? "")),
        o.instrument ?? o.symbol ?? "",
        o.side ?? "",
        num(o.quantity ?? ""),
        num(o.price ?? o.limitPrice ?? ""),
        o.status ?? "",
      ),
    ),
    "No orders.",
  );
}

async function renderStatements() {
  const r = await optional("/v1/statements");
  const tbody = document.querySelector("#statements tbody");
  if (!r.data)
    return fillTable(
      tbody,
      [],
      r.missing ? "Statements are not available in this deployment." : `Could not load statements: ${r.error.message}`,
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
    "No statements yet.",
  );
}

async function renderProof() {
  const box = document.getElementById("proof");
  const r = await optional("/v1/reserves/me/proof");
  if (!r.data) {
    box.replaceChildren(
      el(
        "span",
        { class: "muted" },
        r.missing === "no such route"
          ? "Reserve proofs are not served by this deployment."
          : r.missing
            ? `No reserve proof available: ${r.missing}`
            : `Could not load the proof: ${r.error.message}`,
      ),
    );
    return;
  }
  const proof = r.data.proof ?? r.data;
  const open = el("button", { type: "button" }, "Verify it in the auditor page");
  open.addEventListener("click", () => {
    sessionStorage.setItem("mb.console.proof", JSON.stringify(proof));
    document.location.href = "auditor.html";
  });
  box.replaceChildren(
    el(
      "div",
      {},
      `Epoch ${proof.epoch}, snapshot block ${proof.snapshotBlock}, root `,
      el("span", { class: "mono" }, proof.root),
    ),
    el("div", { class: "muted" }, `Your leaf is one of ${proof.leafCount} accounts in a tree of depth ${proof.depth}.`),
    open,
  );
}

async function refresh() {
  try {
    const a = await apiGet("/v1/accounts/me");
    render(a);
    showUpdated(a.block);
  } catch (err) {
    showError(err);
  }
}

keyGate(() => {
  void refresh();
  void renderNotices();
  void renderOrders();
  void renderStatements();
  void renderProof();
  setInterval(() => void refresh(), REFRESH_MS);
  setInterval(() => void renderNotices(), REFRESH_MS);
});
