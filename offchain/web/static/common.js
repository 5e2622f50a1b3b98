/* global document, sessionStorage, crypto, fetch, TextEncoder, Node, FormData, DOMParser */
// Shared by every console page: signed API requests (docs/service.md), credentials in sessionStorage, formatting.
import { formatUnits } from "./vendor/ethers.min.js";
import { groupInteger, t } from "./i18n.js";

const CREDENTIALS = "mb.console.credentials";
const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function randomNonce() {
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * The request signature of offchain/api/signing.ts: hex HMAC-SHA256(secret,
 * METHOD "\n" PATH_WITH_QUERY "\n" hex SHA-256(body) "\n" TIMESTAMP_MS "\n" NONCE), computed with WebCrypto.
 */
export async function signature(secret, method, pathWithQuery, body, timestamp, nonce) {
  const bodyHash = hex(await crypto.subtle.digest("SHA-256", encoder.encode(body)));
  const message = [method.toUpperCase(), pathWithQuery, bodyHash, timestamp, nonce].join("\n");
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

export function loadCredentials() {
  try {
    const c = JSON.parse(sessionStorage.getItem(CREDENTIALS) ?? "null");
    return c && typeof c.keyId === "string" && typeof c.secret === "string" ? c : null;
  } catch {
    return null;
  }
}

export function saveCredentials(keyId, secret) {
  sessionStorage.setItem(CREDENTIALS, JSON.stringify({ keyId, secret }));
}

export function clearCredentials() {
  sessionStorage.removeItem(CREDENTIALS);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? "HTTP_" + status;
  }
}

/** GET a path of the API, signed with the stored credentials (or unsigned for public routes). */
export async function apiGet(path, { signed = true } = {}) {
  return apiRequest("GET", path, { signed });
}

/** POST to a path of the API (a write: signed, with a fresh Idempotency-Key), no body. */
export async function apiPost(path) {
  return apiRequest("POST", path, { signed: true, idempotencyKey: `console-${randomNonce()}` });
}

async function apiRequest(method, path, { signed, idempotencyKey }) {
  const headers = {};
  if (signed) {
    const c = loadCredentials();
    if (!c) throw new ApiError(401, { error: { code: "UNAUTHENTICATED", message: t("status.noKey") } });
    const timestamp = String(Date.now());
    const nonce = randomNonce();
    headers["x-mb-key"] = c.keyId;
    headers["x-mb-timestamp"] = timestamp;
    headers["x-mb-nonce"] = nonce;
    headers["x-mb-signature"] = await signature(c.secret, method, path, "", timestamp, nonce);
  }
  if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
  const res = await fetch(path, { method, headers });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

// ---- formatting: every amount arrives as an integer string; nothing is turned into a float before display ----

/** "123456789" with 6 decimals → "123,456.789"; `places` trims (rounding toward zero) for display. */
export function amount(value, decimals, places = 2) {
  if (value === null || value === undefined) return "—";
  const text = formatUnits(BigInt(value), decimals);
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = (negative ? text.slice(1) : text).split(".");
  const grouped = groupInteger(whole);
  const frac = fraction.padEnd(places, "0").slice(0, places);
  return (negative ? "-" : "") + grouped + (places > 0 ? "." + frac : "");
}

/** An 18-decimal ratio as a percentage: "150000000000000000" → "15.00%". */
export function percent(wad, places = 2) {
  if (wad === null || wad === undefined) return "—";
  return amount(BigInt(wad) * 100n, 18, places) + "%";
}

/** An 18-decimal price per whole token. */
export function price(wad, places = 4) {
  return wad === null || wad === undefined ? "—" : amount(wad, 18, places);
}

export function shortHex(h) {
  return h && h.length > 14 ? `${h.slice(0, 8)}…${h.slice(-6)}` : (h ?? "—");
}

/** Builds an element: el("td", { class: "num" }, "12.00"). Text is always set as text, never as HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

/** Replaces the rows of a table body; `empty` is shown in one row when there are none. */
export function fillTable(tbody, rows, empty) {
  const cols = tbody.closest("table").querySelectorAll("thead th").length || 1;
  tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: cols, class: "muted" }, empty))]));
}

/** A table row; a cell is a text, a node, or num(text) for a right-aligned figure. */
export function row(...cells) {
  return el(
    "tr",
    {},
    cells.map((c) =>
      c !== null && typeof c === "object" && "num" in c ? el("td", { class: "num" }, c.num) : el("td", {}, c),
    ),
  );
}

export function num(text) {
  return { num: text };
}

export function setText(id, text) {
  const node = document.getElementById(id);
  if (node) node.textContent = text;
}

const KEY_GATE_HTML = `
  <div class="keybar">
    <span id="key-status"></span><button id="sign-out" class="secondary" type="button" hidden
      data-i18n="key.forget"></button>
  </div>
  <form id="key-form" class="inline" hidden>
    <label><span data-i18n="key.id"></span><input name="keyId" type="text" autocomplete="off" required
      pattern="mbk_[0-9a-f]{24}" placeholder="mbk_…" /></label>
    <label><span data-i18n="key.secret"></span><input name="secret" type="password" autocomplete="off" required /></label>
    <button type="submit" data-i18n="key.use"></button>
    <span class="muted" data-i18n="key.note"></span>
  </form>`;

/**
 * The API-key form of a signed page (rendered into its #key-gate): shows the form until credentials are stored, then calls `onReady`.
 * The secret stays in this tab's sessionStorage only.
 */
export function keyGate(onReady) {
  const gate = document.getElementById("key-gate");
  gate.innerHTML = KEY_GATE_HTML;
  for (const node of gate.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  const form = document.getElementById("key-form");
  const who = document.getElementById("key-status");
  const signOut = document.getElementById("sign-out");
  const show = () => {
    const c = loadCredentials();
    form.hidden = Boolean(c);
    signOut.hidden = !c;
    who.textContent = c ? t("key.signed", { keyId: c.keyId }) : t("key.enter");
    if (c) onReady();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    saveCredentials(String(data.get("keyId")).trim(), String(data.get("secret")).trim());
    form.reset();
    show();
  });
  signOut.addEventListener("click", () => {
    clearCredentials();
    document.location.reload();
  });
  show();
}

/** Shows an error in the page's status line (and keeps the last good data on screen). */
export function showError(err) {
  const status = document.getElementById("load-status");
  if (!status) return;
  status.className = "status bad";
  status.textContent = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err?.message ?? err);
}

export function showUpdated(block) {
  const status = document.getElementById("load-status");
  if (!status) return;
  status.className = "status";
  status.textContent = t("status.updated", {
    block,
    time: new Date().toLocaleTimeString(document.documentElement.lang),
  });
}

/** The chart is an SVG document built by the service (offchain/risk charts); it is parsed, never run as HTML. */
export function parseSvg(svgText, label) {
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") return null;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  return document.importNode(svg, true);
}
