"""Every string of static/js meant for people goes through t(), tn() or tp() (issue 17).

The modules are tokenized (comments and regex literals skipped; a template literal reads
with "{}" for each ${…}, and its expressions are tokenized in turn). A string literal
that reads like prose fails the test unless it is:
- the msgid of t(), the singular or plural of tn(), or the context or msgid of tp();
- used as data by its place: compared (===, !==, case), a subscript or object key,
  tested with includes/has/startsWith/endsWith, or a module path;
- one of the shapes of machine text: identifiers, kebab-case, dotted keys, paths, URLs,
  query strings, MIME types, CSS selectors (over HTML tag names), class lists (lower-case
  names, one of them a class of static/css, kebab-case or built with ${…}), media
  queries, HTTP header names and methods, markup (only the text between tags counts);
- on a line with (or right under a line holding only) `// i18n-ignore: <reason>`;
- in ALLOWED below, each with its reason.

Prose is any other literal with a letter in it. A lower-case single word counts as an
identifier, so the modules never show one alone: "%(summary)s · stopped", not "stopped".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "static" / "js").glob("*.js"))

# Literals that read like prose but are not UI text, each with why.
ALLOWED = {
    "noopener noreferrer": "the rel keywords of a link the sanitizer opens in a new tab",
    "USD": "the ISO 4217 code Intl formats money in when the server names no currency",
}

TRANSLATION_CALLS = {"t": 1, "tn": 2, "tp": 2}  # function -> how many leading literals it marks
REGEX_AFTER_NAME = {
    "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case",
    "do", "else", "yield", "await",
}  # fmt: skip
PUNCTUATORS = sorted(
    """>>>= ... === !== **= <<= >>= >>> => == != <= >= && || ?? ?. ++ -- += -= *= /= %= &= |=
    ^= ** << >> { } ( ) [ ] ; , < > + - * / % & | ^ ! ~ ? : = . @ #""".split(),
    key=len,
    reverse=True,
)
COMPARISONS = {"===", "!==", "==", "!="}
MEMBERSHIP_METHODS = {"includes", "has", "startsWith", "endsWith"}
IGNORE = re.compile(r"//\s*i18n-ignore:\s*(\S.*)")

HTML_TAGS = set(
    """a abbr article aside b body br button canvas code dd details dialog div dl dt em
    fieldset figure footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe img input
    label legend li link main mark meta nav ol optgroup option p pre script section select
    small span strong style summary svg table tbody td template textarea tfoot th thead tr
    ul""".split()
)
CSS_CLASSES = {
    name
    for sheet in (ROOT / "static" / "css").glob("*.css")
    for name in re.findall(
        r"\.(-?[A-Za-z_][\w-]*)", re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)
    )
}
MACHINE_TEXT = [
    re.compile(r"(?:[a-z_$]|\{\})(?:[\w$.:-]|\{\})*"),  # identifier, kebab-case, dotted key
    re.compile(r"(?![A-Z])\S*/\S*"),  # path, URL, MIME type
    re.compile(r"\?[\w{}=&%.-]*"),  # query string
    re.compile(r"\([a-z-]+:[^()]*\)"),  # media query
    re.compile(r"[A-Z][A-Za-z]*(?:-[A-Z][A-Za-z]*)+"),  # HTTP header name
    re.compile(r"GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS"),  # HTTP method
]
COMPOUND_SELECTOR = re.compile(
    r"(?P<tag>[a-z][a-z0-9]*|\*)?"
    r"(?:[.#][\w-]+|\[[\w-]+(?:[*^$|~]?=(?:\"[^\"]*\"|'[^']*'|[^\]]*))?\]|::?[\w-]+(?:\([^)]*\))?)*"
)
TAG = re.compile(r"</?(?:[A-Za-z]|\{\})[^<>]*>")


@dataclass
class Token:
    kind: str  # name, number, punct, string, template, regex
    text: str  # a string's value; a template's text with {} for each ${…}
    line: int
    parts: list[list[Token]] = field(default_factory=list)  # a template's ${…} tokens

    @property
    def is_literal(self) -> bool:
        return self.kind in {"string", "template"}


class Lexer:
    """Just enough of a JavaScript tokenizer to find string literals and their neighbours."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0

    def line(self) -> int:
        return self.src.count("\n", 0, self.pos) + 1

    def tokens(self, *, until_brace: bool = False) -> list[Token]:
        out: list[Token] = []
        depth = 0
        while self.pos < len(self.src):
            char, rest = self.src[self.pos], self.src[self.pos : self.pos + 2]
            if char.isspace():
                self.pos += 1
            elif rest == "//":
                end = self.src.find("\n", self.pos)
                self.pos = len(self.src) if end == -1 else end
            elif rest == "/*":
                self.pos = self.src.index("*/", self.pos + 2) + 2
            elif char in "'\"":
                out.append(self.string(char))
            elif char == "`":
                out.append(self.template())
            elif char == "/" and self.regex_may_start(out):
                out.append(self.regex())
            elif char.isalpha() or char in "_$":
                match = re.compile(r"[\w$]+").match(self.src, self.pos)
                out.append(Token("name", match.group(), self.line()))
                self.pos = match.end()
            elif char.isdigit() or (
                char == "." and self.src[self.pos + 1 : self.pos + 2].isdigit()
            ):
                match = re.compile(r"[\w.]+").match(self.src, self.pos)
                out.append(Token("number", match.group(), self.line()))
                self.pos = match.end()
            else:
                punct = next(p for p in PUNCTUATORS if self.src.startswith(p, self.pos))
                if until_brace and punct == "}" and depth == 0:
                    self.pos += 1
                    return out
                depth += {"{": 1, "}": -1}.get(punct, 0)
                out.append(Token("punct", punct, self.line()))
                self.pos += len(punct)
        return out

    @staticmethod
    def regex_may_start(before: list[Token]) -> bool:
        if not before:
            return True
        last = before[-1]
        if last.kind == "name":
            return last.text in REGEX_AFTER_NAME
        return last.kind == "punct" and last.text not in {")", "]", "}"}

    def string(self, quote: str) -> Token:
        line, start = self.line(), self.pos + 1
        self.pos = start
        while self.src[self.pos] != quote:
            self.pos += 2 if self.src[self.pos] == "\\" else 1
        self.pos += 1
        return Token("string", unescape(self.src[start : self.pos - 1]), line)

    def template(self) -> Token:
        token = Token("template", "", self.line())
        self.pos += 1
        text = []
        while self.src[self.pos] != "`":
            if self.src[self.pos] == "\\":
                text.append(self.src[self.pos : self.pos + 2])
                self.pos += 2
            elif self.src.startswith("${", self.pos):
                self.pos += 2
                token.parts.append(self.tokens(until_brace=True))
                text.append("{}")
            else:
                text.append(self.src[self.pos])
                self.pos += 1
        self.pos += 1
        token.text = unescape("".join(text))
        return token

    def regex(self) -> Token:
        line, start = self.line(), self.pos
        self.pos += 1
        in_class = False
        while in_class or self.src[self.pos] != "/":
            char = self.src[self.pos]
            if char == "\\":
                self.pos += 1
            elif char in "[]":
                in_class = char == "["
            self.pos += 1
        self.pos += 1
        while self.pos < len(self.src) and self.src[self.pos].isalpha():
            self.pos += 1
        return Token("regex", self.src[start : self.pos], line)


def unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:].strip("{}"), 16))
        return {"n": "\n", "t": "\t", "r": "\r"}.get(code, code)

    return re.sub(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", one, text, flags=re.S)


def is_selector(text: str) -> bool:
    if not re.search(r"[\[\].#:>,*]", text) or text.lower() != text:
        return False
    for compound in re.split(r"\s*,\s*|\s*[>+~]\s*|\s+", text):
        match = COMPOUND_SELECTOR.fullmatch(compound)
        if not compound or not match or (match["tag"] and match["tag"] not in HTML_TAGS | {"*"}):
            return False
    return True


def is_class_list(text: str) -> bool:
    """Lower-case names, one of them a class of static/css, kebab-case or built with ${…}."""
    names = text.split()
    if not all(re.fullmatch(r"(?:[a-z_]|\{\})(?:[\w-]|\{\})*", name) for name in names):
        return False
    return any(
        name in CSS_CLASSES or "-" in name or ("{}" in name and name != "{}") for name in names
    )


def reads_like_prose(text: str) -> bool:
    text = TAG.sub(" ", text).strip()  # in markup, only the text between tags can be prose
    if not any(char.isalpha() for char in text):
        return False
    if any(shape.fullmatch(text) for shape in MACHINE_TEXT):
        return False
    return not (is_selector(text) or is_class_list(text))


def _at(tokens: list[Token], index: int) -> Token | None:
    return tokens[index] if 0 <= index < len(tokens) else None


def _is(token: Token | None, kind: str, *texts: str) -> bool:
    return token is not None and token.kind == kind and (not texts or token.text in texts)


def translation_call_at(tokens: list[Token], index: int) -> str | None:
    """The name of the t/tn/tp call whose `(` is at `index`, if it is one (not a definition)."""
    name = _at(tokens, index - 1)
    if not _is(tokens[index], "punct", "(") or not _is(name, "name", *TRANSLATION_CALLS):
        return None
    before = _at(tokens, index - 2)
    if _is(before, "punct", ".", "?.") or _is(before, "name", "function"):
        return None
    return name.text


def is_marked(tokens: list[Token], index: int) -> bool:
    """Whether the literal at `index` is a msgid (or plural, or context) of a t/tn/tp call."""
    for position in range(2):  # the literal is the call's first or second argument
        opening = index - 1 - 2 * position
        if opening < 0 or translation_call_at(tokens, opening) is None:
            continue
        name = tokens[opening - 1].text
        arguments_between = tokens[opening + 1 : index]
        if position < TRANSLATION_CALLS[name] and all(
            token.kind == "string" if i % 2 == 0 else _is(token, "punct", ",")
            for i, token in enumerate(arguments_between)
        ):
            return True
    return False


def is_data_by_place(tokens: list[Token], index: int) -> bool:
    before, after = _at(tokens, index - 1), _at(tokens, index + 1)
    if _is(before, "punct", *COMPARISONS) or _is(after, "punct", *COMPARISONS):
        return True
    if _is(before, "name", "case", "from", "import"):
        return True
    if _is(before, "punct", "[") and _is(after, "punct", "]"):
        owner = _at(tokens, index - 2)
        if owner is not None and (owner.kind == "name" or owner.text in {")", "]"}):
            return True  # obj["key"]
    if _is(before, "punct", "{", ",") and _is(after, "punct", ":"):
        return True  # { "key": value }
    method = _at(tokens, index - 2)
    return _is(before, "punct", "(") and _is(method, "name", *MEMBERSHIP_METHODS)


@dataclass(frozen=True)
class Finding:
    line: int
    text: str


def walk(tokens: list[Token]):
    """Each literal with the token list it sits in and its index there."""
    for index, token in enumerate(tokens):
        if token.is_literal:
            yield tokens, index
        for part in token.parts:
            yield from walk(part)


def ignored_lines(source: str) -> set[int]:
    lines = source.splitlines()
    ignored = set()
    for number, text in enumerate(lines, start=1):
        if IGNORE.search(text):
            ignored.add(number)
            if text.strip().startswith("//"):
                ignored.add(number + 1)
    return ignored


def unmarked_prose(source: str) -> list[Finding]:
    ignored = ignored_lines(source)
    found = []
    for tokens, index in walk(Lexer(source).tokens()):
        token = tokens[index]
        if (
            reads_like_prose(token.text)
            and not is_marked(tokens, index)
            and not is_data_by_place(tokens, index)
            and token.line not in ignored
            and token.text not in ALLOWED
        ):
            found.append(Finding(token.line, token.text))
    return found


def non_literal_msgids(source: str) -> list[Finding]:
    """t/tn/tp calls whose msgids xgettext cannot read (anything but plain string literals)."""
    found = []

    def check(tokens: list[Token]) -> None:
        for index, token in enumerate(tokens):
            for part in token.parts:
                check(part)
            name = translation_call_at(tokens, index)
            if name is None:
                continue
            for position in range(TRANSLATION_CALLS[name]):
                argument = _at(tokens, index + 1 + 2 * position)
                separator = _at(tokens, index + 2 + 2 * position)
                if not _is(argument, "string") or not _is(separator, "punct", ",", ")"):
                    found.append(Finding(token.line, f"{name}(…) argument {position + 1}"))

    check(Lexer(source).tokens())
    return found


def _report(path: Path, findings: list[Finding]) -> str:
    return "\n".join(f"{path.name}:{f.line}: {f.text!r}" for f in findings)


# --- the modules ---------------------------------------------------------------------


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_every_string_meant_for_people_is_marked_for_translation(path):
    findings = unmarked_prose(path.read_text(encoding="utf-8"))
    assert not findings, (
        "Mark these with t()/tn()/tp() from ./i18n.js, or say why they are not UI text "
        f"(`// i18n-ignore: <reason>`):\n{_report(path, findings)}"
    )


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_translation_calls_take_plain_string_literals(path):
    findings = non_literal_msgids(path.read_text(encoding="utf-8"))
    assert not findings, (
        "xgettext extracts only plain string literals (no template literals, no variables):\n"
        f"{_report(path, findings)}"
    )


def test_every_allowed_literal_still_occurs():
    sources = "\n".join(path.read_text(encoding="utf-8") for path in MODULES)
    for literal in ALLOWED:
        assert f'"{literal}"' in sources, f"{literal!r} is no longer used: drop it from ALLOWED"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_every_i18n_ignore_gives_a_reason(path):
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if "i18n-ignore" in text:
            assert IGNORE.search(text), f"{path.name}:{number}: say why after `i18n-ignore:`"


# --- the rules themselves --------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        'button.textContent = "Save";',
        "label.textContent = 'Copied';",
        'toast("Chat deleted.", { kind: "info" });',
        "node.title = `${name} can't read images`;",
        'x = `${open ? `Hide ${n}` : t("Show")}`;',
        'input.setAttribute("aria-label", "New title");',
        'a = { hybrid: "Hybrid thinking" };',
        'lines.push("with reasoning");',
        't(label); x = "Retry";',
        'tn("%(count)s view", "%(count)s views", n, "Also this");',
        'obj.t("Not ours");',
    ],
)
def test_prose_outside_a_translation_call_is_found(source):
    assert unmarked_prose(source)


@pytest.mark.parametrize(
    "source",
    [
        't("Save"); tn("%(count)s view", "%(count)s views", n); tp("verb", "Share");',
        'label = t("Thought for %(duration)s", { duration: format(ms) });',
        '// A comment with "Prose in it".\n/* and "more" */ x = 1;',
        'if (event.key === "Enter" || "Escape" !== key) go();',
        'node.querySelector("[data-testid=share-url]").classList.add("is-done");',
        'x = [...types].includes("Files"); y = headers["X-CSRFToken"];',
        'el.className = "btn btn-primary btn-small"; rel = `icon-btn ${big}`;',
        'request("GET", `/api/conversations/${id}/`); mime = "image/png";',
        "s = text.replace(/Hello world, it's me/g, '');",
        'm = window.matchMedia("(max-width: 860px)"); q = "input, textarea, select";',
        'x = "Nothing to see"; // i18n-ignore: a test of the escape hatch',
        'svg = `<svg class="${c}" viewBox="0 0 24 24">${PATHS[name]}</svg>`;',
    ],
)
def test_machine_text_and_marked_strings_pass(source):
    assert unmarked_prose(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "t(`Thought for ${s}`);",
        "t(label);",
        'tn("%(count)s view", plural, n);',
        'tp(ctx, "Share");',
    ],
)
def test_a_msgid_that_is_not_a_plain_literal_is_found(source):
    assert non_literal_msgids(source)
