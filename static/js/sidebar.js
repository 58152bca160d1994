// The conversation list: search, newest first grouped by day, rename in place,
// delete after confirming; on narrow screens it slides in behind a menu button.

import { dateGroup, formatCost, formatDateTime, formatInt } from "./format.js";
import { t, tn } from "./i18n.js";
import { iconButton } from "./icons.js";

const NARROW = window.matchMedia("(max-width: 860px)");
const SEARCH_DELAY_MS = 200;

export class Sidebar {
  // hooks: search(query) -> Promise<list>, open(id), rename(id, title), remove(id, title)
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.app = root.closest("[data-app]");
    this.nav = root.querySelector("[data-conversation-list]");
    this.search = root.querySelector("[data-testid=search]");
    this.scrim = document.querySelector(".scrim");
    this.menuButton = document.querySelector("[data-action=toggle-sidebar]");
    this.items = [];
    this.activeId = null;
    this.query = "";
    this.bind();
  }

  bind() {
    this.search.addEventListener("input", () => {
      window.clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => this.runSearch(), SEARCH_DELAY_MS);
    });
    this.search.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.search.value) {
        event.stopPropagation();
        this.search.value = "";
        this.runSearch();
      }
    });
    this.nav.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-conversation-link]");
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      this.hooks.open(link.closest("[data-conversation-id]").dataset.conversationId);
    });
    this.menuButton.addEventListener("click", () => this.setOpen(!this.isOpen()));
    for (const closer of document.querySelectorAll("[data-action=close-sidebar]")) {
      closer.addEventListener("click", () => this.setOpen(false));
    }
    this.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && NARROW.matches && this.isOpen()) {
        this.setOpen(false);
        this.menuButton.focus();
      }
    });
    NARROW.addEventListener("change", () => this.syncNarrow());
  }

  isOpen() {
    return this.app.classList.contains("sidebar-open");
  }

  setOpen(open) {
    this.app.classList.toggle("sidebar-open", open);
    this.menuButton.setAttribute("aria-expanded", String(open));
    this.scrim.hidden = !open || !NARROW.matches;
    if (open) this.search.focus();
  }

  closeIfNarrow() {
    if (NARROW.matches && this.isOpen()) this.setOpen(false);
  }

  // Leaving the narrow layout with the sidebar open: no scrim over the wide one.
  syncNarrow() {
    if (!NARROW.matches) this.setOpen(false);
  }

  async runSearch() {
    this.query = this.search.value.trim();
    try {
      const items = await this.hooks.search(this.query);
      if (this.search.value.trim() === this.query) this.setItems(items);
    } catch {
      // The app reports API errors; keep the current list.
    }
  }

  async reload() {
    await this.runSearch();
  }

  // The monthly allowances in tokens and in money, when the user has them; the bar
  // shows the fuller of the two. In-flight replies count with what they reserved.
  setQuota(quota, budget) {
    const box = this.root.querySelector("[data-quota]");
    const shares = [];
    if (quota?.monthly_tokens) {
      shares.push((quota.used_tokens + (quota.reserved_tokens || 0)) / quota.monthly_tokens);
    }
    if (budget?.monthly) {
      shares.push((Number(budget.spent) + Number(budget.reserved || 0)) / Number(budget.monthly));
    }
    box.hidden = shares.length === 0;
    if (box.hidden) return;
    const share = Math.min(Math.max(...shares), 1);
    box.querySelector("[data-quota-text]").textContent = allowanceText(quota, budget);
    box.title = t("Resets %(date)s", {
      date: formatDateTime(quota?.resets_at || budget?.resets_at),
    });
    box.querySelector("[data-quota-bar]").style.width = `${(share * 100).toFixed(1)}%`;
    box.classList.toggle("is-high", share >= 0.9);
  }

  setItems(items) {
    this.items = items;
    this.render();
  }

  setActive(id) {
    this.activeId = id;
    for (const item of this.nav.querySelectorAll("[data-conversation-id]")) {
      const active = item.dataset.conversationId === id;
      item.classList.toggle("is-active", active);
      const link = item.querySelector("a");
      if (link && active) link.setAttribute("aria-current", "page");
      else link?.removeAttribute("aria-current");
    }
  }

  // Show a conversation's new title (or a new conversation) without a round trip.
  upsert(summary) {
    const index = this.items.findIndex((item) => item.id === summary.id);
    if (index >= 0) this.items.splice(index, 1);
    if (!this.query) this.items.unshift(summary);
    this.render();
  }

  removeItem(id) {
    this.items = this.items.filter((item) => item.id !== id);
    this.render();
  }

  render() {
    const nodes = [];
    if (!this.items.length) {
      const empty = document.createElement("p");
      empty.className = "conversation-empty";
      empty.textContent = this.query
        ? t("No chats match “%(query)s”.", { query: this.query })
        : t("No chats yet.");
      nodes.push(empty);
    }
    let list = null;
    let group = null;
    for (const item of this.items) {
      const heading = this.query ? t("Results") : dateGroup(item.updated_at);
      if (heading !== group) {
        group = heading;
        const title = document.createElement("h2");
        title.className = "conversation-group";
        title.textContent = heading;
        list = document.createElement("ul");
        list.className = "conversation-list";
        list.setAttribute("aria-label", heading);
        nodes.push(title, list);
      }
      list.append(this.renderItem(item));
    }
    this.nav.replaceChildren(...nodes);
  }

  renderItem(item) {
    const title = item.title || t("New chat");
    const li = document.createElement("li");
    li.className = "conversation-item";
    li.dataset.testid = "conversation-item";
    li.dataset.conversationId = item.id;
    const link = document.createElement("a");
    link.href = `/c/${item.id}/`;
    link.dataset.conversationLink = "";
    link.textContent = title;
    link.title = title;
    if (item.id === this.activeId) {
      li.classList.add("is-active");
      link.setAttribute("aria-current", "page");
    }
    const actions = document.createElement("div");
    actions.className = "item-actions";
    const rename = iconButton("pencil", t("Rename “%(title)s”", { title }), {
      className: "icon-btn small",
    });
    rename.addEventListener("click", () => this.startRename(li, item));
    const remove = iconButton("trash", t("Delete “%(title)s”", { title }), {
      className: "icon-btn small",
    });
    remove.addEventListener("click", () => this.hooks.remove(item.id, title));
    actions.append(rename, remove);
    li.append(link, actions);
    if (item.snippet) li.append(snippetNode(item.snippet));
    return li;
  }

  startRename(li, item) {
    const link = li.querySelector("a");
    const input = document.createElement("input");
    input.className = "rename-input";
    input.value = item.title;
    input.maxLength = 200;
    input.setAttribute("aria-label", t("New title"));
    li.classList.add("is-renaming");
    link.replaceWith(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      li.classList.remove("is-renaming");
      if (save && title && title !== item.title) {
        item.title = title;
        await this.hooks.rename(item.id, title);
      }
      this.render();
      this.nav.querySelector(`[data-conversation-id="${item.id}"] a`)?.focus();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        finish(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
  }
}

// What is left of the monthly allowances in tokens and in money, in one sentence.
function allowanceText(quota, budget) {
  const total = quota?.monthly_tokens;
  const tokens = total && { remaining: formatInt(quota.remaining_tokens), total: formatInt(total) };
  const money = budget?.monthly && {
    left: formatCost(budget.remaining, budget.currency),
    budget: formatCost(budget.monthly, budget.currency),
  };
  if (tokens && money) {
    return tn(
      "%(remaining)s of %(total)s token left · %(left)s of %(budget)s left this month",
      "%(remaining)s of %(total)s tokens left · %(left)s of %(budget)s left this month",
      total,
      { ...tokens, ...money },
    );
  }
  if (tokens) {
    return tn(
      "%(remaining)s of %(total)s token left this month",
      "%(remaining)s of %(total)s tokens left this month",
      total,
      tokens,
    );
  }
  return t("%(left)s of %(budget)s left this month", money);
}

// Where a search matched: the server's plain text with its match offsets, marked up
// here with text nodes and <mark> (stored text is never parsed as HTML).
function snippetNode({ text, highlights }) {
  const node = document.createElement("span");
  node.className = "conversation-snippet";
  node.dataset.testid = "search-snippet";
  let at = 0;
  for (const [start, end] of highlights) {
    if (start < at || end > text.length) continue;
    node.append(text.slice(at, start));
    const mark = document.createElement("mark");
    mark.textContent = text.slice(start, end);
    node.append(mark);
    at = end;
  }
  node.append(text.slice(at));
  return node;
}
