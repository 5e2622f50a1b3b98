/* global document, location */
// The operations console's pages, in one place: every ops page renders this nav (S1's ops-groups.html and S2's
// ops-alerts.html included), and the landing page lists them with their descriptions. Labels: messages.js opsnav.*.
import { t } from "./i18n.js";

export const OPS_PAGES = [
  { href: "ops.html", key: "opsnav.home" },
  { href: "ops-margin.html", key: "opsnav.margin" },
  { href: "ops-oracle.html", key: "opsnav.oracle" },
  { href: "ops-params.html", key: "opsnav.params" },
  { href: "ops-amendments.html", key: "opsnav.amendments" },
  { href: "ops-groups.html", key: "opsnav.groups" },
  { href: "ops-alerts.html", key: "opsnav.alerts" },
  { href: "ops-agreements.html", key: "opsnav.ends" },
];

/**
 * Puts the ops nav right after the page's header (call before applyI18n, which adds the language to its links).
 * The current page is marked aria-current.
 */
export function renderOpsNav() {
  const nav = document.createElement("nav");
  nav.className = "ops-nav";
  nav.setAttribute("aria-label", t("opsnav.aria"));
  const here = location.pathname.split("/").pop() || "ops.html";
  for (const p of OPS_PAGES) {
    const a = document.createElement("a");
    a.href = p.href;
    a.dataset.i18n = p.key;
    a.textContent = t(p.key);
    if (p.href === here) a.setAttribute("aria-current", "page");
    nav.append(a);
  }
  document.querySelector("header.top").after(nav);
}

/** Seconds as the largest whole unit ("3 hours"), in the page's language. */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds)));
  if (s >= 86_400) return t("common.days", { n: Math.floor(s / 86_400) });
  if (s >= 3_600) return t("common.hours", { n: Math.floor(s / 3_600) });
  if (s >= 60) return t("common.minutes", { n: Math.floor(s / 60) });
  return t("common.seconds", { n: s });
}
