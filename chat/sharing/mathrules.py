"""LaTeX in shared answers: keep $…$, \\(…\\), $$…$$ and \\[…\\] away from markdown.

The same rules as the chat's ``static/js/math.js``: a formula is only math once closed,
an inline ``$`` needs no space just inside it and no digit after the closing one (so
"costs $5 and $10" stays prose). Each formula becomes ``<span class="math-tex">`` or
``<div class="math-tex">`` holding its escaped source; the share page's script draws it
with the vendored KaTeX.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

_OPENERS = (("$$", "$$", True), ("\\[", "\\]", True), ("\\(", "\\)", False), ("$", "$", False))
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True, slots=True)
class Formula:
    tex: str
    display: bool
    end: int


def _close_dollar(text: str, start: int) -> int:
    """Return the index past the "$" closing the one at ``start``, or -1."""
    first = text[start + 1 : start + 2]
    if not first or first.isspace() or first == "$":
        return -1
    at = start + 1
    while at < len(text):
        char = text[at]
        if char == "\n":
            return -1
        if char == "\\":
            at += 2
            continue
        after = text[at + 1 : at + 2]
        if char == "$" and not text[at - 1].isspace() and not after.isdigit():
            return at + 1
        at += 1
    return -1


def math_at(text: str, pos: int) -> Formula | None:
    """Return the closed formula starting exactly at ``pos``, or None."""
    for opener, closer, display in _OPENERS:
        if not text.startswith(opener, pos):
            continue
        if opener == "$":
            end = _close_dollar(text, pos)
            return None if end == -1 else Formula(text[pos + 1 : end - 1], display, end)
        closing = text.find(closer, pos + len(opener))
        if closing == -1:
            return None
        tex = text[pos + len(opener) : closing]
        if not tex.strip() or _BLANK_LINE.search(tex):
            return None
        return Formula(tex.strip(), display, closing + len(closer))
    return None


def _math_inline(state: StateInline, silent: bool) -> bool:
    char = state.src[state.pos]
    if char not in "$\\":
        return False
    found = math_at(state.src, state.pos)
    if found is None:
        if char != "\\" or state.src[state.pos + 1 : state.pos + 2] not in ("(", "["):
            return False
        if not silent:
            state.pending += state.src[state.pos : state.pos + 2]
        state.pos += 2
        return True
    if not silent:
        token = state.push("math", "span", 0)
        token.content = found.tex
        token.meta = {"display": found.display}
    state.pos = found.end
    return True


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    first = _line(state, start_line)
    pair = next(((o, c) for o, c, _ in _OPENERS[:2] if first.startswith(o)), None)
    if pair is None:
        return False
    opener, closer = pair
    body, last = first[len(opener) :], start_line
    closed = body.rstrip().endswith(closer) and len(body.strip()) >= len(closer)
    if closed:
        body = body.rstrip()[: -len(closer)]
        if closer in body or opener in body:
            return False
    else:
        for line in range(start_line + 1, end_line):
            if state.sCount[line] < state.blkIndent:
                return False
            text = _line(state, line).rstrip()
            if text.endswith(closer):
                body, last, closed = f"{body}\n{text[: -len(closer)]}", line, True
                break
            body += f"\n{text}"
    if not closed or not body.strip():
        return False
    if silent:
        return True
    token = state.push("math", "div", 0)
    token.block = True
    token.content = body.strip()
    token.meta = {"display": True}
    token.map = [start_line, last + 1]
    state.line = last + 1
    return True


def _render_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    kind = "math-display" if token.meta["display"] else "math-inline"
    newline = "\n" if token.block else ""
    return (
        f'<{token.tag} class="math-tex {kind}">{escapeHtml(token.content)}</{token.tag}>{newline}'
    )


def math_plugin(md: MarkdownIt) -> None:
    """Teach ``md`` the four math delimiters (``md.use(math_plugin)``)."""
    md.inline.ruler.before("escape", "math_inline", _math_inline)
    md.block.ruler.before(
        "paragraph", "math_block", _math_block,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )  # fmt: skip
    md.add_render_rule("math", _render_math)
