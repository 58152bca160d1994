// Download a conversation as Markdown (reasoning in a collapsible block) or JSON,
// built in the browser from the conversation JSON of the API.

import { t } from "./i18n.js";
import { statusLabel } from "./statuses.js";

function slug(title) {
  const base = (title || "conversation")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return base.slice(0, 60) || "conversation";
}

function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// The messages on screen: each user turn followed by its active reply version.
export function activeMessages(messages) {
  const active = new Set(
    messages.filter((m) => m.role === "assistant" && m.is_active_version).map((m) => m.id),
  );
  return messages.filter((m) => m.role === "user" || active.has(m.id));
}

export function toMarkdown(conversation, modelLabel) {
  const lines = [`# ${conversation.title || t("Conversation")}`, ""];
  for (const m of activeMessages(conversation.messages)) {
    if (m.role === "user") {
      // Translators: the heading over the user's messages in a Markdown export.
      lines.push(`## ${t("You")}`, "", m.content, "");
      continue;
    }
    lines.push(`## ${modelLabel(m.model)}`, "");
    if (m.reasoning) {
      // Translators: the heading of the model's reasoning in a Markdown export.
      const summary = `<summary>${t("Thinking")}</summary>`;
      lines.push("<details>", summary, "", m.reasoning, "", "</details>", "");
    }
    const status = statusLabel(m.status);
    // Translators: in a Markdown export, a reply without text; status is e.g. "failed".
    lines.push(m.content || `_${t("(%(status)s, no answer)", { status })}_`, "");
  }
  return lines.join("\n");
}

export function exportMarkdown(conversation, modelLabel) {
  download(`${slug(conversation.title)}.md`, toMarkdown(conversation, modelLabel), "text/markdown");
}

export function exportJson(conversation) {
  download(
    `${slug(conversation.title)}.json`,
    `${JSON.stringify(conversation, null, 2)}\n`,
    "application/json",
  );
}
