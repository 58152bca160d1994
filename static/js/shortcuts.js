// Keyboard shortcuts of the chat page: Escape stops a streaming reply, "?" lists the
// shortcuts in a dialog. Keys that a field, the model list or a dialog uses first
// (they stop the event) never reach these.

function isTyping(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || target.matches("input, textarea, select"))
  );
}

export function bindShortcuts(view) {
  const dialog = document.querySelector("[data-shortcuts-dialog]");
  document
    .querySelector("[data-shortcuts-open]")
    ?.addEventListener("click", () => dialog.showModal());
  dialog.querySelector("[data-shortcuts-close]").addEventListener("click", () => dialog.close());
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || document.querySelector("dialog[open]"))
      return;
    if (event.key === "Escape" && view.unfinished().length) {
      event.preventDefault();
      view.stop();
    } else if (event.key === "?" && !isTyping(event.target) && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      dialog.showModal();
    }
  });
}
