/* global document, location, URL, URLSearchParams, fetch */
// The console's two languages. Simplified Chinese is the default (a CNY product under PRC law); English on
// `?lang=en`. The language travels in the URL (nothing is stored), and every link of the header keeps it.
import { MESSAGES } from "./messages.js";

export const LANGS = { "zh-CN": "中文", en: "English" };
export const DEFAULT_LANG = "zh-CN";
/** The exchange's time zone: dates are shown in it, with the zone named. */
export const TIME_ZONE = "Asia/Shanghai";

export function currentLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  return asked && Object.hasOwn(LANGS, asked) ? asked : DEFAULT_LANG;
}

/** The message `key` in the page's language, with `{name}` replaced from `vars`. A missing key shows as itself. */
export function t(key, vars = {}) {
  const lang = currentLang();
  const text = MESSAGES[lang]?.[key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (Object.hasOwn(vars, name) ? String(vars[name]) : `{${name}}`));
}

/** `href` with this page's language (other query parameters kept). */
export function withLang(href) {
  const url = new URL(href, location.href);
  if (url.origin !== location.origin) return href;
  url.searchParams.set("lang", currentLang());
  return `${url.pathname}${url.search}`;
}

/** A whole integer in the locale's grouping (BigInt through Intl: exact at any size). */
export function groupInteger(digits) {
  return new Intl.NumberFormat(currentLang(), { useGrouping: true }).format(BigInt(digits));
}

/** Unix seconds as a date and time in the exchange's zone, in the page's language. */
export function dateTime(unixSeconds) {
  if (unixSeconds === null || unixSeconds === undefined) return "—";
  return new Intl.DateTimeFormat(currentLang(), {
    dateStyle: "medium",
    timeStyle: "medium",
    timeZone: TIME_ZONE,
  }).format(new Date(Number(unixSeconds) * 1000));
}

/**
 * Translates the page's static text (`data-i18n` → text, `data-i18n-placeholder` → placeholder,
 * `data-i18n-aria` → aria-label), sets `<html lang>`, keeps the language in the header's links and adds the
 * language switch.
 */
export function applyI18n() {
  const lang = currentLang();
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]"))
    node.setAttribute("placeholder", t(node.dataset.i18nPlaceholder));
  for (const node of document.querySelectorAll("[data-i18n-aria]"))
    node.setAttribute("aria-label", t(node.dataset.i18nAria));
  // Every link to another console page keeps the language.
  for (const a of document.querySelectorAll("a[href$='.html']"))
    a.setAttribute("href", withLang(a.getAttribute("href")));
  void markPractice();
  const header = document.querySelector("header.top");
  if (!header) return;
  const switcher = document.createElement("span");
  switcher.className = "lang-switch";
  for (const [code, name] of Object.entries(LANGS)) {
    const link = document.createElement("a");
    const url = new URL(location.href);
    url.searchParams.set("lang", code);
    link.href = `${url.pathname}${url.search}`;
    link.textContent = name;
    link.lang = code;
    link.dataset.lang = code;
    if (code === lang) link.setAttribute("aria-current", "true");
    switcher.append(link);
  }
  header.append(switcher);
}

/** True when the page's language has a message for `key` (for data-driven labels with a server fallback). */
export function has(key) {
  return Object.hasOwn(MESSAGES[currentLang()] ?? {}, key);
}

/** The header the practice (paper-trading) service puts on every response (offchain/api/app.ts MODE_HEADER). */
const MODE_HEADER = "marginbridge-mode";

let practice;

/** Whether this page was served by the practice service (its response carries MODE_HEADER); asked once. */
export function isPractice() {
  practice ??= fetch(location.pathname, { method: "HEAD", cache: "no-store" })
    .then((res) => res.headers.get(MODE_HEADER) === "practice")
    .catch(() => false);
  return practice;
}

/** On the practice service, a banner above the page's header on every page; the real service's pages never show it. */
async function markPractice() {
  if (!(await isPractice()) || document.querySelector(".practice-banner")) return;
  const banner = document.createElement("div");
  banner.className = "practice-banner";
  banner.setAttribute("role", "status");
  const title = document.createElement("strong");
  title.textContent = t("practice.banner.title");
  banner.append(title, " ", t("practice.banner.text"));
  document.body.prepend(banner);
  document.title = `${t("practice.banner.title")} · ${document.title}`;
}
