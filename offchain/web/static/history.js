/* global document */
// The client's orders and fills (GET /v1/orders pages them) with each trade's settlement: queued, submitted in a
// batch, settled on-chain (with the transaction) or rejected (GET /v1/settlements/trades).
import { amount, apiGetOptional, el, fillTable, num, row, shortHex } from "./common.js";
import { t } from "./i18n.js";

const SETTLEMENT = ["pending", "submitted", "settled", "rejected"];

function side(s) {
  return s === "buy" || s === "sell" ? t(`side.${s}`) : s;
}

/** Open orders and the fill history with settlement status and transaction (cash amounts in `cashDecimals`). */
export async function renderHistory(cashDecimals) {
  const r = await apiGetOptional("/v1/orders");
  const orders = document.querySelector("#orders tbody");
  const fills = document.querySelector("#fills tbody");
  if (!r.data) {
    const text = r.missing ? t("client.ordersMissing") : t("client.ordersError", { message: r.error.message });
    fillTable(orders, [], text);
    fillTable(fills, [], text);
    return;
  }
  const price = (p) => amount(p, cashDecimals);
  fillTable(
    orders,
    r.data.orders.map((o) =>
      row(String(o.id), o.instrument, side(o.side), num(o.openQuantity), num(o.filledQuantity), num(price(o.price))),
    ),
    t("client.noOrders"),
  );
  const ids = r.data.fills.map((f) => f.tradeId);
  const settlement = new Map();
  if (ids.length > 0) {
    const s = await apiGetOptional(`/v1/settlements/trades?ids=${encodeURIComponent(ids.slice(0, 100).join(","))}`);
    for (const trade of s.data?.trades ?? []) settlement.set(trade.tradeId, trade);
  }
  fillTable(
    fills,
    r.data.fills.map((f) => {
      const s = settlement.get(f.tradeId);
      const state = s && SETTLEMENT.includes(s.status) ? t(`history.settlement.${s.status}`) : t("history.unknown");
      return el(
        "tr",
        { "data-trade": f.tradeId },
        el("td", { class: "mono" }, f.tradeId),
        el("td", {}, String(f.orderId)),
        el("td", {}, f.instrument),
        el("td", {}, side(f.side)),
        el("td", { class: "num" }, f.quantity),
        el("td", { class: "num" }, price(f.price)),
        el("td", {}, t(`history.role.${f.role}`)),
        el("td", { class: "settlement" }, state),
        el("td", { class: "mono tx", title: s?.txHash ?? "" }, s?.txHash ? shortHex(s.txHash) : "—"),
      );
    }),
    t("history.noFills"),
  );
}
