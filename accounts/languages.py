"""The interface languages a user may pick, and the cookie that carries a pick."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse

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
