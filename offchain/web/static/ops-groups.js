/* global document */
// Linked accounts and the review queue (issue 25) for the risk officer: the groups (accounts sharing a KYC identity
// or a declared beneficial owner) with what they use of the group limits, and the accounts whose leverage, margin
// calls or losses crossed a threshold, each decided here (lower the behaviour tier, or dismiss) with a note.
import {
  ApiError,
  amount,
  apiGet,
  apiPostJson,
  el,
  fillTable,
  keyGate,
  percent,
  row,
  shortHex,
  showError,
} from "./common.js";
import { applyI18n, dateTime, t } from "./i18n.js";
import { renderOpsNav } from "./ops-nav.js";

renderOpsNav();
applyI18n();

const CASH_DECIMALS = 6;

/** A share of a cap: "60,000.00 / 100,000.00 (60.00%)"; "—" where the books do not run here. */
function used(value, cap) {
  if (value === undefined || value === null) return "—";
  const text = amount(value, CASH_DECIMALS);
  if (cap === null || cap === undefined || BigInt(cap) === 0n) return text;
  return `${text} / ${amount(cap, CASH_DECIMALS)} (${percent((BigInt(value) * 10n ** 18n) / BigInt(cap))})`;
}

function linkLabel(key) {
  return key.startsWith("owner:")
    ? t("groups.link.owner", { owner: key.slice("owner:".length) })
    : t("groups.link.identity", { hash: shortHex(key.slice("id:".length)) });
}

function groupRow(g) {
  return row(
    el("span", { class: "mono" }, shortHex(g.id)),
    el("span", { class: "mono" }, g.members.map(shortHex).join(", ")),
    g.links.map((l) => linkLabel(l.key)).join("; "),
    used(g.usage?.exposure, g.usage?.maxExposure),
    used(g.usage?.notionalToday, g.usage?.maxNotionalPerDay),
  );
}

/** The figure against its threshold, in the reason's unit (leverage: ×, losses: %, margin calls: a count). */
function figure(r) {
  if (r.reason === "leverage")
    return t("groups.figure.leverage", { x: amount(r.figure, 18), limit: amount(r.threshold, 18) });
  if (r.reason === "losses")
    return t("groups.figure.losses", { share: percent(r.figure), limit: percent(r.threshold) });
  if (r.reason === "margin_calls") return t("groups.figure.calls", { n: r.figure, limit: r.threshold });
  return t("groups.figure.trade", { maker: shortHex(String(r.evidence.maker ?? "")) });
}

function decideCell(r, tiers) {
  const tier = el("select", { name: "tier", "aria-label": t("groups.decide.tier") });
  for (const name of tiers.filter((x) => x !== "standard"))
    tier.append(el("option", { value: name }, t(`groups.tier.${name}`)));
  const note = el("input", { name: "note", type: "text", minlength: 3, placeholder: t("groups.decide.note") });
  const lower = el("button", { type: "button", "data-action": "lower-tier" }, t("groups.decide.lower"));
  const dismiss = el(
    "button",
    { type: "button", class: "secondary", "data-action": "dismiss" },
    t("groups.decide.dismiss"),
  );
  const cell = el("div", { class: "inline", "data-review": r.id }, tier, note, lower, dismiss);
  for (const button of [lower, dismiss])
    button.addEventListener("click", () => decide(r, button.dataset.action, tier.value, note.value));
  return cell;
}

async function decide(r, action, tier, note) {
  const status = document.getElementById("decision-status");
  try {
    const body = { action, note, expectedVersion: r.version, ...(action === "lower-tier" ? { tier } : {}) };
    await apiPostJson(`/v1/surveillance/reviews/${r.id}/decide`, body);
    status.className = "status";
    status.textContent = t(action === "dismiss" ? "groups.decided.dismissed" : "groups.decided.lowered", {
      account: shortHex(r.account),
      tier: t(`groups.tier.${tier}`),
    });
  } catch (err) {
    status.className = "status bad";
    status.textContent =
      err instanceof ApiError && err.status === 409
        ? t("groups.decided.conflict")
        : err instanceof ApiError && err.status === 400
          ? t("groups.decided.invalid")
          : String(err?.message ?? err);
  }
  await load();
}

async function load() {
  try {
    const [groups, queue] = await Promise.all([
      apiGet("/v1/surveillance/groups"),
      apiGet("/v1/surveillance/reviews?status=open"),
    ]);
    document.getElementById("self-trade").textContent = t(`groups.selfTrade.${groups.selfTrade}`);
    fillTable(document.querySelector("#groups tbody"), groups.groups.map(groupRow), t("groups.none"));
    fillTable(
      document.querySelector("#reviews tbody"),
      queue.reviews.map((r) =>
        row(
          el("span", { class: "mono" }, shortHex(r.account)),
          t(`groups.reason.${r.reason}`),
          figure(r),
          dateTime(Math.floor(r.openedAt / 1000)),
          decideCell(r, queue.tiers),
        ),
      ),
      t("groups.reviews.none"),
    );
    document.getElementById("load-status").textContent = "";
  } catch (err) {
    showError(err);
  }
}

keyGate(load);
