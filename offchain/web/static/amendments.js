/* global window */
// The client's amendments: a scheduled change of the chain's parameters that moves one of its financing agreements,
// issued before it takes effect. The text is shown in the page's language (the Chinese governs); the client
// countersigns it (EIP-712 AgreementAmendment, signed by the wallet that owns the account) or exits the agreement
// before the change takes effect. Routes: GET /v1/agreements, GET/POST /v1/agreements/:id/amendments/….
import { apiGetOptional, apiPost, apiPostJson, el, shortHex, showError } from "./common.js";
import { currentLang, dateTime, t } from "./i18n.js";
import { wallet } from "./wallet.js";

/** Between the governing Chinese text and its English translation (offchain/settlement/legal TRANSLATION_HEADING). */
const TRANSLATION_HEADING = "—— English translation (the Chinese text above governs) / 英文译本（以上中文文本为准）——";

function textIn(text) {
  const [zh, en] = text.split(TRANSLATION_HEADING);
  return (currentLang() === "en" ? (en ?? text) : zh).trim();
}

function actions(a, reload) {
  const box = el("div", { class: "actions" });
  const status = el("span", { class: "status" });
  const base = `/v1/agreements/${a.agreementId}/amendments/${a.id}`;
  const countersign = el("button", { type: "button", "data-countersign": a.id }, t("client.amendment.countersign"));
  // The wallet that owns the account signs; the request itself may be authenticated by an API key or a session.
  const canSign = wallet.available();
  if (!canSign) countersign.disabled = true;
  countersign.addEventListener("click", async () => {
    try {
      const signature = await wallet.signAmendment(a.typedData);
      const done = await apiPostJson(`${base}/countersign`, { signature });
      status.textContent = t("client.amendment.done", { status: t(`amendment.status.${done.status}`) });
      reload();
    } catch (err) {
      showError(err);
    }
  });
  const exit = el("button", { type: "button", class: "secondary", "data-exit": a.id }, t("client.amendment.exit"));
  exit.addEventListener("click", async () => {
    if (!window.confirm(t("client.amendment.exitConfirm"))) return;
    try {
      const done = await apiPost(`${base}/exit`);
      status.textContent = t("client.amendment.done", { status: t(`amendment.status.${done.status}`) });
      reload();
    } catch (err) {
      showError(err);
    }
  });
  box.append(countersign, " ", exit, " ", status);
  if (!canSign) box.append(el("div", { class: "muted" }, t("client.amendment.needsWallet")));
  return box;
}

function card(a, reload) {
  const open = a.status === "issued" && Date.now() < a.effectiveAt * 1000;
  return el(
    "div",
    { class: "card amendment", "data-amendment": a.id, "data-status": a.status },
    el(
      "div",
      { class: "label" },
      el("span", { class: `badge amendment-${a.status}` }, t(`amendment.status.${a.status}`)),
      " ",
      t("client.amendment.head", { agreement: shortHex(a.agreementId), time: dateTime(a.effectiveAt) }),
    ),
    el("pre", { class: "doc-text mono" }, textIn(a.text)),
    el("div", { class: "muted mono" }, `textHash ${a.textHash}`),
    open ? actions(a, reload) : "",
  );
}

/** Every amendment of the client's agreements, newest effective time first, into `box`. */
export async function renderAmendments(box) {
  const reload = () => void renderAmendments(box);
  const list = await apiGetOptional("/v1/agreements");
  if (!list.data) {
    box.replaceChildren(
      el(
        "span",
        { class: "muted" },
        list.missing ? t("client.amendments.missing") : t("client.amendments.error", { message: list.error.message }),
      ),
    );
    return;
  }
  const all = [];
  for (const agreement of list.data.agreements) {
    const r = await apiGetOptional(`/v1/agreements/${agreement.agreementId}/amendments`);
    if (r.data) all.push(...r.data.amendments);
  }
  all.sort((x, y) => y.effectiveAt - x.effectiveAt);
  box.replaceChildren(
    ...(all.length ? all.map((a) => card(a, reload)) : [el("span", { class: "muted" }, t("client.amendments.none"))]),
  );
}
