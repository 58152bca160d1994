"""A failed reply's stored error message, said in the reader's language.

The worker serves no request and knows no language, so it stores ``error_message`` in
English: one of the texts below, an upstream error's summary (``chat.upstream.errors``)
or a request the model cannot serve (``chat.upstream.catalog``), each marked for
translation where it is defined, perhaps followed by the provider's detail in
parentheses. ``localize_error_message`` recognises the text, translates it into the
active language and keeps the detail verbatim; a text it does not know stays as it is.
"""

from __future__ import annotations

import functools
import re

from django.utils.translation import gettext, gettext_noop

from chat.upstream.catalog import REQUEST_MESSAGES
from chat.upstream.errors import summaries

INTERNAL_ERROR_TEXT = gettext_noop("Something went wrong on our side.")
SHUTDOWN_TEXT = gettext_noop(
    "The server restarted while this reply was being written. The text so far is kept."
)
INTERRUPTED_TEXT = gettext_noop(
    "The worker writing this reply stopped unexpectedly. The text so far is kept."
)
ATTACHMENT_UNAVAILABLE_TEXT = gettext_noop("An attached image could not be read; send it again.")
MODEL_NO_LONGER_ALLOWED_TEXT = gettext_noop(
    "%(model)s is no longer among the models your groups may use; pick another one."
)
# Translators: an error message, then the model service's own words (left in English).
WITH_DETAIL = gettext_noop("%(summary)s (%(detail)s)")

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pattern(template: str) -> re.Pattern[str]:
    """Match a text made from ``template``, its placeholders filled, maybe with a detail."""
    pieces = _PLACEHOLDER.split(template)  # literal, name, literal, name, …, literal
    body = "".join(
        re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>.+?)"
        for index, piece in enumerate(pieces)
    )
    return re.compile(body + r"(?: \((?P<detail>.*)\))?", re.DOTALL)


@functools.cache
def _known() -> list[tuple[str, re.Pattern[str]]]:
    templates = [
        INTERNAL_ERROR_TEXT,
        SHUTDOWN_TEXT,
        INTERRUPTED_TEXT,
        ATTACHMENT_UNAVAILABLE_TEXT,
        MODEL_NO_LONGER_ALLOWED_TEXT,
        *REQUEST_MESSAGES,
        *summaries(),
    ]
    return [(template, _pattern(template)) for template in templates]


def localize_error_message(message: str) -> str:
    """Return a stored English error message in the active language, its detail kept."""
    for template, pattern in _known():
        match = pattern.fullmatch(message)
        if match is None:
            continue
        params = {name: value for name, value in match.groupdict().items() if name != "detail"}
        text = _fill(gettext(template), params, template)
        if match["detail"] is None:
            return text
        return _fill(
            gettext(WITH_DETAIL), {"summary": text, "detail": match["detail"]}, WITH_DETAIL
        )
    return message


def _fill(translated: str, params: dict[str, str], english: str) -> str:
    if not params:
        return translated
    try:
        return translated % params
    except (KeyError, ValueError, TypeError):  # a translation with broken placeholders
        return english % params
