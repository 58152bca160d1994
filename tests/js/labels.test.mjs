// The thinking pane's summary and the numbers in labels read as before in English (no
// catalog: i18n.js falls back to the msgids): `node --test tests/js/labels.test.mjs`.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  formatInt,
  formatList,
  formatMegabytes,
  formatWholeSeconds,
} from "../../static/js/format.js";
import { thinkingLabel } from "../../static/js/thinking.js";

const live = { thinkStart: 0, answerStart: null, finished: false, finishedAt: null };

test("while thinking, the counter shows whole seconds", () => {
  const label = thinkingLabel({}, { ...live, isThinking: true }, 12_900);
  assert.equal(label, "Thinking… 12 s");
  assert.equal(thinkingLabel({}, { ...live, thinkStart: null, isThinking: true }), "Thinking…");
});

test("once done, the duration, the reasoning tokens, the budget and a stop", () => {
  const message = {
    status: "cancelled",
    content: "",
    thinking_budget: 2000,
    usage: { reasoning_tokens: 1532, estimated: true },
  };
  const done = { ...live, answerStart: 12_400, finished: true, isThinking: false };
  assert.equal(
    thinkingLabel(message, done),
    "Thought for 12.4 s · ~1,532 reasoning tokens of 2,000 budget · stopped",
  );
});

test("one reasoning token is singular", () => {
  const message = { status: "complete", content: "Hi", usage: { reasoning_tokens: 1 } };
  const done = { ...live, answerStart: 1000, finished: true, isThinking: false };
  assert.equal(thinkingLabel(message, done), "Thought for 1.0 s · 1 reasoning token");
});

test("format.js helpers for labels", () => {
  assert.equal(formatInt(1532, { approximate: true }), "~1,532");
  assert.equal(formatWholeSeconds(59_999), "59 s");
  assert.equal(formatMegabytes(10), "10 MB");
  assert.equal(formatList(["hybrid thinking", "vision"]), "hybrid thinking, vision");
});
