"""Model text → safe HTML on the server: markdown-it-py writes it, nh3 cleans it.

The model's answer is untrusted. markdown-it runs with ``html`` off, so raw HTML in the
text comes out escaped, and refuses ``javascript:`` and other bad link targets; nh3
then keeps only the tags and attributes markdown produces, whatever slipped through.
No inline styles (the share page's CSP forbids them) and no images: an image becomes
a link to it, since loading it would tell a third party who read the page (and the
share page's CSP blocks external images anyway). Math stays LaTeX source in a
``math-tex`` element (``mathrules``) and code keeps its ``language-*`` class: the
page's script draws the one with KaTeX and colours the other with highlight.js.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from .mathrules import math_plugin

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "em", "strong", "del", "s", "ul", "ol", "li", "a",
    "table", "thead", "tbody", "tr", "th", "td", "span", "div",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "ol": {"start"}, "span": {"class"}, "div": {"class"}, "code": {"class"},
}  # fmt: skip
# The only classes kept: math markers and a code block's language.
ALLOWED_CLASS = re.compile(r"(?:math-tex|math-inline|math-display|language-[A-Za-z0-9_+#.-]{1,40})")
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def _image_as_link(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    src = escapeHtml(str(token.attrGet("src") or ""))
    return f'<a href="{src}">{escapeHtml(alt)}</a>'


def _keep_class(tag: str, attribute: str, value: str) -> str | None:
    """Keep only the known classes of a ``class`` attribute; drop any other attribute value."""
    if attribute != "class":
        return value
    kept = [name for name in value.split() if ALLOWED_CLASS.fullmatch(name)]
    return " ".join(kept) or None


_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_markdown.use(math_plugin)
_markdown.add_render_rule("image", _image_as_link)
_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=ALLOWED_URL_SCHEMES,
    link_rel="nofollow noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
    attribute_filter=_keep_class,
)


def render_markdown(text: str) -> SafeString:
    """Return the markdown ``text`` as sanitized HTML, safe to put in a page as is."""
    return mark_safe(_cleaner.clean(_markdown.render(text)))
