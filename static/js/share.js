// The share dialog: make a read-only link (with or without the reasoning, with an
// expiry), copy it, and see, copy again and revoke the conversation's live links.

import { api } from "./api.js";
import { copyText } from "./clipboard.js";
import { formatDateTime, formatInt } from "./format.js";
import { t, tn } from "./i18n.js";
import { toast } from "./toast.js";

export class ShareDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.form = dialog.querySelector("[data-share-form]");
    this.includeReasoning = dialog.querySelector("[data-testid=share-include-reasoning]");
    this.expiry = dialog.querySelector("[data-share-expiry]");
    this.createButton = dialog.querySelector("[data-share-create]");
    this.result = dialog.querySelector("[data-share-result]");
    this.url = dialog.querySelector("[data-testid=share-url]");
    this.linksSection = dialog.querySelector("[data-share-links]");
    this.list = dialog.querySelector("[data-share-list]");
    this.conversationId = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    dialog.querySelector("[data-share-close]").addEventListener("click", () => dialog.close());
    const copy = dialog.querySelector("[data-share-copy]");
    copy.addEventListener("click", () => copyWithFeedback(copy, this.url.value));
    this.url.addEventListener("focus", () => this.url.select());
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close(); // a click on the backdrop
    });
  }

  open(conversationId) {
    this.conversationId = conversationId;
    this.result.hidden = true;
    this.url.value = "";
    this.url.removeAttribute("value");
    this.dialog.showModal();
    this.includeReasoning.focus();
    this.loadLinks();
  }

  async create() {
    const body = { include_reasoning: this.includeReasoning.checked };
    if (this.expiry.value) body.expires_in_days = Number(this.expiry.value);
    this.createButton.disabled = true;
    try {
      const link = await api.share(this.conversationId, body);
      this.url.value = link.url;
      this.url.setAttribute("value", link.url);
      this.result.hidden = false;
      this.url.focus();
      this.loadLinks();
    } catch (error) {
      toast(error.message);
    } finally {
      this.createButton.disabled = false;
    }
  }

  async loadLinks() {
    const conversationId = this.conversationId;
    let links;
    try {
      links = (await api.shares(conversationId)).results;
    } catch {
      return;
    }
    if (conversationId !== this.conversationId) return;
    this.linksSection.hidden = links.length === 0;
    this.list.replaceChildren(...links.map((link) => this.renderLink(link)));
  }

  renderLink(link) {
    const item = document.createElement("li");
    const text = document.createElement("div");
    const title = document.createElement(link.url ? "a" : "strong");
    if (link.url) {
      title.href = link.url;
      title.target = "_blank";
      title.rel = "noopener noreferrer";
      title.className = "share-link-url";
      title.dataset.testid = "share-link-url";
      title.textContent = link.url;
    } else {
      title.textContent = t("Link %(id)s (its URL was shown only when made)", {
        id: link.short_id,
      });
    }
    const facts = [
      tn(
        // Translators: facts about a share link: "3 messages · with reasoning · 2 views · …".
        "%(count)s message",
        "%(count)s messages",
        link.message_count,
        { count: formatInt(link.message_count) },
      ),
      link.include_reasoning ? t("with reasoning") : t("answers only"),
      tn("%(count)s view", "%(count)s views", link.view_count, {
        count: formatInt(link.view_count),
      }),
      link.expires_at
        ? t("expires %(date)s", { date: formatDateTime(link.expires_at) })
        : t("never expires"),
    ];
    const detail = document.createElement("span");
    detail.className = "muted";
    detail.textContent = facts.join(" · ");
    text.append(title, detail);
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "btn btn-small";
    revoke.textContent = t("Revoke");
    revoke.setAttribute("aria-label", t("Revoke link %(id)s", { id: link.short_id }));
    revoke.addEventListener("click", async () => {
      try {
        await api.revokeShare(link.id);
      } catch (error) {
        toast(error.message);
        return;
      }
      toast(t("Link revoked: it no longer opens."), { kind: "info", ms: 3000 });
      this.loadLinks();
    });
    const actions = document.createElement("div");
    actions.className = "share-link-actions";
    if (link.url) {
      const copy = document.createElement("button");
      copy.type = "button";
      copy.className = "btn btn-small";
      copy.dataset.testid = "share-link-copy";
      // Translators: a button that copies the share link.
      copy.textContent = t("Copy");
      copy.addEventListener("click", () => copyWithFeedback(copy, link.url));
      actions.append(copy);
    }
    actions.append(revoke);
    item.append(text, actions);
    return item;
  }
}

// Copy `text`; say so on `button` ("Copied", or "Copy failed") for a moment.
async function copyWithFeedback(button, text) {
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  const ok = await copyText(text);
  button.textContent = ok ? t("Copied") : t("Copy failed");
  window.clearTimeout(Number(button.dataset.timer));
  button.dataset.timer = String(
    window.setTimeout(() => {
      button.textContent = label;
    }, 1500),
  );
}
