// Server-rendered pages (the public share page, admin transcripts): typeset the math the server left as
// LaTeX source, colour code blocks, and typeset math in plain-text reasoning.
// Without this script the page still reads, as source.

import { patchMathText, typeset } from "./math.js";

for (const answer of document.querySelectorAll(".markdown")) typeset(answer);

for (const code of document.querySelectorAll(".markdown pre code[class*='language-']")) {
  const language = [...code.classList].find((name) => name.startsWith("language-")).slice(9);
  if (!window.hljs?.getLanguage(language)) continue;
  window.hljs.highlightElement(code);
}

for (const text of document.querySelectorAll("[data-math-text]")) {
  const source = text.textContent;
  text.replaceChildren();
  patchMathText(text, source);
}
