"""Every word a template shows is marked for translation.

Each template is split with Django's own template Lexer. Text outside
``{% blocktranslate %}`` (tags, variables and comments are set aside) is read as HTML:
what a person would see, or hear through a screen reader, must hold no word, once
``<script>``/``<style>`` bodies, HTML comments and entities are gone. The same goes for
the literal part of the human attributes (``aria-label``, ``title``, ``placeholder``,
``alt``… and the ``value`` of a button-like ``<input>``), and for words given to the
``default`` filter (``|default:"New chat"`` is written ``|default:_("New chat")``).

Only the brand, the names printed on keyboard keys, "UTC" and language codes may stay
as they are; a block whose name ends in "class" fills a class attribute (``body_class``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# The brand, keys as printed on keyboards and the name of the time standard: the same in
# every language we offer.
ALLOWED_WORDS = {"Ponder", "Ctrl", "Shift", "Enter", "Esc", "O", "UTC"}
HUMAN_ATTRIBUTES = {
    "alt",
    "aria-description",
    "aria-label",
    "aria-placeholder",
    "aria-roledescription",
    "aria-valuetext",
    "label",
    "placeholder",
    "title",
}
BUTTON_INPUTS = {"submit", "button", "reset"}
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}
TAG = "\x00"  # where a template tag or variable stood: its output is not literal text
WORD = re.compile(r"[^\W\d_]+")
DEFAULT_WITH_WORDS = re.compile(r"""\|default(?:_if_none)?:(["'])([^"']*)\1""")


def has_words(text: str) -> bool:
    return any(word not in ALLOWED_WORDS for word in WORD.findall(text.replace(TAG, " ")))


def shown(text: str) -> str:
    """Return ``text`` as a failure lists it: one line, "…" where a tag stood."""
    return " ".join(text.replace(TAG, "…").split())


def literal_html(source: str) -> tuple[str, list[str]]:
    """Return the template's literal text (everything else replaced by TAG), and the
    ``default`` filter arguments that hold words."""
    parts: list[str] = []
    defaults: list[str] = []
    translating = 0  # inside {% blocktranslate %}
    commented = False  # inside {% comment %}
    blocks: list[str] = []  # the names of the {% block %}s we are in
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name, *args = token.contents.split() or [""]
            if name in ("blocktranslate", "blocktrans"):
                translating += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                translating -= 1
            elif name in ("comment", "endcomment"):
                commented = name == "comment"
            elif name == "block":
                blocks.append(args[0])
            elif name == "endblock":
                blocks.pop()
        if token.token_type in (TokenType.VAR, TokenType.BLOCK):
            defaults += [
                m[2]
                for m in DEFAULT_WITH_WORDS.finditer(token.contents)
                if WORD.search(m[2]) and m[2] not in LANGUAGE_CODES
            ]
        literal = (
            token.token_type == TokenType.TEXT
            and not translating
            and not commented
            and not (blocks and blocks[-1].endswith("class"))
        )
        parts.append(token.contents if literal else f" {TAG} ")  # "<dd{% if %}": still a tag
    return "".join(parts), defaults


class UnmarkedText(HTMLParser):
    """Collect visible text and human attribute values that hold words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities become characters
        self.found: list[str] = []
        self.raw: str | None = None  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.raw = tag
        kind = dict(attrs).get("type") or ""
        for name, value in attrs:
            human = name in HUMAN_ATTRIBUTES or (
                name == "value" and tag == "input" and kind in BUTTON_INPUTS
            )
            if human and value and has_words(value):
                self.found.append(f'<{tag} {name}="{shown(value)}">')

    def handle_endtag(self, tag: str) -> None:
        if tag == self.raw:
            self.raw = None

    def handle_data(self, data: str) -> None:
        if self.raw is None and has_words(data):
            self.found.append(shown(data))


def unmarked(source: str) -> list[str]:
    """Return what ``source`` would show people without a translation."""
    html, defaults = literal_html(source)
    parser = UnmarkedText()
    parser.feed(html)
    parser.close()
    return parser.found + [f'|default:"{text}"' for text in defaults]


def template_names() -> list[str]:
    return sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("name", template_names())
def test_every_word_of_the_template_is_marked_for_translation(name):
    assert unmarked((TEMPLATES / name).read_text()) == []


def test_the_check_finds_words_left_unmarked():
    source = """{% load i18n %}<!-- a comment --><style>p { color: red }</style>
    <h1>{% translate "Welcome" %}</h1>
    <p>Welcome back, {{ user }}</p>
    <p>{% blocktranslate trimmed %}Hello {{ user }}{% endblocktranslate %} &rsaquo; 3</p>
    <button aria-label="Close" title="{% translate 'Close' %}"><kbd>Ctrl</kbd> <kbd>Enter</kbd></button>
    <img alt="Attached image {{ n }}" src="{{ url }}"><input type="submit" value="Show">
    {# not shown #}{% comment %}Not shown either{% endcomment %}{% block body_class %}wide{% endblock %}
    <html lang="{{ LANGUAGE_CODE|default:'en' }}">
    <a title="Ponder">{{ title|default:"New chat" }}</a><span>{{ title|default:_("New chat") }}</span>
    """
    assert unmarked(source) == [
        "Welcome back, …",
        '<button aria-label="Close">',
        '<img alt="Attached image …">',
        '<input value="Show">',
        '|default:"New chat"',
    ]
