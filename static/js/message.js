// One message on screen. Assistant messages follow their stream: reasoning goes to
// the thinking pane as plain text, the answer is re-rendered as markdown at most
// every RENDER_INTERVAL_MS, in an animation frame.

import { copyText } from "./clipboard.js";
import { editButton, versionSwitcher } from "./editing.js";
import { formatCost, formatDateTime, formatInt, formatSeconds, parseTime } from "./format.js";
import { t, tn } from "./i18n.js";
import { flashIcon, icon, iconButton } from "./icons.js";
import { patchMarkdown } from "./render.js";
import { FINISHED } from "./statuses.js";
import { ThinkingPane, thinkingLabel } from "./thinking.js";

const RENDER_INTERVAL_MS = 60;

// Shown instead of a message whose text the retention policy removed (usage and cost stay).
function purgedText() {
  return t("Removed by the retention policy");
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function copyButton(getText, label) {
  const button = iconButton("copy", label);
  button.addEventListener("click", async () => flashIcon(button, await copyText(getText())));
  return button;
}

export class UserMessageView {
  // `hooks`: onEdit(view, text) → Promise<bool>, onVersion(view, id) (branches).
  constructor(message, hooks) {
    this.message = message;
    this.root = element("article", "message user");
    this.root.dataset.testid = "message";
    this.root.dataset.role = "user";
    this.root.dataset.status = message.status;
    this.root.dataset.messageId = message.id;
    this.root.setAttribute("aria-label", t("You said"));
    const bubble = message.purged
      ? element("div", "bubble purged-note", purgedText())
      : element("div", "bubble", message.content);
    const actions = element("div", "message-actions");
    actions.append(copyButton(() => this.message.content, t("Copy message")));
    if (hooks && !message.purged && !message.attachments?.length) {
      actions.append(editButton(this, (text) => hooks.onEdit(this, text)));
    }
    const body = element("div", "user-body");
    const images = attachmentStrip(message.attachments ?? []);
    if (images) body.append(images);
    body.append(bubble);
    if (hooks) body.append(versionSwitcher(message, (id) => hooks.onVersion(this, id)));
    this.root.append(actions, body);
  }
}

// Thumbnails of a message's images, each a link to the full picture (owner-only URLs).
function attachmentStrip(attachments) {
  if (!attachments.length) return null;
  const strip = element("div", "attachments");
  for (const [index, attachment] of attachments.entries()) {
    const link = element("a", "attachment");
    link.href = attachment.url;
    link.target = "_blank";
    link.rel = "noopener";
    const image = element("img");
    image.src = attachment.url;
    image.alt = t("Attached image %(number)s", { number: formatInt(index + 1) });
    image.loading = "lazy";
    if (attachment.width && attachment.height) {
      image.width = attachment.width;
      image.height = attachment.height;
    }
    link.append(image);
    strip.append(link);
  }
  return strip;
}

export class AssistantMessageView {
  // `hooks`: modelLabel(id), onRegenerate(view), onVersion(view, step), onChange(view).
  constructor(message, hooks) {
    this.message = message;
    this.hooks = hooks;
    const finished = FINISHED.has(message.status);
    if (!finished) {
      // Its text arrives again from seq 1: show nothing of the stored snapshot.
      message.reasoning = "";
      message.content = "";
    }
    this.live = {
      thinkStart: null,
      answerStart: null,
      finished,
      finishedAt: null,
      isThinking: false,
    };
    if (!finished) {
      this.live.thinkStart = parseTime(message.timings?.first_token_at);
      this.live.answerStart = parseTime(message.timings?.answer_started_at);
    }
    this.build();
    this.renderAll();
  }

  build() {
    const m = this.message;
    this.root = element("article", "message assistant");
    this.root.dataset.testid = "message";
    this.root.dataset.role = "assistant";
    this.root.dataset.messageId = m.id;
    this.root.setAttribute(
      "aria-label",
      t("%(model)s replied", { model: this.hooks.modelLabel(m.model) }),
    );
    const head = element("div", "message-head");
    const avatar = element("span", "assistant-avatar");
    avatar.setAttribute("aria-hidden", "true");
    this.modelName = element("span", "model-name", this.hooks.modelLabel(m.model));
    head.append(avatar, this.modelName);
    this.thinkingSlot = element("div", "thinking-slot");
    this.typing = element("div", "typing");
    this.typing.setAttribute("aria-hidden", "true"); // the announcer speaks the states
    this.typing.append(element("span"), element("span"), element("span"));
    this.answer = element("div", "answer markdown");
    this.answer.dataset.testid = "answer";
    this.notice = element("div", "notice");
    this.notice.hidden = true;
    this.footer = this.buildFooter();
    this.root.append(head, this.thinkingSlot, this.typing, this.answer, this.notice, this.footer);
  }

  buildFooter() {
    const footer = element("footer", "message-foot");
    this.versions = element("div", "versions");
    this.versions.hidden = true;
    this.prevButton = iconButton("chevronLeft", t("Previous version"), {
      className: "icon-btn small",
    });
    this.nextButton = iconButton("chevronRight", t("Next version"), {
      className: "icon-btn small",
    });
    this.versionLabel = element("span", "version-label");
    this.prevButton.addEventListener("click", () => this.hooks.onVersion(this, -1));
    this.nextButton.addEventListener("click", () => this.hooks.onVersion(this, 1));
    this.versions.append(this.prevButton, this.versionLabel, this.nextButton);
    this.actions = element("div", "message-actions");
    this.copyButton = copyButton(() => this.message.content, t("Copy answer"));
    this.regenerateButton = iconButton("regenerate", t("Regenerate this reply"));
    this.regenerateButton.addEventListener("click", () => this.hooks.onRegenerate(this));
    this.actions.append(this.copyButton, this.regenerateButton);
    this.statusBadge = element("span", "status-badge");
    this.statusBadge.hidden = true;
    this.meta = element("span", "message-meta");
    footer.append(this.versions, this.actions, this.statusBadge, this.meta);
    return footer;
  }

  get id() {
    return this.message.id;
  }

  get isFinished() {
    return this.live.finished;
  }

  setVersions(index, count) {
    this.versions.hidden = count < 2;
    this.versionLabel.textContent = `${formatInt(index + 1)} / ${formatInt(count)}`;
    this.versionLabel.setAttribute(
      "aria-label",
      t("Version %(number)s of %(count)s", {
        number: formatInt(index + 1),
        count: formatInt(count),
      }),
    );
    this.prevButton.disabled = index === 0;
    this.nextButton.disabled = index === count - 1;
  }

  // --- stream events -------------------------------------------------------------------

  apply(event) {
    if (event.type === "delta") this.applyDelta(event);
    else if (event.type === "status") this.applyStatus(event);
    else if (event.type === "snapshot") this.applySnapshot(event);
  }

  applyDelta({ reasoning, content }) {
    const m = this.message;
    if (m.status === "pending") m.status = "streaming";
    const now = Date.now();
    if (reasoning) {
      if (this.live.thinkStart === null) this.live.thinkStart = now;
      const pane = this.ensurePane(); // before the text grows: a new pane starts from it
      m.reasoning += reasoning;
      pane.append(reasoning);
    }
    if (content) {
      if (this.live.answerStart === null) this.live.answerStart = now;
      m.content += content;
      this.scheduleAnswer();
    }
    this.renderState();
  }

  applyStatus(event) {
    const m = this.message;
    m.status = event.status;
    if (!FINISHED.has(event.status)) {
      this.renderState();
      return;
    }
    m.finish_reason = event.finish_reason ?? m.finish_reason;
    m.usage = event.usage ?? m.usage;
    m.error = event.error ?? null;
    m.cost = event.cost ?? null;
    if (event.timings) m.timings = { ...m.timings, ...event.timings };
    this.live.finished = true;
    this.live.finishedAt = Date.now();
    this.renderAnswerNow();
    this.renderState();
  }

  // The server could not replay the stream and sent the whole message as of its seq:
  // it replaces what this page has; later deltas add to it.
  applySnapshot(event) {
    const m = this.message;
    const now = Date.now();
    m.reasoning = event.reasoning ?? "";
    m.content = event.content ?? "";
    if (m.reasoning && this.live.thinkStart === null) this.live.thinkStart = now;
    if (m.content && this.live.answerStart === null) this.live.answerStart = now;
    if (this.pane) this.pane.setText(m.reasoning);
    else if (m.reasoning) this.ensurePane();
    if (FINISHED.has(event.status)) {
      this.applyStatus(event); // ends it as a status event would
      return;
    }
    if (event.status) m.status = event.status;
    this.renderAnswerNow();
    this.renderState();
  }

  // --- rendering -------------------------------------------------------------------------

  ensurePane() {
    if (!this.pane) {
      this.pane = new ThinkingPane();
      this.pane.setText(this.message.reasoning);
      this.thinkingSlot.append(this.pane.details);
    }
    return this.pane;
  }

  scheduleAnswer() {
    if (this.renderTimer !== undefined) return;
    const wait = Math.max(0, RENDER_INTERVAL_MS - (performance.now() - (this.lastRender ?? 0)));
    this.renderTimer = window.setTimeout(() => {
      window.requestAnimationFrame(() => {
        this.renderTimer = undefined;
        this.renderAnswerNow();
      });
    }, wait);
  }

  renderAnswerNow() {
    if (this.renderTimer !== undefined) {
      window.clearTimeout(this.renderTimer);
      this.renderTimer = undefined;
    }
    this.lastRender = performance.now();
    if (this.renderedContent === this.message.content) return;
    this.renderedContent = this.message.content;
    patchMarkdown(this.answer, this.message.content);
    this.hooks.onChange(this);
  }

  renderAll() {
    if (this.message.reasoning) this.ensurePane();
    this.renderAnswerNow();
    this.renderState();
  }

  // Status, thinking phase, notices and footer from the current message state.
  renderState() {
    const m = this.message;
    const live = this.live;
    this.root.dataset.status = m.status;
    live.isThinking = !live.finished && !m.content && Boolean(m.reasoning);
    this.typing.hidden = live.finished || Boolean(m.reasoning) || Boolean(m.content);
    this.root.classList.toggle("is-streaming", !live.finished);
    if (this.pane) {
      this.pane.setPhase(live.isThinking);
      this.tick();
    }
    this.renderNotice();
    this.renderFooter();
    this.hooks.onChange(this);
  }

  // Refresh the live counter; the app calls this a few times a second.
  tick(now = Date.now()) {
    if (this.pane) this.pane.setLabel(thinkingLabel(this.message, this.live, now));
  }

  renderNotice() {
    const m = this.message;
    const notice = this.notice;
    notice.replaceChildren();
    notice.className = "notice";
    let text = "";
    let action = null;
    if (m.purged) {
      notice.classList.add("notice-info", "purged-note");
      text = purgedText();
    } else if (m.status === "failed") {
      notice.classList.add("notice-failed");
      text = m.error?.message || t("The reply failed.");
      action = this.retryLabel();
    } else if (m.status === "interrupted") {
      notice.classList.add("notice-interrupted");
      text = m.error?.message || t("This reply was interrupted. The text so far is kept.");
      action = this.regenerateLabel();
    } else if (m.status === "complete" && m.finish_reason === "length") {
      notice.classList.add("notice-info");
      text = t("The reply stopped at the model's output limit.");
    }
    notice.hidden = !text;
    if (!text) return;
    notice.append(icon("alert"), element("span", "notice-text", text));
    if (action) {
      const button = element("button", "btn btn-small", action);
      button.type = "button";
      button.addEventListener("click", () => this.hooks.onRegenerate(this));
      notice.append(button);
    }
  }

  // The model a retry or regenerate would use now, when the picker names another one.
  otherPickedModel() {
    const picked = this.hooks.pickedModel?.();
    return picked && picked !== this.message.model ? this.hooks.modelLabel(picked) : null;
  }

  // "Retry", or "Retry with Qwen-Plus" when the picker now names another model.
  retryLabel() {
    const model = this.otherPickedModel();
    return model ? t("Retry with %(model)s", { model }) : t("Retry");
  }

  regenerateLabel() {
    const model = this.otherPickedModel();
    return model ? t("Regenerate with %(model)s", { model }) : t("Regenerate");
  }

  // The picker changed: retry and regenerate now use its model.
  refreshActions() {
    if (!this.live.finished) return;
    this.renderNotice();
    const label = this.regenerateLabel();
    this.regenerateButton.setAttribute("aria-label", label);
    this.regenerateButton.title = label;
  }

  renderFooter() {
    const m = this.message;
    const finished = this.live.finished;
    this.footer.classList.toggle("is-finished", finished);
    this.actions.hidden = !finished;
    this.regenerateButton.disabled = !finished;
    this.regenerateButton.hidden = Boolean(m.purged); // its question is gone too
    this.copyButton.hidden = !m.content;
    this.statusBadge.hidden = m.status !== "cancelled";
    // Translators: a badge on a reply the user stopped.
    this.statusBadge.textContent = m.status === "cancelled" ? t("Stopped") : "";
    const { text, title } = finished ? describeUsage(m, this.hooks.modelLabel(m.model)) : {};
    this.meta.textContent = text ?? "";
    if (title) this.meta.title = title;
    else this.meta.removeAttribute("title");
  }
}

// The footer's short line and its tooltip with every number.
function describeUsage(m, modelLabel) {
  const u = m.usage ?? {};
  const timings = m.timings ?? {};
  const created = parseTime(timings.created_at);
  const completed = parseTime(timings.completed_at);
  const firstToken = parseTime(timings.first_token_at);
  const parts = [];
  if (u.output_tokens) {
    const count = formatInt(u.output_tokens, { approximate: u.estimated });
    parts.push(tn("%(count)s token", "%(count)s tokens", u.output_tokens, { count }));
  }
  // A reply that failed before its first token took no time worth showing ("0.0 s").
  const ran = m.status !== "failed" || firstToken !== null;
  if (ran && created !== null && completed !== null) parts.push(formatSeconds(completed - created));
  const cost = formatCost(m.cost, m.cost_currency);
  if (cost) parts.push(cost);
  const lines = [t("Model: %(model)s", { model: modelLabel }), ...tokenLines(u)];
  if (firstToken !== null && created !== null) {
    lines.push(
      t("First token after %(duration)s", { duration: formatSeconds(firstToken - created) }),
    );
  }
  if (ran && completed !== null && created !== null) {
    lines.push(t("Total time %(duration)s", { duration: formatSeconds(completed - created) }));
  }
  lines.push(cost ? t("Cost: %(cost)s", { cost }) : t("Cost: not priced"));
  if (timings.created_at) lines.push(formatDateTime(timings.created_at));
  return { text: parts.join(" · "), title: lines.join("\n") };
}

// The tooltip's token counts: input (cached), output (reasoning), total (estimated?).
function tokenLines(u) {
  return [
    u.cached_tokens
      ? t("Input tokens: %(count)s (%(cached)s cached)", {
          count: formatInt(u.input_tokens),
          cached: formatInt(u.cached_tokens),
        })
      : t("Input tokens: %(count)s", { count: formatInt(u.input_tokens) }),
    u.reasoning_tokens
      ? t("Output tokens: %(count)s (%(reasoning)s reasoning)", {
          count: formatInt(u.output_tokens),
          reasoning: formatInt(u.reasoning_tokens),
        })
      : t("Output tokens: %(count)s", { count: formatInt(u.output_tokens) }),
    u.estimated
      ? t("Total tokens: %(count)s (estimated)", { count: formatInt(u.total_tokens) })
      : t("Total tokens: %(count)s", { count: formatInt(u.total_tokens) }),
  ];
}
