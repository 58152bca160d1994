// Which conversation is open: the address (`/` or `/c/<id>/`), the browser history,
// and the sidebar that lists, opens, renames and deletes conversations.

import { api } from "./api.js";
import { deleteDialogText } from "./deletion.js";
import { confirmDialog } from "./dialog.js";
import { t } from "./i18n.js";
import { Sidebar } from "./sidebar.js";
import { reported, toast } from "./toast.js";

const CONVERSATION_PATH = /^\/c\/([0-9a-f-]{36})\/?$/i;

export class Router {
  // `view`: the conversation view (currentId, show, focus, renamed);
  // `conversations`: the sidebar's first list, from the page;
  // `retentionDays`: after how many days the retention policy purges messages (null: never).
  constructor(sidebarRoot, view, conversations, { retentionDays = null } = {}) {
    this.view = view;
    this.retentionDays = retentionDays;
    this.sidebar = new Sidebar(sidebarRoot, {
      search: async (query) => (await reported(api.conversations(query))).results,
      open: (id) => this.navigate(id),
      rename: (id, title) => this.rename(id, title),
      remove: (id, title) => this.remove(id, title),
    });
    this.sidebar.setItems(conversations);
    this.bind();
  }

  bind() {
    document.querySelector("[data-action=new-conversation]").addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      this.goHome();
    });
    document.addEventListener("keydown", (event) => {
      const mod = event.ctrlKey || event.metaKey;
      if (mod && event.shiftKey && event.key.toLowerCase() === "o") {
        event.preventDefault();
        this.goHome();
      }
    });
    window.addEventListener("popstate", () => this.route());
  }

  // Open what the address names (after Back or Forward).
  route() {
    const match = window.location.pathname.match(CONVERSATION_PATH);
    if (match) this.navigate(match[1], { push: false });
    else this.goHome({ push: false });
  }

  async navigate(id, { push = true } = {}) {
    this.sidebar.closeIfNarrow();
    if (this.view.currentId === id) return;
    let conversation;
    try {
      conversation = await reported(api.conversation(id));
    } catch {
      return;
    }
    if (push) window.history.pushState({}, "", `/c/${id}/`);
    this.view.show(conversation);
    this.view.focus();
  }

  goHome({ push = true } = {}) {
    this.sidebar.closeIfNarrow();
    if (push && window.location.pathname !== "/") window.history.pushState({}, "", "/");
    this.view.show(null);
    this.view.focus();
  }

  // --- told by the conversation view --------------------------------------------------------

  // It shows conversation `id` (null: none).
  opened(id) {
    this.sidebar.setActive(id);
  }

  // It started `conversation` with the first message.
  created(conversation) {
    window.history.pushState({}, "", `/c/${conversation.id}/`);
    this.sidebar.upsert({
      id: conversation.id,
      title: conversation.title,
      updated_at: conversation.updated_at,
    });
    this.sidebar.setActive(conversation.id);
  }

  // Conversation `id` may have a new title or a new place in the list.
  async refreshList(id) {
    await this.sidebar.reload();
    this.sidebar.setActive(id);
  }

  // The monthly allowance in the sidebar, after a reply used some of it.
  async refreshQuota() {
    try {
      const me = await api.me();
      this.sidebar.setQuota(me.quota, me.budget);
    } catch {
      // The allowance is a nicety; the send itself reports an exhausted quota.
    }
  }

  // --- sidebar commands ---------------------------------------------------------------------

  async rename(id, title) {
    try {
      await reported(api.rename(id, title));
    } catch {
      return;
    }
    this.view.renamed(id, title);
  }

  async remove(id, title) {
    const ok = await confirmDialog({
      title: t("Delete this chat?"),
      text: deleteDialogText(title, this.retentionDays),
    });
    if (!ok) return;
    try {
      await reported(api.deleteConversation(id));
    } catch {
      return;
    }
    this.sidebar.removeItem(id);
    toast(t("Chat deleted."), { kind: "info", ms: 3000 });
    if (this.view.currentId === id) this.goHome();
  }
}
