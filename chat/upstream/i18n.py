"""Marking English for translation without Django: ``makemessages`` extracts every
``gettext_noop("...")``, and the text is translated where it is shown (the request's
language), not here, where no request and no language exist.
"""

from __future__ import annotations


def gettext_noop(message: str) -> str:
    """Return ``message`` unchanged; its call marks it for the translators."""
    return message
