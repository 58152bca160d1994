// With a catalog loaded (as /jsi18n/ defines window.django), every part of a label comes
// from it, and placeholders are filled after translation: `node --test tests/js/catalog.test.mjs`.

import assert from "node:assert/strict";
import { test } from "node:test";

// A stand-in catalog that marks what it translated: «msgid».
globalThis.django = {
  gettext: (msgid) => `«${msgid}»`,
  ngettext: (singular, plural, count) => `«${count === 1 ? singular : plural}»`,
  pgettext: (context, msgid) => `«${context}|${msgid}»`,
};
const { thinkingLabel } = await import("../../static/js/thinking.js");
const { deleteDialogText } = await import("../../static/js/deletion.js");
const { badges } = await import("../../static/js/picker.js");

test("the thinking summary is translated part by part, numbers filled in", () => {
  const message = { status: "complete", content: "Hi", usage: { reasoning_tokens: 3 } };
  const live = { thinkStart: 0, answerStart: 2000, finished: true, isThinking: false };
  assert.equal(thinkingLabel(message, live), "«Thought for «2.0 s»» · «3 reasoning tokens»");
});

test("the delete dialog is one translated paragraph, plural by the days", () => {
  const text = deleteDialogText("Plans", 1);
  assert.match(text, /^«“Plans” disappears .* policy 1 day after they were sent, .*»$/);
});

test("model badges are translated in their own context", () => {
  const list = badges({ thinking: "always", vision: true });
  assert.deepEqual(list, [
    { key: "thinking", label: "«model badge|Thinking»" },
    { key: "vision", label: "«model badge|Vision»" },
  ]);
});
