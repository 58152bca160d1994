// Custom instructions: the open conversation's system prompt (a top-bar dialog), the
// user's default one (settings), and presets ("assistants") that start a new chat.

import { api, request } from "./api.js";
import { t } from "./i18n.js";
import { iconButton } from "./icons.js";
import { reported, toast } from "./toast.js";

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "testid") node.setAttribute("data-testid", value);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

// A modal <dialog> with a heading, fields and a Save button; `onSave()` → Promise<bool>.
function formDialog(title, fields, saveTestid, onSave) {
  const save = element(
    "button",
    { type: "submit", className: "btn btn-primary", testid: saveTestid },
    t("Save"),
  );
  const cancel = element("button", { type: "button", className: "btn" }, t("Cancel"));
  const form = element("form", { className: "instructions-form" }, ...fields);
  form.append(element("div", { className: "dialog-actions" }, cancel, save));
  const dialog = element("dialog", { className: "dialog" }, element("h2", {}, title), form);
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      if (await onSave()) dialog.close();
    } finally {
      save.disabled = false;
    }
  });
  document.body.append(dialog);
  return dialog;
}

function promptField(label, testid, placeholder) {
  const input = element("textarea", { rows: 6, maxLength: 8000, placeholder, testid });
  return [element("label", { className: "field" }, element("span", {}, label), input), input];
}

export class Instructions {
  // `view`: the ConversationView; `created(conversation)` puts a new chat in the list.
  constructor(view, { created }) {
    this.view = view;
    this.created = created;
    this.buildConversationDialog();
    this.buildSettingsDialog();
    this.buildPresets();
  }

  async start(body) {
    const conversation = await reported(request("POST", "/api/conversations/", body));
    this.created(conversation);
    this.view.show(conversation, { keepChoices: !body.preset });
    return conversation;
  }

  // --- the conversation's system prompt --------------------------------------------------

  buildConversationDialog() {
    const [field, input] = promptField(
      t("Instructions sent before every message of this chat (empty: none)"),
      "system-prompt",
      t("e.g. Answer in French, briefly."),
    );
    this.promptInput = input;
    const title = t("System prompt");
    this.promptDialog = formDialog(title, [field], "system-prompt-save", async () => {
      const text = input.value;
      try {
        const id = this.view.currentId;
        if (id) await reported(api.setSystemPrompt(id, text));
        else await this.start({ system_prompt: text });
        toast(t("System prompt saved."));
        return true;
      } catch {
        return false;
      }
    });
    const button = iconButton("bulb", title);
    button.dataset.testid = "conversation-settings";
    button.addEventListener("click", () => this.openConversationDialog());
    document.querySelector(".topbar-actions")?.prepend(button);
  }

  async openConversationDialog() {
    const id = this.view.currentId;
    try {
      const source = id ? await api.conversation(id) : await api.settings();
      this.promptInput.value = id ? source.system_prompt : source.default_system_prompt;
    } catch (error) {
      toast(error.message);
      return;
    }
    this.promptDialog.showModal();
    this.promptInput.focus();
  }

  // --- the user's settings ---------------------------------------------------------------

  buildSettingsDialog() {
    const [field, input] = promptField(
      t("Default system prompt of new chats (existing chats keep theirs)"),
      "default-system-prompt",
      t("e.g. You are a careful senior engineer."),
    );
    const dialog = formDialog(t("Settings"), [field], "settings-save", async () => {
      try {
        await reported(api.saveSettings({ default_system_prompt: input.value }));
        return true;
      } catch {
        return false;
      }
    });
    const button = iconButton("sliders", t("Settings"));
    button.dataset.testid = "settings-open";
    button.addEventListener("click", async () => {
      try {
        input.value = (await api.settings()).default_system_prompt;
      } catch (error) {
        toast(error.message);
        return;
      }
      dialog.showModal();
    });
    document.querySelector(".sidebar-foot .username")?.after(button);
  }

  // --- presets -------------------------------------------------------------------------

  buildPresets() {
    this.presetList = element("ul", { className: "preset-list", testid: "preset-list" });
    const add = iconButton("plus", t("Save the current model and a system prompt as an assistant"));
    add.dataset.testid = "preset-new";
    // Translators: the sidebar's list of saved presets (a model with a system prompt).
    const heading = element("h2", {}, t("Assistants"));
    const head = element("div", { className: "preset-head" }, heading, add);
    const section = element("section", { className: "presets" }, head, this.presetList);
    document.querySelector("[data-conversation-list]")?.before(section);
    const name = element("input", { maxLength: 80, required: true, testid: "preset-name" });
    const [field, prompt] = promptField(t("System prompt"), "preset-system-prompt", "");
    // Translators: the name of a new assistant (a saved model and system prompt).
    const nameLabel = element("span", {}, t("Name"));
    const nameField = element("label", { className: "field" }, nameLabel, name);
    const note = element("p", { className: "muted" });
    const dialog = formDialog(t("New assistant"), [nameField, field, note], "preset-save", () =>
      this.savePreset(name.value, prompt.value),
    );
    add.addEventListener("click", () => {
      const choice = this.view.composer.choice();
      if (choice === null) return;
      name.value = "";
      prompt.value = "";
      const model = this.view.modelLabel(choice.model);
      note.textContent = choice.enable_thinking
        ? t("Model: %(model)s, deep thinking on", { model })
        : t("Model: %(model)s", { model });
      dialog.showModal();
    });
    this.loadPresets();
  }

  async loadPresets() {
    try {
      this.renderPresets((await api.presets()).results);
    } catch {
      // The list stays empty; nothing else depends on it.
    }
  }

  renderPresets(presets) {
    this.presetList.replaceChildren(
      ...presets.map((preset) => {
        const open = element("button", { type: "button", className: "preset-open" }, preset.name);
        open.title = `${this.view.modelLabel(preset.model)}${preset.system_prompt ? ` · ${preset.system_prompt}` : ""}`;
        open.addEventListener("click", () => this.start({ preset: preset.id }).catch(() => {}));
        const remove = iconButton(
          "trash",
          t("Delete the assistant %(name)s", { name: preset.name }),
          {
            className: "icon-btn small",
          },
        );
        remove.addEventListener("click", async () => {
          await reported(api.deletePreset(preset.id)).catch(() => {});
          this.loadPresets();
        });
        return element("li", { className: "preset-item", testid: "preset-item" }, open, remove);
      }),
    );
  }

  async savePreset(name, systemPrompt) {
    const { attachments: _none, ...choice } = this.view.composer.choice() ?? {};
    if (!choice.model) return false;
    try {
      await reported(api.createPreset({ name, system_prompt: systemPrompt, ...choice }));
    } catch {
      return false;
    }
    await this.loadPresets();
    return true;
  }
}
