// Ponder's chat page: builds the conversation view and the router and connects them.

import { ConversationView } from "./conversation.js";
import { Instructions } from "./instructions.js";
import { Router } from "./router.js";

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
