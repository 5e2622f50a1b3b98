/* global document */
// Onboarding: the suitability quiz and the client documents (public), and for KYC and risk officers the review
// queue with each file's quiz result and signed acknowledgements.
import { ApiError, apiGet, el, fillTable, keyGate, row, shortHex, showError } from "./common.js";
import { applyI18n, currentLang, dateTime, t } from "./i18n.js";

applyI18n();

/** A text served in both languages, in the page's. */
function inLang(texts) {
  return texts[currentLang()] ?? texts.en;
}

function renderQuiz(quiz) {
  const items = quiz.questions.map((q) =>
    el(
      "li",
      { "data-question": q.id },
      el("p", {}, inLang(q.prompt), " ", el("span", { class: "badge" }, t("onb.fromTier", { tier: q.tier }))),
      el(
        "ul",
        {},
        q.options.map((o) => el("li", {}, inLang(o.text))),
      ),
    ),
  );
  document.getElementById("quiz").replaceChildren(...items);
  document.getElementById("quiz-section").hidden = false;
}

function renderDocuments(body) {
  const lang = currentLang();
  const blocks = body.documents.map((d) =>
    el(
      "article",
      { class: "document", "data-document": d.id },
      el("h3", {}, inLang(d.title)),
      el("p", { class: "muted" }, t("onb.docMeta", { version: d.version })),
      el("p", { class: "muted" }, t("onb.docHash"), " ", el("span", { class: "mono" }, d.contentHash[lang])),
      lang === d.governingLanguage ? "" : el("p", { class: "muted" }, t("onb.translationNote")),
      el("pre", { class: "doc-text" }, d.text[lang]),
    ),
  );
  document.getElementById("documents").replaceChildren(...blocks);
  document.getElementById("typed-data").textContent = body.eip712
    ? JSON.stringify({ ...body.eip712, message: t("onb.messageFields") }, null, 2)
    : t("onb.noDomain");
  document.getElementById("documents-section").hidden = false;
}

function acknowledgementLine(k) {
  return el(
    "div",
    { "data-ack": k.documentId },
    t(`onb.doc.${k.documentId}`),
    " v",
    k.version,
    " · ",
    t(`onb.lang.${k.language}`),
    " · ",
    dateTime(k.acknowledgedAt),
    " · ",
    el("span", { class: "mono" }, `${shortHex(k.signer)} ${shortHex(k.contentHash)} ${shortHex(k.signature)}`),
  );
}

function renderApplications(list) {
  const rows = list.map((a) => {
    const s = a.suitability;
    const acks = a.acknowledgements ?? [];
    return row(
      el("span", { class: "mono" }, `${shortHex(a.id)} ${shortHex(a.account)}`),
      t(`onb.status.${a.status}`),
      { num: String(a.tier) },
      s ? t("onb.quizResult", { score: s.score, total: s.total, quizTier: s.quizTier, riskTier: s.riskTier }) : "—",
      acks.length ? acks.map(acknowledgementLine) : t("onb.noAck"),
    );
  });
  fillTable(document.querySelector("#applications tbody"), rows, t("onb.noApplications"));
}

async function loadPublic() {
  try {
    renderQuiz(await apiGet("/v1/kyc/suitability", { signed: false }));
    renderDocuments(await apiGet("/v1/kyc/documents", { signed: false }));
  } catch (err) {
    showError(err);
  }
}

async function loadReview() {
  try {
    renderApplications((await apiGet("/v1/kyc/applications?limit=50")).applications);
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) {
      fillTable(document.querySelector("#applications tbody"), [], t("onb.officersOnly"));
      return;
    }
    showError(err);
  }
}

loadPublic();
keyGate(loadReview);
