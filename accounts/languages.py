"""The interface languages a user may pick, and the cookie that carries a pick."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.utils import translation

# "" follows the browser's Accept-Language.
LANGUAGE_CHOICES = ("", *(code for code, _name in settings.LANGUAGES))


def remember_language(response: HttpResponse, language: str) -> None:
    """Set (or, for "", clear) the cookie LocaleMiddleware reads before Accept-Language."""
    if not language:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def language_for_scope(scope: Mapping[str, Any]) -> str:
    """Return the language of a websocket, chosen as for a page: the user's pick, else the
    language cookie, else the handshake's Accept-Language (LocaleMiddleware's order)."""
    user = scope.get("user")
    picked = getattr(user, "language", "") if user is not None else ""
    if picked:
        try:
            return translation.get_supported_language_variant(picked)
        except LookupError:
            pass  # a language no longer offered: as if none were picked
    handshake = HttpRequest()
    handshake.COOKIES = dict(scope.get("cookies") or {})  # Channels' CookieMiddleware
    for name, value in scope.get("headers") or ():
        if name.lower() == b"accept-language":
            handshake.META["HTTP_ACCEPT_LANGUAGE"] = value.decode("latin-1")
        elif name.lower() == b"cookie" and not handshake.COOKIES:
            handshake.COOKIES = parse_cookie(value.decode("latin-1"))
    return translation.get_language_from_request(handshake)
