/* global document, setInterval */
import { ApiError, amount, apiGet, fillTable, loadCredentials, num, row, walletAddress } from "./common.js";
import { t } from "./i18n.js";

/**
 * The client's protective orders, read-only (client.html's #protective section): type, trigger, the current stop
 * price, how far below the high it sits (trailing kinds), and what became of it. Read from GET /v1/orders, signed
 * like the page's other reads, on the page's refresh cadence. Prices are mbCNY base units (6 decimals).
 */
const REFRESH_MS = 5_000;
const money = (v) => amount(v, 6, 2);
const REASONS = ["USER", "OCO_PARTNER_TRIGGERED", "OCO_PARTNER_CANCELLED", "REDUCE_ONLY", "EXPIRED"];

function trigger(p) {
  if (p.type === "atrTrailing")
    return t("protective.trigger.atr", { k: (p.atrMultipleBps / 10_000).toFixed(2), atr: money(p.atr ?? "0") });
  if (p.trailPercentBps !== undefined)
    return t("protective.trigger.percent", { pct: (p.trailPercentBps / 100).toFixed(2) });
  if (p.trailAmount !== undefined) return t("protective.trigger.amount", { amount: money(p.trailAmount) });
  return t("protective.trigger.price", { price: money(p.stopPrice) });
}

function status(p) {
  if (p.status === "fired")
    return p.cutFrom
      ? t("protective.status.cut", { qty: p.firedQuantity, from: p.cutFrom })
      : t("protective.status.fired", { qty: p.firedQuantity });
  if (p.status === "cancelled")
    return t("protective.status.cancelled", {
      reason: REASONS.includes(p.cancelReason) ? t(`protective.reason.${p.cancelReason}`) : (p.cancelReason ?? ""),
    });
  return t("protective.status.armed");
}

async function render() {
  // signed in with an API key, or with the wallet (the session is the cookie)
  if (!loadCredentials() && !walletAddress()) return;
  const tbody = document.querySelector("#protective tbody");
  let data;
  try {
    data = await apiGet("/v1/orders");
  } catch (err) {
    const missing = err instanceof ApiError && err.status === 404;
    return fillTable(tbody, [], missing ? t("client.ordersMissing") : t("protective.error", { message: err.message }));
  }
  fillTable(
    tbody,
    (data.protective ?? []).map((p) =>
      row(
        String(p.orderId),
        p.instrument,
        t(`protective.type.${p.type}`),
        t(`side.${p.side}`),
        num(p.quantity),
        trigger(p),
        num(money(p.stopPrice)),
        num(p.belowHighPercent !== undefined ? `${p.belowHighPercent}%` : "—"),
        status(p),
      ),
    ),
    t("protective.none"),
  );
}

void render();
setInterval(() => void render(), REFRESH_MS);
