// The delete dialog says what deleting really does: `node --test tests/js/delete_dialog.test.mjs`.

import assert from "node:assert/strict";
import { test } from "node:test";

import { deleteDialogText } from "../../static/js/deletion.js";

test("with retention on, it names the days and that admins keep it until then", () => {
  const text = deleteDialogText("Plans", 30);
  assert.match(text, /“Plans” disappears from your list at once/);
  assert.match(text, /Administrators can still review its messages for audits and spend/);
  assert.match(text, /removed for good by the retention policy 30 days after they were sent/);
  assert.doesNotMatch(text, /cannot be undone/);
});

test("with retention off, it says admins keep it until one of them removes it", () => {
  const text = deleteDialogText("Plans", null);
  assert.match(text, /kept until an administrator removes them/);
  assert.doesNotMatch(text, /retention policy/);
});
