/* global document, crypto */
// The order ticket: limit, market and the protective types (stop, stop-limit, take-profit, trailing, ATR trailing,
// OCO), sized to a risk budget, previewed with POST /v1/simulate BEFORE the wallet signs, then signed in the wallet
// (EIP-712) and sent to POST /v1/orders. Amounts are typed as decimals and sent as integer base units.
import { parseUnits } from "./vendor/ethers.min.js";
import { amount, apiGet, apiPostJson, el, percent, price } from "./common.js";
import { t } from "./i18n.js";
import { wallet } from "./wallet.js";

/** Which trigger fields each type uses (the rest of the ticket's trigger inputs are hidden). */
const TRIGGER_FIELDS = {
  stop: ["triggerPrice"],
  stopLimit: ["triggerPrice"],
  takeProfit: ["triggerPrice"],
  takeProfitLimit: ["triggerPrice"],
  trailing: ["trailAmount", "trailPercentBps"],
  atrTrailing: ["atrMultipleBps"],
  oco: ["takeProfitPrice", "stopPrice"],
};
const EXPIRY_SECONDS = 7 * 86_400;

let config;
let account;
/** The ticket's values the shown simulation was made for: placing needs a preview of exactly these. */
let previewed = null;

const form = () => document.getElementById("ticket");
const value = (name) => String(form().elements[name]?.value ?? "").trim();
const status = (text, bad = false) => {
  const node = document.getElementById("ticket-status");
  node.textContent = text;
  node.className = bad ? "status bad" : "status";
};

function cashToken() {
  return config.tokens.find((x) => x.kind === "cash");
}

function security(symbol) {
  return config.tokens.find((x) => x.symbol === symbol);
}

/** A decimal typed in the ticket as base units ("" when empty); throws a translated error when malformed. */
function units(name, decimals) {
  const v = value(name);
  if (v === "") return "";
  try {
    const u = parseUnits(v, decimals);
    if (u <= 0n) throw new Error("not positive");
    return u.toString();
  } catch {
    throw new Error(t("ticket.bad", { field: t(`ticket.${name}`) }));
  }
}

/** The ticket as the API takes it (without signatures): the order fields and the protective trigger. */
function readTicket() {
  const type = value("type");
  const side = value("side");
  const token = security(value("instrument"));
  const cash = cashToken();
  const quantity = units("quantity", token.decimals);
  const limitPrice = units("limitPrice", cash.decimals);
  if (!quantity) throw new Error(t("ticket.bad", { field: t("ticket.quantity") }));
  if (!limitPrice) throw new Error(t("ticket.bad", { field: t("ticket.limitPrice") }));
  const trigger = {};
  for (const f of TRIGGER_FIELDS[type] ?? []) {
    const v = f.endsWith("Bps") ? value(f) : units(f, cash.decimals);
    if (v === "" && type !== "trailing") throw new Error(t("ticket.bad", { field: t(`ticket.${f}`) }));
    if (v !== "") trigger[f] = f.endsWith("Bps") ? Number(v) : v;
  }
  return {
    type,
    side,
    token,
    quantity,
    limitPrice,
    trigger,
    tif: value("tif"),
    postOnly: form().elements.postOnly.checked,
  };
}

function orderFields(ticket) {
  // a fresh hub nonce per signed order: the time in microseconds and a random tail (one live order per nonce)
  const nonce = BigInt(Date.now()) * 1000n + BigInt(crypto.getRandomValues(new Uint16Array(1))[0] % 1000);
  return {
    account,
    instrument: ticket.token.address,
    side: ticket.side === "buy" ? 0 : 1,
    expiry: String(Math.floor(Date.now() / 1000) + EXPIRY_SECONDS),
    limitPrice: ticket.limitPrice,
    quantity: ticket.quantity,
    nonce: nonce.toString(),
  };
}

async function signed(ticket) {
  const order = orderFields(ticket);
  return { order, signature: await wallet.signOrder(order) };
}

/** The body of POST /v1/orders for the ticket, each child order signed in the wallet. */
async function body(ticket) {
  if (ticket.type === "limit" || ticket.type === "market") {
    const { order, signature } = await signed(ticket);
    const tif = ticket.type === "market" ? "IOC" : ticket.tif;
    return { order, signature, type: ticket.type, tif, postOnly: ticket.type === "limit" && ticket.postOnly };
  }
  if (ticket.type === "oco") {
    const leg = async (type, price) => ({ type, ...(await signed(ticket)), trigger: { price } });
    return {
      type: "oco",
      legs: [await leg("takeProfit", ticket.trigger.takeProfitPrice), await leg("stop", ticket.trigger.stopPrice)],
    };
  }
  const trigger = {};
  if (ticket.trigger.triggerPrice) trigger.price = ticket.trigger.triggerPrice;
  if (ticket.trigger.trailAmount) trigger.trailAmount = ticket.trigger.trailAmount;
  if (ticket.trigger.trailPercentBps) trigger.trailPercentBps = ticket.trigger.trailPercentBps;
  if (ticket.trigger.atrMultipleBps) trigger.atrMultipleBps = ticket.trigger.atrMultipleBps;
  return { type: ticket.type, ...(await signed(ticket)), trigger };
}

function simulateBody(ticket) {
  return {
    action: {
      kind: "order",
      side: ticket.side,
      instrument: ticket.token.symbol,
      quantity: ticket.quantity,
      limitPrice: ticket.limitPrice,
    },
  };
}

/** The simulator's before/after figures beside the ticket. */
function showSimulation(sim) {
  const cash = sim.cashToken;
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  const liq = (f, symbol) => {
    const p = f.positions.find((x) => x.symbol === symbol);
    return p?.liquidationPrice ? price(p.liquidationPrice) : f.liquidationPrice ? price(f.liquidationPrice) : "—";
  };
  const symbol = value("instrument");
  const scenario = (f, id) => {
    const s = f.scenarios.find((x) => x.id === id);
    return s ? t(s.liquidated ? "sim.liquidated" : "sim.survives") : "—";
  };
  const rows = [
    ["sim.state", (f) => t(`state.${f.state}`)],
    ["sim.marginRatio", (f) => (f.marginRatio === null ? t("client.noPosition") : percent(f.marginRatio))],
    ["sim.equity", (f) => money(f.equity)],
    ["sim.headroom", (f) => money(f.initialHeadroom)],
    ["sim.dailyInterest", (f) => money(f.dailyInterest)],
    ["sim.liquidationPrice", (f) => liq(f, symbol), "sim-liquidation"],
  ];
  const stressRows = [
    ["sim.shock2015", "a-share-2015"],
    ["sim.shock2020", "covid-2020"],
  ];
  const table = el(
    "table",
    { id: "simulation-table" },
    el(
      "thead",
      {},
      el("tr", {}, el("th", {}, t("sim.item")), el("th", {}, t("sim.before")), el("th", {}, t("sim.after"))),
    ),
    el(
      "tbody",
      {},
      ...rows.map(([key, fn, id]) =>
        el(
          "tr",
          {},
          el("td", {}, t(key)),
          el("td", { class: "num", id: id && `${id}-before` }, fn(sim.before)),
          el("td", { class: "num", id: id && `${id}-after` }, fn(sim.after)),
        ),
      ),
      ...stressRows.map(([key, id]) =>
        el(
          "tr",
          {},
          el("td", {}, t(key)),
          el("td", {}, scenario(sim.stress.before, id)),
          el("td", {}, scenario(sim.stress.after, id)),
        ),
      ),
      el(
        "tr",
        {},
        el("td", {}, t("sim.monteCarlo")),
        el("td", { class: "num" }, String(sim.stress.before.monteCarlo.pathsWithBadDebt)),
        el("td", { class: "num" }, String(sim.stress.after.monteCarlo.pathsWithBadDebt)),
      ),
    ),
  );
  const costs = sim.costs
    ? el(
        "p",
        { id: "sim-costs" },
        t("sim.costs", {
          total: money(sim.costs.total),
          days: sim.costs.holdingDays,
          move: sim.costs.breakEvenMove === null ? "—" : percent(sim.costs.breakEvenMove, 3),
        }),
      )
    : "";
  const verdict = el(
    "p",
    { id: "sim-verdict", class: sim.feasible ? "status" : "status bad" },
    sim.feasible
      ? t("sim.feasible")
      : t("sim.problems", { list: sim.problems.map((p) => t(`sim.problem.${p}`)).join("、") }),
  );
  document.getElementById("simulation").replaceChildren(el("h3", {}, t("sim.title")), table, costs, verdict);
}

async function preview() {
  try {
    const ticket = readTicket();
    status(t("ticket.simulating"));
    const sim = await apiPostJson("/v1/simulate", simulateBody(ticket));
    showSimulation(sim);
    previewed = JSON.stringify(ticket);
    document.getElementById("ticket-place").disabled = false;
    status(t("ticket.previewed"));
  } catch (err) {
    status(err.message, true);
  }
}

async function place(onPlaced) {
  try {
    const ticket = readTicket();
    // the client signs only what it has seen simulated
    if (JSON.stringify(ticket) !== previewed) return status(t("ticket.previewFirst"), true);
    status(t("ticket.signing"));
    const ack = await apiPostJson("/v1/orders", await body(ticket));
    status(t("ticket.placed", { id: ack.orderId ?? ack.id ?? "", filled: ack.filledQuantity ?? "0" }));
    previewed = null;
    document.getElementById("ticket-place").disabled = true;
    onPlaced();
  } catch (err) {
    status(err.message, true);
  }
}

/** The risk budget's quantity (POST /v1/simulate with `sizing`), written into the ticket. */
async function suggest() {
  try {
    const token = security(value("instrument"));
    const cash = cashToken();
    const entryPrice = units("limitPrice", cash.decimals);
    if (!entryPrice) throw new Error(t("ticket.bad", { field: t("ticket.limitPrice") }));
    const riskBps = Number(value("riskBps"));
    const stopPrice = units("sizingStop", cash.decimals);
    const atr = units("atr", cash.decimals);
    const sizing = { riskBps, instrument: token.symbol, side: value("side"), entryPrice };
    if (stopPrice) sizing.stopPrice = stopPrice;
    else Object.assign(sizing, { atr, atrMultipleBps: Number(value("sizingAtrMultipleBps")) });
    const sim = await apiPostJson("/v1/simulate", {
      action: { kind: "order", side: value("side"), instrument: token.symbol, quantity: "1", limitPrice: entryPrice },
      sizing,
    });
    form().elements.quantity.value = amount(sim.sizing.quantity, token.decimals, token.decimals).replace(/,/g, "");
    document.getElementById("sizing-result").textContent = t("sizing.result", {
      quantity: amount(sim.sizing.quantity, token.decimals, 0),
      budget: `${amount(sim.sizing.budget, cash.decimals)} ${cash.symbol}`,
      stop: amount(sim.sizing.stopPrice, cash.decimals),
      loss: `${amount(sim.sizing.lossAtStop, cash.decimals)} ${cash.symbol}`,
    });
  } catch (err) {
    document.getElementById("sizing-result").textContent = err.message;
  }
}

function showFields() {
  const type = value("type");
  const used = new Set(TRIGGER_FIELDS[type] ?? []);
  for (const node of form().querySelectorAll("[data-trigger]")) node.hidden = !used.has(node.dataset.trigger);
  for (const node of form().querySelectorAll("[data-limit-only]")) node.hidden = type !== "limit";
  const label = document.getElementById("limit-label");
  label.textContent = t(
    type === "limit" || type === "stopLimit" || type === "takeProfitLimit" ? "ticket.limitPrice" : "ticket.worstPrice",
  );
}

/** Mounts the ticket (wallet sessions only: orders are signed in the wallet). */
export async function mountTicket(address, onPlaced) {
  account = address;
  config = await apiGet("/v1/config", { signed: false });
  const select = form().elements.instrument;
  select.replaceChildren(
    ...config.tokens.filter((x) => x.kind === "security").map((x) => el("option", { value: x.symbol }, x.symbol)),
  );
  document.getElementById("ticket-section").hidden = false;
  form().addEventListener("input", () => {
    showFields();
    document.getElementById("ticket-place").disabled = true;
  });
  form().addEventListener("submit", (e) => e.preventDefault());
  document.getElementById("ticket-preview").addEventListener("click", () => void preview());
  document.getElementById("ticket-place").addEventListener("click", () => void place(onPlaced));
  document.getElementById("sizing-suggest").addEventListener("click", () => void suggest());
  showFields();
}
