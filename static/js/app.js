// Ponder's chat page: wires the sidebar, the transcript, the composer and the
// websocket of the open conversation together.

import { api } from "./api.js";
import { Composer } from "./composer.js";
import { confirmDialog } from "./dialog.js";
import { AssistantMessageView, UserMessageView } from "./message.js";
import { ScrollFollower } from "./scroll.js";
import { Sidebar } from "./sidebar.js";
import { ConversationSocket } from "./socket.js";
import { FINISHED } from "./statuses.js";
import { announce, toast } from "./toast.js";
import { Topbar } from "./topbar.js";
import { Transcript } from "./transcript.js";

const TICK_MS = 250;
const UNKNOWN_MESSAGE_GRACE_MS = 1500;
const TITLE_RECHECK_MS = 4000;
const CONVERSATION_PATH = /^\/c\/([0-9a-f-]{36})\/?$/i;

class ChatApp {
  constructor(initial) {
    this.el = {
      transcript: document.querySelector("[data-transcript]"),
      scroller: document.querySelector("[data-scroller]"),
      empty: document.querySelector("[data-empty-state]"),
    };
    this.models = new Map();
    this.conversation = null; // {id, title, created_at, updated_at, settings}
    this.transcript = new Transcript();
    this.views = new Map();
    this.socket = null;
    this.scroll = new ScrollFollower(
      this.el.scroller,
      document.querySelector("[data-action=jump-latest]"),
    );
    this.composer = new Composer(document.querySelector("[data-composer]"), {
      onSend: (text, choice) => this.send(text, choice),
      onStop: () => this.stop(),
      onError: (text) => toast(text),
    });
    this.sidebar = new Sidebar(document.querySelector("[data-sidebar]"), {
      search: async (query) => (await this.call(api.conversations(query))).results,
      open: (id) => this.navigate(id),
      rename: (id, title) => this.rename(id, title),
      remove: (id, title) => this.remove(id, title),
    });
    this.topbar = new Topbar({ modelLabel: (id) => this.modelLabel(id) });
    this.sidebar.setItems(initial.conversations);
    this.bind();
    this.show(initial.conversation);
    this.loadModels();
    this.loadQuota();
    window.setInterval(() => this.tick(), TICK_MS);
  }

  bind() {
    document.querySelector("[data-action=new-conversation]").addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      this.goHome();
    });
    for (const button of document.querySelectorAll("[data-suggestion]")) {
      button.addEventListener("click", () => {
        this.composer.setText(button.dataset.suggestion);
        this.composer.focus();
      });
    }
    document.addEventListener("keydown", (event) => {
      const mod = event.ctrlKey || event.metaKey;
      if (mod && event.shiftKey && event.key.toLowerCase() === "o") {
        event.preventDefault();
        this.goHome();
      }
    });
    window.addEventListener("popstate", () => this.route());
  }

  // Await an API call; report its error in a toast and rethrow.
  async call(promise) {
    try {
      return await promise;
    } catch (error) {
      toast(error.message);
      throw error;
    }
  }

  async loadModels(attempt = 0) {
    try {
      const { models } = await api.models();
      this.models = new Map(models.map((model) => [model.id, model]));
      this.composer.setModels(models);
      this.composer.applySettings(this.conversation?.settings ?? null);
      for (const view of this.views.values()) {
        if (view.modelName) view.modelName.textContent = this.modelLabel(view.message.model);
      }
    } catch (error) {
      if (attempt === 0) toast(`${error.message} Retrying…`);
      window.setTimeout(() => this.loadModels(attempt + 1), 3000);
    }
  }

  async loadQuota() {
    try {
      this.sidebar.setQuota((await api.me()).quota);
    } catch {
      // The allowance is a nicety; the send itself reports an exhausted quota.
    }
  }

  modelLabel(id) {
    return this.models.get(id)?.label ?? id ?? "Assistant";
  }

  // --- showing a conversation ------------------------------------------------------------

  route() {
    const match = window.location.pathname.match(CONVERSATION_PATH);
    if (match) this.navigate(match[1], { push: false });
    else this.goHome({ push: false });
  }

  async navigate(id, { push = true } = {}) {
    this.sidebar.closeIfNarrow();
    if (this.conversation?.id === id) return;
    let conversation;
    try {
      conversation = await this.call(api.conversation(id));
    } catch {
      return;
    }
    if (push) window.history.pushState({}, "", `/c/${id}/`);
    this.show(conversation);
    this.composer.focus();
  }

  goHome({ push = true } = {}) {
    this.sidebar.closeIfNarrow();
    if (push && window.location.pathname !== "/") window.history.pushState({}, "", "/");
    this.show(null);
    this.composer.focus();
  }

  // Open `conversation` (null: the empty page); `keepChoices` leaves the composer as is.
  show(conversation, { keepChoices = false } = {}) {
    this.socket?.close();
    this.socket = null;
    this.views.clear();
    this.conversation = conversation
      ? {
          id: conversation.id,
          title: conversation.title,
          settings: conversation.settings,
          created_at: conversation.created_at,
        }
      : null;
    this.transcript = new Transcript(conversation?.messages ?? []);
    this.sidebar.setActive(conversation?.id ?? null);
    this.topbar.show(this.conversation);
    if (this.models.size && !keepChoices) this.composer.applySettings(conversation?.settings ?? null);
    if (conversation) this.connect();
    this.layout();
    this.scroll.toBottom();
  }

  connect() {
    const conversationId = this.conversation.id;
    this.socket = new ConversationSocket(conversationId, {
      onEvent: (event) => this.onEvent(event),
      onUnknownMessage: (id) => this.onUnknownMessage(conversationId, id),
    });
    for (const message of this.transcript.assistants()) {
      if (!FINISHED.has(message.status)) this.socket.track(message.id, 0);
    }
  }

  viewFor(message) {
    let view = this.views.get(message.id);
    if (view) return view;
    if (message.role === "user") {
      view = new UserMessageView(message);
    } else {
      view = new AssistantMessageView(message, {
        modelLabel: (id) => this.modelLabel(id),
        onRegenerate: (v) => this.regenerate(v.id),
        onVersion: (v, step) => this.switchVersion(v.id, step),
        onChange: () => this.scroll.follow(),
      });
    }
    this.views.set(message.id, view);
    return view;
  }

  // Put the visible messages in order (views keep their state across layouts).
  layout() {
    const nodes = [];
    for (const id of this.transcript.visible()) {
      const view = this.viewFor(this.transcript.get(id));
      if (view instanceof AssistantMessageView) view.setVersions(...this.transcript.position(id));
      nodes.push(view.root);
    }
    this.el.transcript.replaceChildren(...nodes);
    this.el.empty.hidden = nodes.length > 0;
    this.el.scroller.classList.toggle("is-empty", nodes.length === 0);
    this.updateStreaming();
  }

  unfinished() {
    return [...this.transcript.assistants()].filter((m) => !FINISHED.has(m.status));
  }

  updateStreaming() {
    this.composer.setStreaming(this.unfinished().length > 0);
  }

  tick() {
    const now = Date.now();
    for (const view of this.views.values()) {
      if (view.live?.isThinking) view.tick(now);
    }
  }

  // --- live events -------------------------------------------------------------------------

  onEvent(event) {
    const message = this.transcript.get(event.message_id);
    if (!message) return;
    const view = this.viewFor(message);
    view.apply(event);
    if (event.type === "status" && FINISHED.has(event.status)) this.onFinished(message);
    this.scroll.follow();
  }

  onFinished(message) {
    this.updateStreaming();
    const said = {
      complete: "Reply finished.",
      cancelled: "Reply stopped.",
      failed: `Reply failed: ${message.error?.message ?? ""}`,
      interrupted: "Reply interrupted.",
    };
    announce(said[message.status] ?? "");
    this.loadQuota();
    // A title may have been written meanwhile; after the first answer, look once more.
    this.refreshSummary();
    if (this.transcript.turns.length === 1) {
      const id = this.conversation?.id;
      window.setTimeout(() => {
        if (this.conversation?.id === id) this.refreshSummary();
      }, TITLE_RECHECK_MS);
    }
  }

  onUnknownMessage(conversationId, messageId) {
    // Right after a send the reply's first events can beat the POST's answer; only a
    // reply still unknown after a grace period (another tab) needs a reload.
    window.setTimeout(async () => {
      if (this.conversation?.id !== conversationId || this.transcript.has(messageId)) return;
      try {
        const fresh = await api.conversation(conversationId);
        if (this.conversation?.id === conversationId) this.show(fresh);
      } catch {
        // Deleted meanwhile: nothing to show.
      }
    }, UNKNOWN_MESSAGE_GRACE_MS);
  }

  async refreshSummary() {
    const id = this.conversation?.id;
    if (!id) return;
    try {
      const fresh = await api.conversation(id);
      if (this.conversation?.id !== id) return;
      this.conversation.title = fresh.title;
      this.conversation.settings = fresh.settings;
      this.topbar.setTitle(fresh.title);
      await this.sidebar.reload();
      this.sidebar.setActive(id);
    } catch {
      // Not worth a toast: the next event retries.
    }
  }

  // --- commands ----------------------------------------------------------------------------

  async send(text, choice) {
    this.composer.setBusy(true);
    try {
      if (!this.conversation) await this.startConversation();
      const conversation = this.conversation;
      await this.socket.ready(2000);
      const sent = await this.call(api.send(conversation.id, { content: text, ...choice }));
      if (this.conversation !== conversation) return;
      this.composer.clear();
      const { attachments: _sent, ...sticky } = choice;
      this.composer.remember(sticky);
      conversation.settings = {
        model: choice.model,
        enable_thinking: choice.enable_thinking ?? null,
        thinking_budget: choice.thinking_budget ?? null,
      };
      this.transcript.add(sent.user_message);
      this.transcript.add(sent.assistant_message);
      this.socket.track(sent.assistant_message.id, 0);
      this.layout();
      this.scroll.toBottom();
      this.refreshSummary();
    } catch {
      // Reported by call(); the text stays in the composer.
    } finally {
      this.composer.setBusy(false);
    }
  }

  async startConversation() {
    const conversation = await this.call(api.createConversation());
    window.history.pushState({}, "", `/c/${conversation.id}/`);
    this.show(conversation, { keepChoices: true });
    this.sidebar.upsert({
      id: conversation.id,
      title: conversation.title,
      updated_at: conversation.updated_at,
    });
    this.sidebar.setActive(conversation.id);
  }

  async stop() {
    for (const message of this.unfinished()) {
      try {
        await this.call(api.stop(message.id));
      } catch {
        // Reported.
      }
    }
  }

  async regenerate(messageId) {
    if (this.unfinished().length) {
      toast("Wait for the current reply to finish, or stop it first.");
      return;
    }
    const conversation = this.conversation;
    try {
      const { assistant_message: reply } = await this.call(api.regenerate(messageId));
      if (this.conversation !== conversation) return;
      this.transcript.add(reply);
      this.socket.track(reply.id, 0);
      this.layout();
      this.scroll.follow();
    } catch {
      // Reported.
    }
  }

  async switchVersion(messageId, step) {
    const target = this.transcript.sibling(messageId, step);
    if (!target) return;
    this.transcript.setActive(target);
    this.layout();
    this.views.get(target)?.root.querySelector(".versions button:not(:disabled)")?.focus();
    try {
      await this.call(api.selectVersion(target));
    } catch {
      this.transcript.setActive(messageId);
      this.layout();
    }
  }

  async rename(id, title) {
    try {
      await this.call(api.rename(id, title));
    } catch {
      return;
    }
    if (this.conversation?.id === id) {
      this.conversation.title = title;
      this.topbar.setTitle(title);
    }
  }

  async remove(id, title) {
    const ok = await confirmDialog({
      title: "Delete this chat?",
      text: `“${title}” and all its messages will be deleted. This cannot be undone.`,
    });
    if (!ok) return;
    try {
      await this.call(api.deleteConversation(id));
    } catch {
      return;
    }
    this.sidebar.removeItem(id);
    toast("Chat deleted.", { kind: "info", ms: 3000 });
    if (this.conversation?.id === id) this.goHome();
  }
}

const initial = JSON.parse(document.getElementById("conversation-data").textContent);
new ChatApp(initial);
