// Editing a user turn in place (a textarea with Save and Cancel), and the ‹ 1/2 ›
// switcher between a turn's versions: each version leads its own branch.

import { formatInt } from "./format.js";
import { t } from "./i18n.js";
import { iconButton } from "./icons.js";

// The edit button of a user message; `onSave(text)` resolves true once the edit is sent.
export function editButton(view, onSave) {
  const button = iconButton("pencil", t("Edit message"));
  button.dataset.testid = "edit-message";
  button.addEventListener("click", () => startEdit(view, onSave));
  return button;
}

function startEdit(view, onSave) {
  const bubble = view.root.querySelector(".bubble");
  if (!bubble || view.root.querySelector(".edit-box")) return;
  const box = document.createElement("form");
  box.className = "edit-box";
  const input = document.createElement("textarea");
  input.value = view.message.content;
  input.setAttribute("aria-label", t("Edit your message"));
  input.rows = Math.min(10, Math.max(2, input.value.split("\n").length));
  const save = button(t("Save"), "btn btn-primary btn-small", "submit");
  save.dataset.testid = "edit-save";
  const cancel = button(t("Cancel"), "btn btn-small", "button");
  const bar = document.createElement("div");
  bar.className = "edit-bar";
  bar.append(cancel, save);
  box.append(input, bar);
  const close = () => {
    box.remove();
    bubble.hidden = false;
  };
  cancel.addEventListener("click", close);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  box.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    save.disabled = true;
    if (await onSave(input.value)) close();
    else save.disabled = false;
  });
  bubble.hidden = true;
  bubble.after(box);
  input.focus();
}

function button(text, className, type) {
  const node = document.createElement("button");
  node.type = type;
  node.className = className;
  node.textContent = text;
  return node;
}

// ‹ i/n › over a user turn's versions (`message.versions`, oldest first); `onPick(id)`.
export function versionSwitcher(message, onPick) {
  const ids = message.versions ?? [message.id];
  const index = ids.indexOf(message.id);
  const box = document.createElement("div");
  box.className = "versions";
  box.dataset.testid = "user-versions";
  box.hidden = ids.length < 2;
  const prev = iconButton("chevronLeft", t("Previous version"), { className: "icon-btn small" });
  const next = iconButton("chevronRight", t("Next version"), { className: "icon-btn small" });
  const label = document.createElement("span");
  label.className = "version-label";
  label.textContent = `${formatInt(index + 1)} / ${formatInt(ids.length)}`;
  label.setAttribute(
    "aria-label",
    t("Version %(number)s of %(count)s", {
      number: formatInt(index + 1),
      count: formatInt(ids.length),
    }),
  );
  prev.disabled = index <= 0;
  next.disabled = index === ids.length - 1;
  prev.addEventListener("click", () => onPick(ids[index - 1]));
  next.addEventListener("click", () => onPick(ids[index + 1]));
  box.append(prev, label, next);
  return box;
}
