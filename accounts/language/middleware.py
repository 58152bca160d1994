"""A signed-in user's language: their own pick, else their browser's."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from .choices import language_for_user


class UserLanguageMiddleware:
    """For a signed-in user, activate ``language_for_user`` over LocaleMiddleware's choice.

    Runs after authentication, inside LocaleMiddleware, whose response half then names
    the language in ``Content-Language``. Signed-out pages keep LocaleMiddleware's choice
    (the sign-in page's cookie, else Accept-Language).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = language_for_user(user, request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
