// The composer: message box (Enter sends, Shift+Enter adds a line), model picker,
// deep-thinking switch and thinking budget, images for vision models, and the send
// button that becomes stop.

import { Attachments } from "./attachments.js";
import { formatList } from "./format.js";
import { locale, t, tp } from "./i18n.js";
import { ModelPicker } from "./picker.js";

const LAST_CHOICE_KEY = "ponder.lastChoice";
const DEFAULT_MODEL = "qwen-plus";

function thinkingKind(thinking) {
  if (thinking === "hybrid") return { key: "hybrid-thinking", label: t("Hybrid thinking") };
  if (thinking === "always") return { key: "thinking-only", label: t("Thinking only") };
  if (thinking === "none") return { key: "no-thinking", label: t("No thinking") };
  return { key: thinking, label: thinking };
}

// What a model can do, as {key (for CSS), label}.
export function modelKind(model) {
  const kinds = [thinkingKind(model.thinking)];
  if (model.vision) kinds.push({ key: "vision", label: tp("model badge", "Vision") });
  return kinds;
}

export class Composer {
  constructor(form, { onSend, onStop, onError }) {
    this.form = form;
    this.onSend = onSend;
    this.onStop = onStop;
    this.onError = onError;
    this.attachments = new Attachments(form, { onChange: () => this.refresh(), onError });
    this.input = form.querySelector("[data-testid=composer]");
    this.sendButton = form.querySelector("[data-testid=send]");
    this.stopButton = form.querySelector("[data-testid=stop]");
    this.select = form.querySelector("[data-model-select]");
    this.picker = new ModelPicker(form.querySelector("[data-model-picker]"), this.select);
    this.kind = form.querySelector("[data-model-kind]");
    this.thinkingControl = form.querySelector("[data-thinking-control]");
    this.toggle = form.querySelector("[data-thinking-toggle]");
    this.budgetControl = form.querySelector("[data-budget-control]");
    this.budget = form.querySelector("[data-thinking-budget]");
    this.models = new Map();
    this.thinkingPref = null; // the user's own choice for hybrid models
    this.streaming = false;
    this.busy = false;
    this.bind();
  }

  bind() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.refresh());
    this.stopButton.addEventListener("click", () => this.onStop());
    this.select.addEventListener("change", () => this.refresh());
    this.toggle.addEventListener("change", () => {
      this.thinkingPref = this.toggle.checked;
      this.refresh();
    });
    this.budget.addEventListener("input", () => this.refresh());
  }

  submit() {
    if (!this.canSend()) return;
    const choice = this.choice();
    if (choice === null) return;
    this.onSend(this.input.value, choice);
  }

  canSend() {
    return (
      !this.streaming &&
      !this.busy &&
      !this.attachments.isUploading &&
      this.input.value.trim() !== "" &&
      this.model() !== null
    );
  }

  setModels(models) {
    this.models = new Map(models.map((model) => [model.id, model]));
    const previous = this.select.value;
    const groups = new Map();
    for (const model of models) {
      if (!groups.has(model.family)) groups.set(model.family, []);
      groups.get(model.family).push(model);
    }
    const nodes = [];
    for (const [family, list] of groups) {
      const group = document.createElement("optgroup");
      group.label = family;
      for (const model of list) {
        const option = document.createElement("option");
        option.value = model.id;
        const kinds = modelKind(model).map(({ label }) => label.toLocaleLowerCase(locale()));
        // Translators: a model in the model list, then what it can do ("hybrid thinking, vision").
        option.textContent = t("%(model)s — %(kinds)s", {
          model: model.label,
          kinds: formatList(kinds),
        });
        option.dataset.label = model.label;
        group.append(option);
      }
      nodes.push(group);
    }
    this.select.replaceChildren(...nodes);
    this.picker.setModels(models);
    this.select.value = this.models.has(previous) ? previous : this.defaultModelId();
    this.refresh();
  }

  defaultModelId() {
    const last = this.lastChoice();
    if (last && this.models.has(last.model)) return last.model;
    if (this.models.has(DEFAULT_MODEL)) return DEFAULT_MODEL;
    return this.models.keys().next().value ?? "";
  }

  lastChoice() {
    try {
      return JSON.parse(window.localStorage.getItem(LAST_CHOICE_KEY) ?? "null");
    } catch {
      return null;
    }
  }

  remember(choice) {
    this.picker.noteUsed(choice.model);
    try {
      window.localStorage.setItem(LAST_CHOICE_KEY, JSON.stringify(choice));
    } catch {
      // Private mode: choices simply do not carry over to new conversations.
    }
  }

  // Show a conversation's sticky choices; `null` settings mean a new conversation.
  applySettings(settings) {
    const source = settings?.model ? settings : this.lastChoice();
    if (source?.model && this.models.has(source.model)) this.select.value = source.model;
    else if (this.models.size) this.select.value = this.defaultModelId();
    this.thinkingPref = source?.enable_thinking ?? null;
    this.budget.value = source?.thinking_budget ?? "";
    this.refresh();
  }

  model() {
    return this.models.get(this.select.value) ?? null;
  }

  thinkingEnabled(model) {
    if (model.thinking === "always") return true;
    if (model.thinking === "none") return false;
    return this.thinkingPref ?? model.thinking_default;
  }

  // The API fields of the current choice, or null (and a reported error) when invalid.
  choice() {
    const model = this.model();
    if (!model) return null;
    const body = { model: model.id };
    if (this.attachments.count) {
      if (!model.vision) {
        this.onError(
          t("%(model)s can't read images: pick a vision model or remove them.", {
            model: model.label,
          }),
        );
        return null;
      }
      body.attachments = this.attachments.ids();
    }
    const settings = this.replySettings();
    return settings && { ...body, ...settings };
  }

  // The model and thinking fields alone (for a regenerate), or null when invalid.
  replySettings() {
    const model = this.model();
    if (!model) return null;
    const body = { model: model.id };
    if (model.thinking !== "none") body.enable_thinking = this.thinkingEnabled(model);
    if (model.supports_budget && body.enable_thinking && this.budget.value.trim() !== "") {
      const budget = Number(this.budget.value);
      if (!Number.isInteger(budget) || budget < 1) {
        this.budget.setCustomValidity(t("Enter a whole number of tokens, at least 1."));
        this.budget.reportValidity();
        return null;
      }
      body.thinking_budget = budget;
    }
    return body;
  }

  // Say when the chosen model cannot see the images already in this conversation.
  setHistoryImages(hasImages) {
    this.historyImages = hasImages;
    this.refresh();
  }

  renderVisionNotice(model) {
    const notice = this.form.querySelector("[data-testid=vision-notice]");
    const show = Boolean(this.historyImages && model && !model.vision);
    notice.hidden = !show;
    notice.textContent = show
      ? t(
          // Translators: “[image]” is what the model is sent instead of each image: keep it as is.
          "%(model)s can't see images: the images in this chat are left out and sent as “[image]”. Pick a vision model to include them.",
          { model: model.label },
        )
      : "";
  }

  refresh() {
    const model = this.model();
    if (model) {
      const thinking = this.thinkingEnabled(model);
      this.picker.sync();
      this.renderVisionNotice(model);
      this.attachments.setModel(model);
      this.kind.replaceChildren(
        ...modelKind(model).map(({ key, label }) => {
          const chip = document.createElement("span");
          chip.className = `chip chip-${key}`;
          chip.textContent = label;
          return chip;
        }),
      );
      this.thinkingControl.hidden = model.thinking === "none";
      this.toggle.checked = thinking;
      this.toggle.disabled = model.thinking === "always";
      this.thinkingControl.title =
        model.thinking === "always"
          ? t("%(model)s always thinks", { model: model.label })
          : t("Deep thinking");
      this.budgetControl.hidden = !(model.supports_budget && thinking);
      if (model.max_budget) this.budget.max = String(model.max_budget);
      else this.budget.removeAttribute("max");
    }
    this.budget.setCustomValidity("");
    this.sendButton.disabled = !this.canSend();
    this.sendButton.hidden = this.streaming;
    this.stopButton.hidden = !this.streaming;
    this.autosize();
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, window.innerHeight * 0.4)}px`;
  }

  setStreaming(streaming) {
    if (this.streaming === streaming) return;
    const hadFocus = document.activeElement === this.stopButton;
    this.streaming = streaming;
    this.refresh();
    if (hadFocus && !streaming) this.input.focus();
  }

  setBusy(busy) {
    this.busy = busy;
    this.refresh();
  }

  setText(text) {
    this.input.value = text;
    this.refresh();
  }

  clear() {
    this.attachments.clear();
    this.setText("");
  }

  focus() {
    this.input.focus();
  }
}
