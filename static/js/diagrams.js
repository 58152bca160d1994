// Mermaid diagrams from finished ```mermaid blocks, drawn by the vendored Mermaid at its
// "strict" security level (labels sanitized, no scripts, no clicks). Mermaid (5 MB) is
// loaded the first time a diagram appears; a toggle switches between diagram and code.

import { t } from "./i18n.js";

let loading = null;
let counter = 0;

function loadMermaid() {
  if (window.mermaid) return Promise.resolve(window.mermaid);
  if (loading) return loading;
  const src = document.querySelector("meta[name=ponder-mermaid]")?.content;
  loading = new Promise((resolve, reject) => {
    if (!src) {
      // i18n-ignore: never shown (the block keeps showing its code)
      reject(new Error("Mermaid is not available on this page."));
      return;
    }
    const script = document.createElement("script");
    script.src = src;
    script.addEventListener("load", () => {
      const dark =
        document.documentElement.dataset.theme === "dark" ||
        window.matchMedia?.("(prefers-color-scheme: dark)").matches;
      window.mermaid.initialize({
        startOnLoad: false,
        securityLevel: "strict",
        suppressErrorRendering: true,
        theme: dark ? "dark" : "default",
      });
      resolve(window.mermaid);
    });
    script.addEventListener("error", () => {
      loading = null;
      // i18n-ignore: never shown (the block keeps showing its code)
      reject(new Error("Mermaid did not load."));
    });
    document.head.append(script);
  });
  return loading;
}

function toggleButton(label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "diagram-toggle";
  button.dataset.testid = "diagram-toggle";
  button.textContent = label;
  return button;
}

// Turn a decorated ```mermaid block (`block` = .code-block holding the <pre>) into a
// diagram with a "Code"/"Diagram" toggle. Until Mermaid has drawn it, the code shows.
export function addDiagram(block, source) {
  const view = document.createElement("div");
  view.className = "diagram";
  view.dataset.testid = "diagram";
  view.hidden = true;
  // Translators: a button over a diagram that shows its source code instead.
  const toggle = toggleButton(t("Code"));
  toggle.hidden = true;
  block.querySelector(".code-lang")?.after(toggle);
  block.append(view);
  block.classList.add("has-diagram");
  toggle.addEventListener("click", () => {
    const showCode = !block.classList.contains("show-code");
    block.classList.toggle("show-code", showCode);
    view.hidden = showCode;
    // Translators: "Diagram" shows the drawing again, "Code" its source.
    toggle.textContent = showCode ? t("Diagram") : t("Code");
    toggle.setAttribute("aria-pressed", String(showCode));
  });
  counter += 1;
  const id = `ponder-mermaid-${counter}`;
  loadMermaid()
    .then((mermaid) => mermaid.render(id, source))
    .then(({ svg }) => {
      view.innerHTML = svg; // strict level: Mermaid has sanitized the labels
      view.hidden = false;
      toggle.hidden = false;
      block.classList.add("show-diagram");
    })
    .catch(() => {
      document.getElementById(id)?.remove();
      block.classList.add("diagram-failed"); // the code stays, as written
    });
}
