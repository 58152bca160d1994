"""The interface languages a user may pick, and the cookie that carries a pick."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import trans_real

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


def browser_language(accept_language: str) -> str:
    """Return the first language of an Accept-Language header that we offer (else ours)."""
    for code, _quality in trans_real.parse_accept_lang_header(accept_language):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def language_for_user(user: Any, accept_language: str) -> str:
    """Return a signed-in user's language: their pick, else their browser's.

    The cookie is not consulted: it carries a pick to the signed-out pages (and into the
    user's settings at sign-in, see adopt_sign_in_pick), so a pick undone in one browser
    is undone in every browser.
    """
    picked = getattr(user, "language", "")
    if picked:
        try:
            return translation.get_supported_language_variant(picked)
        except LookupError:
            pass  # a language no longer offered: as if none were picked
    return browser_language(accept_language)


def language_for_scope(scope: Mapping[str, Any]) -> str:
    """Return the language of a (signed-in) websocket, chosen as for its pages."""
    accept_language = ""
    for name, value in scope.get("headers") or ():
        if name.lower() == b"accept-language":
            accept_language = value.decode("latin-1")
    return language_for_user(scope.get("user"), accept_language)


def adopt_sign_in_pick(request: HttpRequest, user: Any) -> None:
    """A language picked on the sign-in page becomes the user's, unless they have one."""
    picked = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if user.language or picked not in LANGUAGE_CHOICES or not picked:
        return
    user.language = picked
    user.save(update_fields=["language"])
