// Custom instructions: the open conversation's system prompt (a top-bar dialog), the
// user's default one (settings), and presets ("assistants") that start a new chat.

import { api, request } from "./api.js";
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
    "Save",
  );
  const cancel = element("button", { type: "button", className: "btn" }, "Cancel");
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
      "Instructions sent before every message of this chat (empty: none)",
      "system-prompt",
      "e.g. Answer in French, briefly.",
    );
    this.promptInput = input;
    this.promptDialog = formDialog("System prompt", [field], "system-prompt-save", async () => {
      const text = input.value;
      try {
        const id = this.view.currentId;
        if (id) await reported(api.setSystemPrompt(id, text));
        else await this.start({ system_prompt: text });
        toast("System prompt saved.");
        return true;
      } catch {
        return false;
      }
    });
    const button = iconButton("bulb", "System prompt");
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
      "Default system prompt of new chats (existing chats keep theirs)",
      "default-system-prompt",
      "e.g. You are a careful senior engineer.",
    );
    const dialog = formDialog("Settings", [field], "settings-save", async () => {
      try {
        await reported(api.saveSettings({ default_system_prompt: input.value }));
        return true;
      } catch {
        return false;
      }
    });
    const button = iconButton("sliders", "Settings");
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
    const add = iconButton("plus", "Save the current model and a system prompt as an assistant");
    add.dataset.testid = "preset-new";
    const head = element("div", { className: "preset-head" }, element("h2", {}, "Assistants"), add);
    const section = element("section", { className: "presets" }, head, this.presetList);
    document.querySelector("[data-conversation-list]")?.before(section);
    const name = element("input", { maxLength: 80, required: true, testid: "preset-name" });
    const [field, prompt] = promptField("System prompt", "preset-system-prompt", "");
    const nameField = element("label", { className: "field" }, element("span", {}, "Name"), name);
    const note = element("p", { className: "muted" });
    const dialog = formDialog("New assistant", [nameField, field, note], "preset-save", () =>
      this.savePreset(name.value, prompt.value),
    );
    add.addEventListener("click", () => {
      const choice = this.view.composer.choice();
      if (choice === null) return;
      name.value = "";
      prompt.value = "";
      note.textContent = `Model: ${this.view.modelLabel(choice.model)}${choice.enable_thinking ? ", deep thinking on" : ""}`;
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
        const remove = iconButton("trash", `Delete the assistant ${preset.name}`, {
          className: "icon-btn small",
        });
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
