/* global document, sessionStorage, crypto, fetch, TextEncoder, Node, FormData, DOMParser */
// Shared by every console page: signed API requests (docs/service.md), credentials in sessionStorage, formatting.
import { formatUnits } from "./vendor/ethers.min.js";
import { groupInteger, t } from "./i18n.js";

const CREDENTIALS = "mb.console.credentials";
/** The address signed in with a wallet (no secret: the session is an HttpOnly cookie no script can read). */
const WALLET = "mb.console.wallet";
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
  sessionStorage.removeItem(WALLET);
}

/** The wallet address of this tab's wallet session, or null (the session itself lives in an HttpOnly cookie). */
export function walletAddress() {
  return sessionStorage.getItem(WALLET);
}

export function saveWalletAddress(address) {
  sessionStorage.removeItem(CREDENTIALS);
  sessionStorage.setItem(WALLET, address);
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

/**
 * GET a path of a capability that may not be deployed (order book, statements, reserve proofs…): `{data}`, or
 * `{missing}` (404: say so plainly) or `{error}`.
 */
export async function apiGetOptional(path) {
  try {
    return { data: await apiGet(path) };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return { missing: err.message };
    return { error: err };
  }
}

/** POST to a path of the API (a write: signed, with a fresh Idempotency-Key), no body. */
export async function apiPost(path) {
  return apiRequest("POST", path, { signed: true, idempotencyKey: `console-${randomNonce()}` });
}

/** POST a JSON body (with a fresh Idempotency-Key: a write needs one, and a retry of the same call is answered once). */
export async function apiPostJson(path, body, { signed = true } = {}) {
  return apiRequest("POST", path, { signed, idempotencyKey: `console-${randomNonce()}`, body: JSON.stringify(body) });
}

/** DELETE a path of the API (a write: signed, with a fresh Idempotency-Key). */
export async function apiDelete(path) {
  return apiRequest("DELETE", path, { signed: true, idempotencyKey: `console-${randomNonce()}` });
}

/**
 * A request of the API: signed with the stored API key when there is one; otherwise, signed in with a wallet, sent
 * as it is (the browser adds the session cookie; nothing secret is in the page).
 */
async function apiRequest(method, path, { signed, idempotencyKey, body = "" }) {
  const headers = {};
  if (body) headers["content-type"] = "application/json";
  const c = signed ? loadCredentials() : null;
  if (signed && !c && !walletAddress())
    throw new ApiError(401, { error: { code: "UNAUTHENTICATED", message: t("status.noKey") } });
  if (c) {
    const timestamp = String(Date.now());
    const nonce = randomNonce();
    headers["x-mb-key"] = c.keyId;
    headers["x-mb-timestamp"] = timestamp;
    headers["x-mb-nonce"] = nonce;
    headers["x-mb-signature"] = await signature(c.secret, method, path, body, timestamp, nonce);
  }
  if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
  const res = await fetch(path, { method, headers, body: body || undefined, credentials: "same-origin" });
  const answer = await res.json().catch(() => null);
  // an ended wallet session (expired or revoked): forget it, so the page offers the sign-in again
  if (res.status === 401 && !c && walletAddress()) sessionStorage.removeItem(WALLET);
  if (!res.ok) throw new ApiError(res.status, answer);
  return answer;
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
    <button id="wallet-sign-in" type="button" hidden data-i18n="wallet.signIn"></button>
    <span id="wallet-status" class="muted"></span>
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
export function keyGate(onReady, { wallet } = {}) {
  const gate = document.getElementById("key-gate");
  gate.innerHTML = KEY_GATE_HTML;
  for (const node of gate.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  const form = document.getElementById("key-form");
  const who = document.getElementById("key-status");
  const signOut = document.getElementById("sign-out");
  const walletButton = document.getElementById("wallet-sign-in");
  const show = () => {
    const c = loadCredentials();
    const address = walletAddress();
    const signed = Boolean(c || address);
    form.hidden = signed;
    signOut.hidden = !signed;
    walletButton.hidden = signed || !wallet?.available();
    signOut.textContent = t(address ? "wallet.signOut" : "key.forget");
    who.textContent = address
      ? t("wallet.signedIn", { address })
      : c
        ? t("key.signed", { keyId: c.keyId })
        : t(wallet?.available() ? "wallet.enter" : "key.enter");
    if (signed) onReady();
  };
  walletButton.addEventListener("click", async () => {
    const status = document.getElementById("wallet-status");
    status.textContent = t("wallet.signing");
    try {
      saveWalletAddress(await wallet.signIn());
      status.textContent = "";
      show();
    } catch (err) {
      status.textContent = t("wallet.failed", { message: err?.message ?? String(err) });
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    saveCredentials(String(data.get("keyId")).trim(), String(data.get("secret")).trim());
    form.reset();
    show();
  });
  signOut.addEventListener("click", async () => {
    // a wallet session is ended on the server too (its cookie cleared and the session revoked)
    if (walletAddress()) await apiRequest("POST", "/v1/auth/logout", { signed: true }).catch(() => undefined);
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
