// The model picker: a button that opens a searchable list (an ARIA combobox with a
// listbox). Favourites and recently used models come first; dated snapshots and
// aliases fold under their model. Favourites and recents live in this browser's
// localStorage. The native <select data-testid=model-select> stays as the value the
// composer reads: choosing here sets it and fires "change".

import { formatInt } from "./format.js";
import { t, tn, tp } from "./i18n.js";

const FAVOURITES_KEY = "ponder.favouriteModels";
const RECENTS_KEY = "ponder.recentModels";
const MAX_RECENTS = 5;

function readList(key) {
  try {
    const value = JSON.parse(window.localStorage.getItem(key) ?? "[]");
    return Array.isArray(value) ? value.filter((item) => typeof item === "string") : [];
  } catch {
    return [];
  }
}

function writeList(key, list) {
  try {
    window.localStorage.setItem(key, JSON.stringify(list));
  } catch {
    // Private mode: favourites last as long as the page.
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A model's badges in the list, as {key (for CSS), label}.
export function badges(model) {
  const list = [];
  if (model.thinking === "hybrid") list.push({ key: "hybrid", label: tp("model badge", "Hybrid") });
  if (model.thinking === "always") {
    list.push({ key: "thinking", label: tp("model badge", "Thinking") });
  }
  if (model.vision) list.push({ key: "vision", label: tp("model badge", "Vision") });
  return list;
}

export class ModelPicker {
  constructor(root, select) {
    this.root = root;
    this.select = select;
    this.trigger = root.querySelector("[data-model-trigger]");
    this.popover = root.querySelector("[data-model-popover]");
    this.search = root.querySelector("[data-testid=model-search]");
    this.list = root.querySelector("[data-testid=model-listbox]");
    this.models = [];
    this.expanded = new Set(); // models whose snapshots are unfolded
    this.favourites = readList(FAVOURITES_KEY);
    this.recents = readList(RECENTS_KEY);
    this.activeId = null;
    this.bind();
  }

  bind() {
    this.trigger.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
    this.trigger.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        this.open();
      }
    });
    this.search.addEventListener("input", () => this.render());
    this.search.addEventListener("keydown", (event) => this.onKey(event));
    this.list.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus
    this.list.addEventListener("click", (event) => this.onClick(event));
    document.addEventListener("mousedown", (event) => {
      if (this.isOpen() && !this.root.contains(event.target)) this.close({ focus: false });
    });
  }

  setModels(models) {
    this.models = models;
    this.byId = new Map(models.map((model) => [model.id, model]));
    if (this.isOpen()) this.render();
  }

  // Show the select's current model on the button.
  sync() {
    const model = this.byId?.get(this.select.value);
    this.trigger.querySelector("[data-model-current]").textContent = model?.label ?? t("Model");
    this.trigger.setAttribute(
      "aria-label",
      model
        ? t("Model: %(model)s. Change model", { model: model.label })
        : t("Model: none. Change model"),
    );
  }

  noteUsed(id) {
    this.recents = [id, ...this.recents.filter((other) => other !== id)].slice(0, MAX_RECENTS);
    writeList(RECENTS_KEY, this.recents);
  }

  isOpen() {
    return !this.popover.hidden;
  }

  open() {
    this.popover.hidden = false;
    this.trigger.setAttribute("aria-expanded", "true");
    this.search.setAttribute("aria-expanded", "true");
    this.search.value = "";
    this.activeId = this.select.value || null;
    const base = this.byId?.get(this.activeId)?.snapshot_of;
    if (base) this.expanded.add(base);
    this.render();
    this.search.focus();
  }

  close({ focus = true } = {}) {
    this.popover.hidden = true;
    this.trigger.setAttribute("aria-expanded", "false");
    this.search.setAttribute("aria-expanded", "false");
    this.search.removeAttribute("aria-activedescendant");
    if (focus) this.trigger.focus();
  }

  choose(id) {
    if (!this.byId?.has(id)) return;
    this.select.value = id;
    this.select.dispatchEvent(new Event("change", { bubbles: true }));
    this.close();
  }

  toggleFavourite(id) {
    this.favourites = this.favourites.includes(id)
      ? this.favourites.filter((other) => other !== id)
      : [...this.favourites, id];
    writeList(FAVOURITES_KEY, this.favourites);
    this.render();
  }

  // --- what the list shows -----------------------------------------------------------------

  matches(model, words) {
    const haystack = `${model.label} ${model.id} ${model.family}`.toLowerCase();
    return words.every((word) => haystack.includes(word));
  }

  // Sections of [key, heading, models]; a search shows one flat list, snapshots included.
  sections() {
    const words = this.search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const pick = (ids) => ids.map((id) => this.byId.get(id)).filter(Boolean);
    if (words.length) {
      const found = this.models.filter((model) => this.matches(model, words));
      const starred = found.filter((model) => this.favourites.includes(model.id));
      const rest = found.filter((model) => !this.favourites.includes(model.id));
      return [["results", t("Results"), [...starred, ...rest], { flat: true }]];
    }
    const sections = [];
    const favourites = pick(this.favourites);
    if (favourites.length) {
      sections.push(["favourites", t("Favourites"), favourites, { flat: true }]);
    }
    const recents = pick(this.recents.filter((id) => !this.favourites.includes(id)));
    // Translators: the heading of the recently used models.
    if (recents.length) sections.push(["recent", t("Recent"), recents, { flat: true }]);
    const families = new Map();
    for (const model of this.models) {
      if (model.snapshot_of && this.byId.has(model.snapshot_of)) continue;
      if (!families.has(model.family)) families.set(model.family, []);
      families.get(model.family).push(model);
    }
    for (const [family, list] of families) {
      sections.push([`family-${family}`, family, list, { flat: false }]);
    }
    return sections;
  }

  snapshotsOf(id) {
    return this.models.filter((model) => model.snapshot_of === id);
  }

  render() {
    if (!this.byId) return;
    const nodes = [];
    const visible = [];
    for (const [key, heading, models, { flat }] of this.sections()) {
      const group = element("li", "model-group");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", heading);
      const title = element("div", "model-group-title", heading);
      title.setAttribute("aria-hidden", "true");
      const options = element("ul", "model-group-list");
      options.setAttribute("role", "none");
      for (const model of models) {
        options.append(this.option(model, { flat, prefix: key }));
        visible.push(model.id);
        if (flat || !this.expanded.has(model.id)) continue;
        for (const snapshot of this.snapshotsOf(model.id)) {
          options.append(this.option(snapshot, { flat, prefix: key, snapshot: true }));
          visible.push(snapshot.id);
        }
      }
      group.append(title, options);
      nodes.push(group);
    }
    if (!visible.length) {
      const text = t("No model matches “%(query)s”.", { query: this.search.value });
      const empty = element("li", "model-empty", text);
      empty.setAttribute("role", "none");
      nodes.push(empty);
    }
    this.list.replaceChildren(...nodes);
    this.visible = visible;
    if (!visible.includes(this.activeId)) this.activeId = visible[0] ?? null;
    this.highlight();
  }

  option(model, { flat, prefix, snapshot = false }) {
    const li = element("li", `model-option${snapshot ? " is-snapshot" : ""}`);
    li.id = `model-option-${prefix}-${model.id}`.replace(/[^\w-]/g, "_");
    li.setAttribute("role", "option");
    li.dataset.testid = "model-option";
    li.dataset.modelId = model.id;
    li.setAttribute("aria-selected", String(model.id === this.select.value));
    const name = element("span", "model-option-label", model.label);
    const chips = element("span", "model-option-badges");
    for (const { key, label } of badges(model)) {
      chips.append(element("span", `chip chip-${key}`, label));
    }
    li.append(name, chips);
    const count = flat ? 0 : this.snapshotsOf(model.id).length;
    if (count) {
      const open = this.expanded.has(model.id);
      const fold = element("button", "model-fold", `${open ? "−" : "+"}${formatInt(count)}`);
      fold.type = "button";
      fold.tabIndex = -1;
      fold.dataset.fold = model.id;
      const values = { count: formatInt(count) };
      fold.setAttribute(
        "aria-label",
        open
          ? tn("Hide %(count)s snapshot", "Hide %(count)s snapshots", count, values)
          : tn("Show %(count)s snapshot", "Show %(count)s snapshots", count, values),
      );
      fold.title = open
        ? t("Hide dated snapshots and aliases (→ / ←)")
        : t("Show dated snapshots and aliases (→ / ←)");
      li.setAttribute("aria-expanded", String(open));
      li.append(fold);
    }
    const starred = this.favourites.includes(model.id);
    const star = element("button", `model-star${starred ? " is-on" : ""}`, starred ? "★" : "☆");
    star.type = "button";
    star.tabIndex = -1;
    star.dataset.star = model.id;
    star.setAttribute("aria-pressed", String(starred));
    // Translators: a button that adds a model to the favourites (or takes it out).
    star.setAttribute("aria-label", t("Favourite %(model)s", { model: model.label }));
    star.title = t("Favourite (Shift+Enter)");
    li.append(star);
    return li;
  }

  highlight() {
    let activeNode = null;
    for (const node of this.list.querySelectorAll("[role=option]")) {
      const active = node.dataset.modelId === this.activeId && !activeNode;
      node.classList.toggle("is-active", active);
      if (active) activeNode = node;
    }
    if (activeNode) {
      this.search.setAttribute("aria-activedescendant", activeNode.id);
      activeNode.scrollIntoView({ block: "nearest" });
    } else {
      this.search.removeAttribute("aria-activedescendant");
    }
  }

  // --- input -----------------------------------------------------------------------------------

  move(step) {
    if (!this.visible?.length) return;
    const index = this.visible.indexOf(this.activeId);
    const next = Math.min(Math.max(index + step, 0), this.visible.length - 1);
    this.activeId = this.visible[index === -1 ? 0 : next];
    this.highlight();
  }

  fold(id, open) {
    const base = this.byId.get(id)?.snapshot_of ?? id;
    if (!this.snapshotsOf(base).length) return;
    if (open) this.expanded.add(base);
    else {
      this.expanded.delete(base);
      this.activeId = base;
    }
    this.render();
  }

  onKey(event) {
    const keys = {
      ArrowDown: () => this.move(1),
      ArrowUp: () => this.move(-1),
      Home: () => this.move(-Infinity),
      End: () => this.move(Infinity),
      ArrowRight: () => this.search.value || this.fold(this.activeId, true),
      ArrowLeft: () => this.search.value || this.fold(this.activeId, false),
      Escape: () => this.close(),
      Enter: () =>
        event.shiftKey ? this.toggleFavourite(this.activeId) : this.choose(this.activeId),
    };
    if (event.key === "Tab") {
      this.close({ focus: false });
      return;
    }
    const action = keys[event.key];
    if (!action || event.isComposing) return;
    if ((event.key === "ArrowRight" || event.key === "ArrowLeft") && this.search.value) return;
    event.preventDefault();
    event.stopPropagation(); // Escape here closes the list, it does not stop a reply
    action();
  }

  onClick(event) {
    const star = event.target.closest("[data-star]");
    if (star) return this.toggleFavourite(star.dataset.star);
    const fold = event.target.closest("[data-fold]");
    if (fold) return this.fold(fold.dataset.fold, !this.expanded.has(fold.dataset.fold));
    const option = event.target.closest("[role=option]");
    if (option) this.choose(option.dataset.modelId);
  }
}
