// Apply the chosen colour theme before the page paints (a classic script in <head>,
// so there is no flash of the wrong theme). "system" follows the operating system.
(() => {
  let choice = "system";
  try {
    choice = window.localStorage.getItem("ponder.theme") || "system";
  } catch {
    // Storage blocked: follow the system.
  }
  const dark =
    choice === "dark" ||
    (choice !== "light" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  document.documentElement.dataset.themeChoice = choice;
})();
