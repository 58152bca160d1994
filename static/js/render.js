// Model text → sanitized DOM. markdown-it (html: false) writes the HTML, DOMPurify
// cleans it anyway, highlight.js colours code, KaTeX draws math (math.js), Mermaid
// draws finished ```mermaid blocks (diagrams.js); task lists get checkboxes. Answers are patched block by block so
// a streaming answer re-renders without flicker and finished blocks stay untouched.

import { copyText } from "./clipboard.js";
import { addDiagram } from "./diagrams.js";
import { t } from "./i18n.js";
import { flashIcon, iconButton } from "./icons.js";
import { mathPlugin, typeset } from "./math.js";
import { addCheckboxes, taskListPlugin } from "./tasklists.js";

const SAFE_HREF = /^(?:https?:|mailto:|#|\/(?!\/)|\.{0,2}\/)/i;

const md = window.markdownit({
  html: false,
  linkify: true,
  breaks: false,
  typographer: false,
  highlight(code, lang) {
    const language = (lang || "").trim().split(/\s+/)[0];
    if (language && window.hljs?.getLanguage(language)) {
      try {
        return window.hljs.highlight(code, { language, ignoreIllegals: true }).value;
      } catch {
        return "";
      }
    }
    return "";
  },
});

md.use(mathPlugin).use(taskListPlugin);

// A ```mermaid fence is drawn only once its closing fence has arrived.
const CLOSING_FENCE = /^(`{3,}|~{3,})\s*$/;
md.core.ruler.after("block", "closed_diagrams", (state) => {
  let lines = null;
  for (const token of state.tokens) {
    if (token.type !== "fence" || token.info.trim().split(/\s+/)[0] !== "mermaid") continue;
    lines ??= state.src.split("\n");
    const [first, end] = token.map ?? [0, 0];
    const last = (lines[end - 1] ?? "").trim();
    if (end - 1 > first && CLOSING_FENCE.test(last) && last[0] === token.markup[0]) {
      token.attrJoin("class", "diagram-source");
    }
  }
});

// Table alignment arrives as style="text-align:…", which the sanitizer drops; say it
// with a class instead.
md.core.ruler.push("align_classes", (state) => {
  for (const token of state.tokens) {
    if (token.type !== "th_open" && token.type !== "td_open") continue;
    const align = /^text-align:(left|right|center)$/.exec(token.attrGet("style") ?? "");
    if (!align) continue;
    token.attrs = token.attrs.filter(([name]) => name !== "style");
    token.attrJoin("class", `align-${align[1]}`);
  }
});

window.DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href");
    if (href !== null && !SAFE_HREF.test(href.trim())) node.removeAttribute("href");
    if (node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  }
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "option", "iframe"],
  FORBID_ATTR: ["style", "id", "name"],
  RETURN_DOM_FRAGMENT: true,
};

export function markdownFragment(text) {
  return window.DOMPurify.sanitize(md.render(text), PURIFY);
}

// The sanitized source of each top-level block, to tell which blocks changed.
const blockSource = new WeakMap();

function sourceOf(node) {
  return node.nodeType === Node.ELEMENT_NODE ? node.outerHTML : node.textContent;
}

// Re-render `container` from markdown `text`, replacing only the blocks that changed.
export function patchMarkdown(container, text) {
  const fresh = [...markdownFragment(text).childNodes].filter(
    (node) => node.nodeType === Node.ELEMENT_NODE || node.textContent.trim() !== "",
  );
  const old = [...container.childNodes];
  let same = 0;
  while (
    same < fresh.length &&
    same < old.length &&
    blockSource.get(old[same]) === sourceOf(fresh[same])
  ) {
    same += 1;
  }
  for (const node of old.slice(same)) node.remove();
  for (const node of fresh.slice(same)) {
    const source = sourceOf(node);
    const shown = enhance(node);
    blockSource.set(shown, source);
    container.append(shown);
  }
}

export function renderMarkdown(container, text) {
  container.replaceChildren();
  patchMarkdown(container, text);
}

// Typeset math, add checkboxes, code-block headers and table scrollers; return the node to show in place of `node`.
function enhance(node) {
  if (node.nodeType !== Node.ELEMENT_NODE) return node;
  typeset(node);
  addCheckboxes(node);
  if (node.matches("pre")) return decorateCodeBlock(node);
  if (node.matches("table")) return wrapTable(node);
  for (const pre of node.querySelectorAll("pre")) decorateCodeBlock(pre);
  for (const table of node.querySelectorAll("table")) wrapTable(table);
  return node;
}

function wrapTable(table) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  table.parentNode?.replaceChild(wrap, table);
  wrap.append(table);
  return wrap;
}

// Return `pre` inside a block with the language name and a copy button. Both show
// no text of their own (CSS and an icon), so the answer's text stays the model's.
function decorateCodeBlock(pre) {
  const code = pre.querySelector("code");
  const language = [...(code?.classList ?? [])]
    .find((name) => name.startsWith("language-"))
    ?.slice("language-".length);
  if (code) code.classList.add("hljs");
  const head = document.createElement("div");
  head.className = "code-head";
  const label = document.createElement("span");
  label.className = "code-lang";
  label.dataset.lang = language || "text";
  const button = iconButton("copy", t("Copy code"), { className: "code-copy" });
  button.addEventListener("click", async () => {
    flashIcon(button, await copyText(code ? code.textContent : pre.textContent));
  });
  head.append(label, button);
  const wrap = document.createElement("div");
  wrap.className = "code-block";
  pre.parentNode?.replaceChild(wrap, pre);
  wrap.append(head, pre);
  if (code?.classList.contains("diagram-source")) addDiagram(wrap, code.textContent);
  return wrap;
}
