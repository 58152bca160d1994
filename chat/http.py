"""The HTTP edge: PonderError → response in one place, session auth and body parsing.

Views and services raise ``PonderError``s; ``PonderErrorMiddleware`` turns them into the
JSON error of the API under ``/api/`` and into a rendered error page elsewhere.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar, cast, overload

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.views.csrf import csrf_failure as django_csrf_failure

from accounts.models import User

from .errors import BadRequest, Forbidden, NotAuthenticated, PonderError, TooManyRequests
from .l10n import grouped

logger = logging.getLogger(__name__)

MAX_JSON_BODY = 1_000_000

_P = ParamSpec("_P")
_Request = TypeVar("_Request", bound=HttpRequest)
_Response = TypeVar("_Response", bound=HttpResponseBase)


class AuthenticatedHttpRequest(HttpRequest):
    """The request a view behind ``json_api`` or ``login_required`` gets: a logged-in user.

    For type checking only (django-stubs' documented pattern); no request is ever built
    from it. The decorators are what make ``user`` a ``User`` and not ``AnonymousUser``.
    """

    user: User


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """How a page view shows its errors: a template, and headers the page always carries."""

    template: str = "error.html"
    headers: Mapping[str, str] = field(default_factory=dict)


def error_response(request: HttpRequest, error: PonderError) -> HttpResponse:
    """Return the answer to ``error``: its JSON under ``/api/``, else the view's error page."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error.as_json(), status=error.http_status)
    else:
        page = getattr(request, "error_page", ErrorPage())
        response = render(request, page.template, {"error": error}, status=error.http_status)
        for header, value in page.headers.items():
            response.headers[header] = value
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


class PonderErrorMiddleware:
    """Answer any PonderError a view raises (Zulip's ``JsonErrorHandler`` pattern)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PonderError):
            return error_response(request, exception)
        return None


def error_page(
    template: str, headers: Mapping[str, str] | None = None
) -> Callable[
    [Callable[Concatenate[_Request, _P], _Response]],
    Callable[Concatenate[_Request, _P], _Response],
]:
    """Show this view's PonderErrors with ``template`` (and ``headers``), not the generic page."""
    page = ErrorPage(template, headers or {})

    def decorator(
        view: Callable[Concatenate[_Request, _P], _Response],
    ) -> Callable[Concatenate[_Request, _P], _Response]:
        @functools.wraps(view)
        def wrapper(request: _Request, /, *args: _P.args, **kwargs: _P.kwargs) -> _Response:
            request.error_page = page  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def json_api(
    view: Callable[Concatenate[AuthenticatedHttpRequest, _P], _Response],
) -> Callable[Concatenate[HttpRequest, _P], _Response]:
    """Require a logged-in user; the middleware answers PonderErrors as JSON."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: _P.args, **kwargs: _P.kwargs) -> _Response:
        if not request.user.is_authenticated:
            raise NotAuthenticated(gettext("Log in first."))
        # Authenticated means ``request.user`` is a ``User`` (AUTH_USER_MODEL).
        return view(cast(AuthenticatedHttpRequest, request), *args, **kwargs)

    return wrapper


def iso(value: datetime | None) -> str | None:
    """Return an aware time as ISO 8601 with a ``Z``, the API's one time format."""
    return value.isoformat().replace("+00:00", "Z") if value else None


# What a field is called in messages people read; the error's ``field`` keeps the API name.
# Each fills the %(field)s of a message ("%(field)s must be text.").
FIELD_NAMES = {
    "content": pgettext_lazy("field", "The message"),
    "model": pgettext_lazy("field", "The model"),
    "enable_thinking": pgettext_lazy("field", "Deep thinking"),
    "thinking_budget": pgettext_lazy("field", "The thinking budget"),
    "attachments": pgettext_lazy("field", "The attachments"),
    "video_frames": pgettext_lazy("field", "The video frames"),
    "title": pgettext_lazy("field", "The title"),
    "system_prompt": pgettext_lazy("field", "The system prompt"),
    "language": pgettext_lazy("field", "The language"),
    "default_system_prompt": pgettext_lazy("field", "The default system prompt"),
    "name": pgettext_lazy("field", "The name"),
    "preset": pgettext_lazy("field", "The assistant"),
    "expires_in_days": pgettext_lazy("field", "The expiry"),
    "include_reasoning": pgettext_lazy("field", "Including the reasoning"),
    "start": pgettext_lazy("field", "The first day"),
    "end": pgettext_lazy("field", "The last day"),
}


def field_name(field: str) -> str:
    """Return the field as a person would name it ("The thinking budget")."""
    return str(FIELD_NAMES.get(field, field))


def invalid(template: str, field: str, code: str, **values: Any) -> BadRequest:
    """Return the BadRequest of ``field``: ``template`` (marked with gettext_noop) translated,
    then filled in; its %(field)s is the field's name."""
    message = gettext(template) % {"field": field_name(field), **values}
    return BadRequest(message, code=code, field=field)


def parse_json_object(request: HttpRequest) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise BadRequest."""
    if len(request.body) > MAX_JSON_BODY:
        raise BadRequest(gettext("The request body is too large."), code="too_large")
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(
            gettext("The request body is not valid JSON."), code="invalid_json"
        ) from None
    if not isinstance(body, dict):
        raise BadRequest(gettext("The request body must be a JSON object."), code="invalid_json")
    return body


@overload
def get_str(
    body: dict[str, Any], field: str, *, required: Literal[True] = True, max_length: int
) -> str: ...


@overload
def get_str(body: dict[str, Any], field: str, *, required: bool, max_length: int) -> str | None: ...


def get_str(
    body: dict[str, Any], field: str, *, required: bool = True, max_length: int
) -> str | None:
    """Return a string field, at most ``max_length`` long; a required one is never None."""
    value = body.get(field)
    if value is None:
        if required:
            raise invalid(gettext_noop("%(field)s is required."), field, "required")
        return None
    if not isinstance(value, str):
        raise invalid(gettext_noop("%(field)s must be text."), field, "invalid_type")
    if len(value) > max_length:
        raise invalid(
            gettext_noop("%(field)s is longer than %(limit)s characters."),
            field,
            "too_long",
            limit=grouped(max_length),
        )
    return value


def get_choice(body: dict[str, Any], field: str, *, choices: Sequence[str]) -> str | None:
    """Return one of ``choices``, or None when the field is absent."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or value not in choices:
        raise invalid(
            gettext_noop("%(field)s must be one of: %(choices)s."),
            field,
            "invalid_choice",
            choices=", ".join(repr(c) for c in choices),
        )
    return value


def get_bool(body: dict[str, Any], field: str) -> bool | None:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise invalid(
            gettext_noop("%(field)s must be on or off (true or false)."), field, "invalid_type"
        )
    return value


def get_int(
    body: dict[str, Any], field: str, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """Return an optional integer; with bounds, also check it lies within them."""
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(gettext_noop("%(field)s must be a whole number."), field, "invalid_type")
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise invalid(
            gettext_noop("%(field)s must be between %(minimum)s and %(maximum)s."),
            field,
            "out_of_range",
            minimum=grouped(minimum),
            maximum=grouped(maximum),
        )
    return value


def get_uuid(body: dict[str, Any], field: str) -> uuid.UUID | None:
    """Return an optional id."""
    value = body.get(field)
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        # The API's own name of the field: no person-facing name exists for every id.
        message = gettext("%(field)s must be an id.") % {"field": field_name(field)}
        raise BadRequest(message, code="invalid_type", field=field) from None


def get_uuid_list(body: dict[str, Any], field: str, *, max_items: int) -> list[uuid.UUID]:
    value = body.get(field)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise invalid(
            gettext_noop("%(field)s must be a list of at most %(limit)s ids."),
            field,
            "invalid_type",
            limit=max_items,
        )
    try:
        return [uuid.UUID(item) for item in value]
    except (TypeError, ValueError, AttributeError):
        raise invalid(gettext_noop("%(field)s must contain ids."), field, "invalid_type") from None


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer a failed CSRF check in JSON on the API, with Django's page elsewhere."""
    if request.path.startswith("/api/"):
        message = gettext("CSRF check failed: send the X-CSRFToken header.")
        error = Forbidden(message, code="csrf_failed")
        return error_response(request, error)
    return django_csrf_failure(request, reason)
