"""The JSON API edge: session auth, body parsing and PonderError → JSON, in one place."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import BadRequest, NotAuthenticated, PonderError

logger = logging.getLogger(__name__)

MAX_JSON_BODY = 1_000_000

View = Callable[..., HttpResponse]


def json_api(view: View) -> View:
    """Require a logged-in user and turn any PonderError into its JSON answer."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if not request.user.is_authenticated:
                raise NotAuthenticated("Log in first.")
            return view(request, *args, **kwargs)
        except PonderError as exc:
            return JsonResponse(exc.as_json(), status=exc.http_status)

    return wrapper


def parse_json_object(request: HttpRequest) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise BadRequest."""
    if len(request.body) > MAX_JSON_BODY:
        raise BadRequest("The request body is too large.", code="too_large")
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", code="invalid_json")
    return body


def get_str(
    body: dict[str, Any], field: str, *, required: bool = True, max_length: int
) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise BadRequest(f"{field} is required.", code="required", field=field)
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string.", code="invalid_type", field=field)
    if len(value) > max_length:
        raise BadRequest(
            f"{field} is longer than {max_length} characters.", code="too_long", field=field
        )
    return value


def get_bool(body: dict[str, Any], field: str) -> bool | None:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"{field} must be true or false.", code="invalid_type", field=field)
    return value


def get_int(body: dict[str, Any], field: str, *, minimum: int, maximum: int) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{field} must be an integer.", code="invalid_type", field=field)
    if not minimum <= value <= maximum:
        raise BadRequest(
            f"{field} must be between {minimum} and {maximum}.", code="out_of_range", field=field
        )
    return value


def get_uuid_list(body: dict[str, Any], field: str, *, max_items: int) -> list[uuid.UUID]:
    value = body.get(field)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise BadRequest(
            f"{field} must be a list of at most {max_items} ids.", code="invalid_type", field=field
        )
    try:
        return [uuid.UUID(item) for item in value]
    except (TypeError, ValueError, AttributeError):
        raise BadRequest(f"{field} must contain ids.", code="invalid_type", field=field) from None


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer a failed CSRF check in JSON on the API, with Django's page elsewhere."""
    if request.path.startswith("/api/"):
        error = PonderError("CSRF check failed: send the X-CSRFToken header.", code="csrf_failed")
        return JsonResponse(error.as_json(), status=403)
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)
