// The bar above the conversation: its title (also the page title), the share
// dialog and the export menu.

import { api } from "./api.js";
import { exportJson, exportMarkdown } from "./export.js";
import { t } from "./i18n.js";
import { MenuButton } from "./menu.js";
import { ShareDialog } from "./share.js";
import { toast } from "./toast.js";

export class Topbar {
  // modelLabel(id) names models in the Markdown export.
  constructor({ modelLabel }) {
    this.modelLabel = modelLabel;
    this.conversationId = null;
    this.title = document.querySelector("[data-conversation-title]");
    this.shareButton = document.querySelector("[data-share-open]");
    this.exportRoot = document.querySelector("[data-export-menu]");
    this.menu = new MenuButton(this.exportRoot);
    this.shareDialog = new ShareDialog(document.querySelector("[data-share-dialog]"));
    this.shareButton.addEventListener("click", () => {
      if (this.conversationId) this.shareDialog.open(this.conversationId);
    });
    this.exportRoot
      .querySelector("[data-action=export-markdown]")
      .addEventListener("click", () => this.export("markdown"));
    this.exportRoot
      .querySelector("[data-action=export-json]")
      .addEventListener("click", () => this.export("json"));
  }

  // `conversation`: {id, title} of the open conversation, or null for a new chat.
  show(conversation) {
    this.conversationId = conversation?.id ?? null;
    this.shareButton.hidden = !conversation;
    this.exportRoot.hidden = !conversation;
    this.setTitle(conversation?.title);
  }

  setTitle(title) {
    const text = (this.conversationId && title) || t("New chat");
    this.title.textContent = text;
    // i18n-ignore: the product's name is the same in every language
    document.title = this.conversationId ? `${text} · Ponder` : "Ponder";
  }

  // Export what the server stored (not what is on screen mid-stream).
  async export(kind) {
    if (!this.conversationId) return;
    try {
      const conversation = await api.conversation(this.conversationId);
      if (kind === "json") exportJson(conversation);
      else exportMarkdown(conversation, this.modelLabel);
    } catch (error) {
      toast(error.message);
    }
  }
}
