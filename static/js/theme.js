// The light / dark / system switch: the choice is kept in this browser's localStorage
// and applied to <html data-theme> (theme-init.js applies it before the first paint).

const KEY = "ponder.theme";
const SYSTEM_DARK = window.matchMedia("(prefers-color-scheme: dark)");

function apply(choice) {
  const dark = choice === "dark" || (choice === "system" && SYSTEM_DARK.matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  document.documentElement.dataset.themeChoice = choice;
}

export function bindThemeSwitch(select) {
  select.value = document.documentElement.dataset.themeChoice || "system";
  select.addEventListener("change", () => {
    try {
      window.localStorage.setItem(KEY, select.value);
    } catch {
      // Storage blocked: the choice lasts as long as the page.
    }
    apply(select.value);
  });
  SYSTEM_DARK.addEventListener("change", () => apply(select.value));
}
