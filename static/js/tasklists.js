// GFM task lists: "- [ ] todo" and "- [x] done" become list items with a disabled
// checkbox. The markdown rule only marks the item (the sanitizer forbids <input>);
// `addCheckboxes` puts the real, disabled checkbox in after sanitizing.

import { t } from "./i18n.js";

const MARKER = /^\[([ xX])\][ \t]+/;

function markTaskItems(state) {
  const tokens = state.tokens;
  for (let index = 2; index < tokens.length; index += 1) {
    const inline = tokens[index];
    if (inline.type !== "inline" || tokens[index - 1].type !== "paragraph_open") continue;
    const item = tokens[index - 2];
    if (item.type !== "list_item_open") continue;
    const match = MARKER.exec(inline.content);
    const first = inline.children?.[0];
    if (!match || first?.type !== "text" || !MARKER.test(first.content)) continue;
    first.content = first.content.replace(MARKER, "");
    inline.content = inline.content.slice(match[0].length);
    item.attrJoin("class", "task-list-item");
    item.attrSet("data-checked", match[1] === " " ? "false" : "true");
  }
}

// The markdown-it plugin: md.use(taskListPlugin).
export function taskListPlugin(md) {
  md.core.ruler.after("inline", "task_lists", markTaskItems);
}

// Give each marked item of `root` its disabled checkbox.
export function addCheckboxes(root) {
  const items = root.matches?.("li.task-list-item") ? [root] : [];
  for (const item of [...items, ...root.querySelectorAll("li.task-list-item")]) {
    if (item.querySelector(":scope > .task-check, :scope > p > .task-check")) continue;
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "task-check";
    box.disabled = true;
    box.checked = item.dataset.checked === "true";
    // Translators: the state of a checklist item in an answer.
    box.setAttribute("aria-label", box.checked ? t("Done") : t("Not done"));
    const host = item.firstElementChild?.matches("p") ? item.firstElementChild : item;
    host.prepend(box);
    item.parentElement?.classList.add("task-list");
  }
}
