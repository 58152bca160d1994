// The interface language picker: the choice is saved on the user (it follows them to
// every browser) and the page reloads in it; "" follows the browser again.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { toast } from "./toast.js";

export function bindLanguageSwitch(select) {
  const saved = select.value;
  select.addEventListener("change", async () => {
    try {
      await api.saveSettings({ language: select.value });
      window.location.reload();
    } catch (error) {
      select.value = saved;
      toast(error.message || t("The language could not be saved."));
    }
  });
}
