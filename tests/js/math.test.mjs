// The math tokenizer and the markdown-it math and task-list rules (KaTeX itself is not
// run here: `typeset` needs a DOM): `node --test tests/js/math.test.mjs`.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import vm from "node:vm";

import { mathPlugin, splitMath } from "../../static/js/math.js";
import { taskListPlugin } from "../../static/js/tasklists.js";

// The vendored UMD build, run as the page runs it: it defines a global.
const vendored = new URL("../../static/vendor/markdown-it-14.3.3.min.js", import.meta.url);
const sandbox = {};
vm.runInNewContext(readFileSync(vendored, "utf8"), sandbox);
const markdownit = sandbox.markdownit;
const md = markdownit({ html: false }).use(mathPlugin).use(taskListPlugin);

test("the four delimiters are math, inline and display", () => {
  assert.deepEqual(splitMath("a $x^2$ b \\(y\\) c $$z$$ d \\[w\\]"), [
    { text: "a " },
    { tex: "x^2", display: false },
    { text: " b " },
    { tex: "y", display: false },
    { text: " c " },
    { tex: "z", display: true },
    { text: " d " },
    { tex: "w", display: true },
  ]);
});

test("dollar amounts in prose stay prose", () => {
  for (const text of ["costs $5 and $10", "between $ 3 and 4 $", "$5, $6", "a $x\ny$ b"]) {
    assert.deepEqual(splitMath(text), [{ text }], text);
  }
  assert.deepEqual(splitMath("\\$x$"), [{ text: "\\$x$" }]);
});

test("an unclosed formula is text until it closes", () => {
  assert.deepEqual(splitMath("so $$x^2"), [{ text: "so $$x^2" }]);
  assert.deepEqual(splitMath("so \\[x^2"), [{ text: "so \\[x^2" }]);
  assert.deepEqual(splitMath("so $x^2"), [{ text: "so $x^2" }]);
});

test("markdown keeps its hands off a formula", () => {
  const html = md.render("Here $a_1 * b_1 * c$ and \\(x_i\\).");
  assert.match(html, /<span class="math-tex math-inline">a_1 \* b_1 \* c<\/span>/);
  assert.match(html, /<span class="math-tex math-inline">x_i<\/span>/);
  assert.doesNotMatch(html, /<em>/);
});

test("display blocks span lines; an unclosed one is a paragraph", () => {
  const html = md.render("$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\nafter");
  assert.match(
    html,
    /<div class="math-tex math-display">\\int_0\^1 x\^2\\,dx = \\frac\{1\}\{3\}<\/div>/,
  );
  const open = md.render("before\n\n$$\n\\int_0^1 x^2");
  assert.doesNotMatch(open, /math-tex/);
  assert.match(open, /<p>\$\$\n\\int_0\^1 x\^2<\/p>/);
  assert.match(md.render("\\[ x < y \\]"), /<div class="math-tex math-display">x &#60; y<\/div>/);
  assert.match(md.render("\\[x"), /<p>\\\[x<\/p>/);
});

test("code is never math", () => {
  const html = md.render("`$x$`\n\n```\n$$y$$\n```");
  assert.doesNotMatch(html, /math-tex/);
});

test("task list items are marked", () => {
  const html = md.render("- [ ] todo\n- [x] done\n- [y] neither");
  assert.match(html, /<li class="task-list-item" data-checked="false">todo<\/li>/);
  assert.match(html, /<li class="task-list-item" data-checked="true">done<\/li>/);
  assert.match(html, /<li>\[y\] neither<\/li>/);
});
