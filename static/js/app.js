// Ponder's chat page: builds the conversation view and the router and connects them.

import { ConversationView } from "./conversation.js";
import { registerServiceWorker } from "./install.js";
import { Instructions } from "./instructions.js";
import { bindLanguageSwitch } from "./language.js";
import { Router } from "./router.js";
import { bindShortcuts } from "./shortcuts.js";
import { bindThemeSwitch } from "./theme.js";

const initial = JSON.parse(document.getElementById("conversation-data").textContent);

let router = null;
const view = new ConversationView({
  opened: (id) => router.opened(id),
  created: (conversation) => router.created(conversation),
  replyFinished: () => router.refreshQuota(),
  listChanged: (id) => router.refreshList(id),
});
router = new Router(document.querySelector("[data-sidebar]"), view, initial.conversations, {
  retentionDays: initial.retention_days,
});

new Instructions(view, { created: (conversation) => router.created(conversation) });

view.show(initial.conversation);
view.loadModels();
router.refreshQuota();
view.startClock();
bindShortcuts(view);
bindThemeSwitch(document.querySelector("[data-testid=theme-select]"));
bindLanguageSwitch(document.querySelector("[data-testid=language-select]"));
registerServiceWorker();
// Ready to type; on a phone the keyboard would cover the page, so not there.
if (!window.matchMedia("(max-width: 860px)").matches) view.focus();
