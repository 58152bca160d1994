// The thinking pane: a <details> that is open while the model reasons, with a live
// "Thinking… 12 s" counter, then closes to "Thought for 12.4 s · 1,532 reasoning tokens".

import { formatInt, formatSeconds, formatWholeSeconds, parseTime } from "./format.js";
import { t, tn } from "./i18n.js";
import { icon } from "./icons.js";
import { patchMathText } from "./math.js";

export class ThinkingPane {
  constructor() {
    this.details = document.createElement("details");
    this.details.className = "thinking";
    this.details.dataset.testid = "thinking";
    this.summary = document.createElement("summary");
    this.label = document.createElement("span");
    this.label.className = "thinking-label";
    const mark = document.createElement("span");
    mark.className = "thinking-mark";
    mark.append(icon("bulb"));
    this.summary.append(mark, this.label, icon("chevronDown", "icon thinking-chevron"));
    this.body = document.createElement("div");
    this.body.className = "thinking-body";
    this.text = "";
    this.inner = document.createElement("div");
    this.inner.className = "thinking-text";
    this.body.append(this.inner);
    this.details.append(this.summary, this.body);
    this.userToggled = false;
    this.summary.addEventListener("click", () => {
      this.userToggled = true;
    });
  }

  append(text) {
    const body = this.body;
    const atBottom = body.scrollTop + body.clientHeight >= body.scrollHeight - 8;
    this.setText(this.text + text);
    if (atBottom) body.scrollTop = body.scrollHeight;
  }

  // The reasoning as text, its math typeset (only the last paragraph redrawn).
  setText(text) {
    if (text === this.text && this.inner.childElementCount > 0) return;
    this.text = text;
    patchMathText(this.inner, text);
  }

  // Open while reasoning streams, closed once the answer starts — unless the user chose.
  setPhase(isThinking) {
    this.details.classList.toggle("is-live", isThinking);
    if (!this.userToggled) this.details.open = isThinking;
  }

  setLabel(text) {
    if (this.label.textContent !== text) this.label.textContent = text;
  }
}

// How long the model reasoned, in ms, from server timings when known, else from what
// this page saw (`live.thinkStart`, `live.answerStart`, client clock).
export function thinkingMs(message, live, now = Date.now()) {
  const timings = message.timings ?? {};
  const first = parseTime(timings.first_token_at);
  const answer = parseTime(timings.answer_started_at);
  if (first !== null && answer !== null) return answer - first;
  const start = live.thinkStart ?? first;
  if (start === null) return null;
  if (live.answerStart !== null) return live.answerStart - start;
  const completed = parseTime(timings.completed_at);
  if (live.finished) return (completed ?? live.finishedAt ?? now) - start;
  return now - start;
}

// The pane's summary: "Thinking… 12 s", then "Thought for 12.4 s · 1,532 reasoning tokens".
export function thinkingLabel(message, live, now = Date.now()) {
  const elapsed = thinkingMs(message, live, now);
  if (live.isThinking) {
    return elapsed === null
      ? t("Thinking…")
      : t("Thinking… %(duration)s", { duration: formatWholeSeconds(elapsed) });
  }
  const parts = [];
  if (elapsed === null) {
    // Translators: the summary of a finished reasoning whose duration is unknown.
    parts.push(t("Thought"));
  } else {
    parts.push(t("Thought for %(duration)s", { duration: formatSeconds(elapsed) }));
  }
  const usage = message.usage ?? {};
  if (live.finished && usage.reasoning_tokens > 0) parts.push(reasoningTokens(message, usage));
  const summary = parts.join(" · ");
  if (live.finished && !message.content && message.status === "cancelled") {
    // Translators: the user stopped the reply while it thought; summary: "Thought for 12.4 s".
    return t("%(summary)s · stopped", { summary });
  }
  return summary;
}

function reasoningTokens(message, usage) {
  const tokens = usage.reasoning_tokens;
  const count = formatInt(tokens, { approximate: usage.estimated });
  if (!message.thinking_budget) {
    return tn("%(count)s reasoning token", "%(count)s reasoning tokens", tokens, { count });
  }
  return tn(
    "%(count)s reasoning token of %(budget)s budget",
    "%(count)s reasoning tokens of %(budget)s budget",
    tokens,
    { count, budget: formatInt(message.thinking_budget) },
  );
}
