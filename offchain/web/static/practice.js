/* global document */
// Paper trading on the client page: on the practice service only, a button that resets the practice account to its
// start (POST /v1/practice/reset; the service cancels the orders and puts the account back on the practice chain).
import { apiPost, el, showError } from "./common.js";
import { isPractice, t } from "./i18n.js";

/** Adds the reset button to `#account` when the page is served by the practice service; `onDone` reloads. */
export async function mountPracticeReset(onDone) {
  if (!(await isPractice()) || document.getElementById("practice-reset")) return;
  const status = el("span", { id: "practice-reset-status", class: "muted", role: "status" });
  const button = el("button", { type: "button", id: "practice-reset" }, t("practice.reset"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = t("practice.resetting");
    try {
      const r = await apiPost("/v1/practice/reset");
      status.textContent = t("practice.resetDone", { orders: r.cancelledOrders, txs: r.transactions });
      onDone();
    } catch (err) {
      status.textContent = "";
      showError(err);
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById("account").prepend(el("p", { class: "practice-reset" }, button, " ", status));
}
