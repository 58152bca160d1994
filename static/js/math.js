// LaTeX in model text: find $…$, \(…\), $$…$$ and \[…\], keep it away from markdown, and
// typeset it with the vendored KaTeX (window.katex). A formula is only math once it is
// closed, so a half-streamed one stays plain text; "costs $5 and $10" stays prose.
//
// The markdown side writes each formula as <span class="math-tex"> holding the escaped
// source; `typeset` later draws it with katex.render, which styles through the DOM
// (allowed by the CSP's style-src) rather than with style attributes.

const OPENERS = [
  { open: "$$", close: "$$", display: true },
  { open: "\\[", close: "\\]", display: true },
  { open: "\\(", close: "\\)", display: false },
  { open: "$", close: "$", display: false },
];

const SPACE = /\s/;

// Return the end of a closing single "$" for an opening one at `start`, or -1. Pandoc's
// rule: no space just inside either dollar, no digit right after the closing one, and
// no line break inside.
function closeDollar(text, start) {
  const first = text[start + 1];
  if (first === undefined || SPACE.test(first) || first === "$") return -1;
  for (let at = start + 1; at < text.length; at += 1) {
    const char = text[at];
    if (char === "\n") return -1;
    if (char === "\\") {
      at += 1;
      continue;
    }
    if (char !== "$") continue;
    if (SPACE.test(text[at - 1]) || /[0-9]/.test(text[at + 1] ?? "")) continue;
    return at + 1;
  }
  return -1;
}

// Return the formula that starts exactly at `pos`, or null:
// { tex, display, end } where `end` is the index just past its closing delimiter.
export function mathAt(text, pos) {
  for (const { open, close, display } of OPENERS) {
    if (!text.startsWith(open, pos)) continue;
    if (open === "$") {
      const end = closeDollar(text, pos);
      return end === -1 ? null : { tex: text.slice(pos + 1, end - 1), display, end };
    }
    const closing = text.indexOf(close, pos + open.length);
    if (closing === -1) return null;
    const tex = text.slice(pos + open.length, closing);
    if (tex.trim() === "" || /\n[ \t]*\n/.test(tex)) return null;
    return { tex: tex.trim(), display, end: closing + close.length };
  }
  return null;
}

// Split plain text into [{ text } | { tex, display }] parts, in order.
export function splitMath(text) {
  const parts = [];
  let plain = "";
  let pos = 0;
  while (pos < text.length) {
    const char = text[pos];
    if (char === "\\" && text[pos + 1] === "$") {
      plain += "\\$";
      pos += 2;
      continue;
    }
    const found = char === "$" || char === "\\" ? mathAt(text, pos) : null;
    if (found === null) {
      plain += char;
      pos += 1;
      continue;
    }
    if (plain) parts.push({ text: plain });
    plain = "";
    parts.push({ tex: found.tex, display: found.display });
    pos = found.end;
  }
  if (plain) parts.push({ text: plain });
  return parts;
}

function mathToken(state, tex, display, tag) {
  const token = state.push("math", tag, 0);
  token.content = tex;
  token.meta = { display };
  return token;
}

// markdown-it rule: a formula inside a paragraph. Runs before "escape", so \( and \[
// reach it; an unclosed one shows its backslash instead of losing it to the escape.
function mathInline(state, silent) {
  const { src, pos } = state;
  const char = src[pos];
  if (char !== "$" && char !== "\\") return false;
  const found = mathAt(src, pos);
  if (found === null) {
    if (char !== "\\" || !"([".includes(src[pos + 1])) return false;
    if (!silent) state.pending += src.slice(pos, pos + 2);
    state.pos += 2;
    return true;
  }
  if (!silent) mathToken(state, found.tex, found.display, "span");
  state.pos = found.end;
  return true;
}

// markdown-it rule: a display formula opening a line ($$ or \[), closed on the same or
// a later line. Unclosed, it is not a block, and the paragraph shows it as typed.
function mathBlock(state, startLine, endLine, silent) {
  const start = state.bMarks[startLine] + state.tShift[startLine];
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;
  const line = state.src.slice(start, state.eMarks[startLine]);
  const opener = line.startsWith("$$")
    ? ["$$", "$$"]
    : line.startsWith("\\[")
      ? ["\\[", "\\]"]
      : null;
  if (opener === null) return false;
  const [open, close] = opener;
  let last = startLine;
  let body = line.slice(open.length);
  let closed = body.trimEnd().endsWith(close) && body.trim().length >= close.length;
  if (closed) {
    body = body.trimEnd().slice(0, -close.length);
    if (body.includes(close) || body.includes(open)) return false; // "$$a$$ and $$b$$"
  } else {
    for (let next = startLine + 1; next < endLine; next += 1) {
      const text = state.src.slice(state.bMarks[next] + state.tShift[next], state.eMarks[next]);
      if (state.sCount[next] < state.blkIndent) return false;
      if (text.trimEnd().endsWith(close)) {
        body += `\n${text.trimEnd().slice(0, -close.length)}`;
        last = next;
        closed = true;
        break;
      }
      body += `\n${text}`;
    }
  }
  if (!closed || body.trim() === "") return false;
  if (silent) return true;
  const token = state.push("math", "div", 0);
  token.block = true;
  token.content = body.trim();
  token.meta = { display: true };
  token.map = [startLine, last + 1];
  state.line = last + 1;
  return true;
}

function renderMath(tokens, index) {
  const token = tokens[index];
  const tag = token.block ? "div" : "span";
  const kind = token.meta.display ? "math-display" : "math-inline";
  return `<${tag} class="math-tex ${kind}">${escapeHtml(token.content)}</${tag}>${token.block ? "\n" : ""}`;
}

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

// The markdown-it plugin: md.use(mathPlugin).
export function mathPlugin(md) {
  md.inline.ruler.before("escape", "math_inline", mathInline);
  md.block.ruler.before("paragraph", "math_block", mathBlock, {
    alt: ["paragraph", "reference", "blockquote", "list"],
  });
  md.renderer.rules.math = renderMath;
}

// Draw every untypeset .math-tex inside `root` (or `root` itself) with KaTeX.
export function typeset(root) {
  const katex = window.katex;
  if (!katex) return;
  const found = root.matches?.(".math-tex") ? [root] : [];
  for (const node of [...found, ...root.querySelectorAll(".math-tex")]) {
    if (node.dataset.tex !== undefined) continue;
    const tex = node.textContent;
    node.dataset.tex = tex;
    try {
      katex.render(tex, node, {
        displayMode: node.classList.contains("math-display"),
        throwOnError: false,
        trust: false,
        strict: "ignore",
        maxExpand: 500,
      });
    } catch {
      node.textContent = tex; // KaTeX failed outright: the source, as written
    }
  }
}

// Plain text with math (reasoning, admin transcripts) → nodes: text stays text.
export function mathTextNodes(text) {
  return splitMath(text).map((part) => {
    if (part.text !== undefined) return document.createTextNode(part.text);
    const node = document.createElement("span");
    node.className = `math-tex ${part.display ? "math-display" : "math-inline"}`;
    node.textContent = part.tex;
    typeset(node);
    return node;
  });
}

// What each container shows, chunk by chunk (paragraphs), to redraw only the tail.
const shownChunks = new WeakMap();

// Show plain `text` in `container` with its math typeset; as text grows while
// streaming, finished paragraphs are left alone and only the last one is redrawn.
export function patchMathText(container, text) {
  const chunks = text.split(/(?<=\n[ \t]*\n)/);
  const old = shownChunks.get(container) ?? [];
  const nodes = [...container.children];
  let same = 0;
  while (same < chunks.length && same < old.length && old[same] === chunks[same]) same += 1;
  for (const node of nodes.slice(same)) node.remove();
  for (const chunk of chunks.slice(same)) {
    const span = document.createElement("span");
    span.className = "math-text-chunk";
    span.append(...mathTextNodes(chunk));
    container.append(span);
  }
  shownChunks.set(container, chunks);
}
