// A confirm dialog on <dialog> (window.confirm blocks the page and looks foreign).

import { t } from "./i18n.js";

// Translators: the button that confirms deleting.
export function confirmDialog({ title, text, confirmLabel = t("Delete") }) {
  const dialog = document.querySelector("[data-confirm-dialog]");
  dialog.querySelector("[data-confirm-title]").textContent = title;
  dialog.querySelector("[data-confirm-text]").textContent = text;
  dialog.querySelector("[data-confirm-ok]").textContent = confirmLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), {
      once: true,
    });
    dialog.showModal();
    dialog.querySelector("[value=cancel]").focus();
  });
}
