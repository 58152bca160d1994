// The open conversation: its messages on screen, the composer that sends, stops and
// regenerates, the top bar, and the websocket whose events drive the message views.

import { api } from "./api.js";
import { Composer } from "./composer.js";
import { t } from "./i18n.js";
import { AssistantMessageView, UserMessageView } from "./message.js";
import { ScrollFollower } from "./scroll.js";
import { ConversationSocket } from "./socket.js";
import { FINISHED } from "./statuses.js";
import { announce, reported, toast } from "./toast.js";
import { Topbar } from "./topbar.js";
import { Transcript } from "./transcript.js";

const TICK_MS = 250;
const UNKNOWN_MESSAGE_GRACE_MS = 1500;
const TITLE_RECHECK_MS = 4000;

export class ConversationView {
  // hooks: opened(id | null) when it shows a conversation (or none), created(conversation)
  // when the first message started one, replyFinished(), listChanged(id) when the
  // conversation's title or place in the list may have changed.
  constructor(hooks) {
    this.hooks = hooks;
    this.el = {
      transcript: document.querySelector("[data-transcript]"),
      scroller: document.querySelector("[data-scroller]"),
      empty: document.querySelector("[data-empty-state]"),
    };
    this.models = new Map();
    this.conversation = null; // {id, title, created_at, settings}
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
    this.topbar = new Topbar({ modelLabel: (id) => this.modelLabel(id) });
    document.querySelector("[data-model-select]").addEventListener("change", () => {
      for (const view of this.views.values()) view.refreshActions?.();
    });
    for (const button of document.querySelectorAll("[data-suggestion]")) {
      button.addEventListener("click", () => {
        this.composer.setText(button.dataset.suggestion);
        this.composer.focus();
      });
    }
  }

  get currentId() {
    return this.conversation?.id ?? null;
  }

  focus() {
    this.composer.focus();
  }

  // Keep the live "Thinking… 12 s" counters running.
  startClock() {
    window.setInterval(() => this.tick(), TICK_MS);
  }

  tick() {
    const now = Date.now();
    for (const view of this.views.values()) {
      if (view.live?.isThinking) view.tick(now);
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
      if (attempt === 0) toast(t("%(error)s Retrying…", { error: error.message }));
      window.setTimeout(() => this.loadModels(attempt + 1), 3000);
    }
  }

  modelLabel(id) {
    return this.models.get(id)?.label ?? id ?? t("Assistant");
  }

  // --- showing a conversation ------------------------------------------------------------

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
    this.hooks.opened(conversation?.id ?? null);
    this.topbar.show(this.conversation);
    if (this.models.size && !keepChoices) {
      this.composer.applySettings(conversation?.settings ?? null);
    }
    if (conversation) this.connect();
    this.layout();
    this.scroll.toBottom();
  }

  // The sidebar renamed conversation `id`.
  renamed(id, title) {
    if (this.conversation?.id !== id) return;
    this.conversation.title = title;
    this.topbar.setTitle(title);
  }

  connect() {
    const conversationId = this.conversation.id;
    this.socket = new ConversationSocket(conversationId, {
      onEvent: (event) => this.onEvent(event),
      onUnknownMessage: (id) => this.onUnknownMessage(conversationId, id),
    });
    for (const message of this.unfinished()) this.socket.track(message.id, 0);
  }

  viewFor(message) {
    let view = this.views.get(message.id);
    if (view) return view;
    if (message.role === "user") {
      view = new UserMessageView(message, {
        onEdit: (v, text) => this.edit(v.message.id, text),
        onVersion: (_v, id) => this.switchBranch(id),
      });
    } else {
      view = new AssistantMessageView(message, {
        modelLabel: (id) => this.modelLabel(id),
        pickedModel: () => this.composer.model()?.id ?? null,
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
    this.composer.setHistoryImages(
      [...this.transcript.byId.values()].some((m) => m.attachments?.length),
    );
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

  // --- live events -------------------------------------------------------------------------

  onEvent(event) {
    const message = this.transcript.get(event.message_id);
    if (!message) return;
    const view = this.viewFor(message);
    const wasFinished = FINISHED.has(message.status);
    const wasThinking = Boolean(view.live?.isThinking);
    view.apply(event);
    // Screen readers hear the reply's states in the one polite region, never its tokens.
    if (!wasThinking && view.live?.isThinking) announce(t("Thinking…"));
    // A snapshot of a reply that had already ended announces nothing again.
    const ends = event.type === "status" || (event.type === "snapshot" && !wasFinished);
    if (ends && FINISHED.has(event.status)) this.onFinished(message);
    this.scroll.follow();
  }

  onFinished(message) {
    this.updateStreaming();
    const said = {
      complete: t("Answer complete"),
      cancelled: t("Stopped"),
      failed: t("Failed: %(reason)s", { reason: message.error?.message || t("unknown error") }),
      interrupted: t("Interrupted"),
    };
    announce(said[message.status] ?? "");
    this.hooks.replyFinished();
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
      await this.hooks.listChanged(id);
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
      const sent = await reported(api.send(conversation.id, { content: text, ...choice }));
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
      // Reported by reported(); the text stays in the composer.
    } finally {
      this.composer.setBusy(false);
    }
  }

  async startConversation() {
    const conversation = await reported(api.createConversation());
    this.hooks.created(conversation);
    this.show(conversation, { keepChoices: true });
  }

  async stop() {
    for (const message of this.unfinished()) {
      try {
        await reported(api.stop(message.id));
      } catch {
        // Reported.
      }
    }
  }

  async regenerate(messageId) {
    if (this.unfinished().length) {
      toast(t("Wait for the current reply to finish, or stop it first."));
      return;
    }
    const conversation = this.conversation;
    try {
      // Retry and regenerate use the model the picker shows now, so a reply can move on
      // from a model that failed (or cannot see the conversation's images).
      const settings = this.composer.replySettings();
      if (!settings) return;
      const { assistant_message: reply } = await reported(api.regenerate(messageId, settings));
      if (this.conversation !== conversation) return;
      this.transcript.add(reply);
      this.socket.track(reply.id, 0);
      this.layout();
      this.scroll.follow();
    } catch {
      // Reported.
    }
  }

  // Send an edited user turn: the conversation then shows the new branch, streaming.
  async edit(messageId, text) {
    if (this.unfinished().length) {
      toast(t("Wait for the current reply to finish, or stop it first."));
      return false;
    }
    const choice = this.composer.choice();
    if (choice === null) return false;
    const { attachments: _none, ...settings } = choice;
    try {
      await reported(api.edit(messageId, { content: text, ...settings }));
      await this.reload();
      return true;
    } catch {
      return false; // Reported; the edit box stays open with its text.
    }
  }

  async switchBranch(messageId) {
    try {
      await reported(api.selectVersion(messageId));
      await this.reload();
    } catch {
      // Reported.
    }
  }

  async reload() {
    const id = this.conversation?.id;
    const fresh = await api.conversation(id);
    if (this.conversation?.id === id) this.show(fresh, { keepChoices: true });
  }

  async switchVersion(messageId, step) {
    const target = this.transcript.sibling(messageId, step);
    if (!target) return;
    this.transcript.setActive(target);
    this.layout();
    this.views.get(target)?.root.querySelector(".versions button:not(:disabled)")?.focus();
    try {
      await reported(api.selectVersion(target));
    } catch {
      this.transcript.setActive(messageId);
      this.layout();
    }
  }
}
