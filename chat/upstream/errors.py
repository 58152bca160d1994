"""Upstream failures as typed errors with user-readable messages.

Our exception hierarchy:

* UpstreamError
  + AuthenticationError   - 401, InvalidApiKey: the key is wrong or for another region.
  + PermissionDenied      - 403, Arrearage, AccessDenied*: the account may not call it.
  + RateLimited           - 429, Throttling.*: retryable.
  + RequestRejected       - other 4xx, InvalidParameter, "url error".
    - ContentRejected     - DataInspectionFailed: content moderation blocked it.
    - ModelNotFound       - model_not_found, "Model not exist.".
  + ServerError           - 5xx, InternalError: retryable.
  + UpstreamTimeout       - no byte for read_timeout seconds, or no connection: retryable.
  + ConnectionLost        - connection failed or dropped; retryable only before the
                            first byte of a stream.
  + ProtocolError         - a response Ponder cannot parse.

``code`` is the provider's code when it sent one (``Throttling.RateQuota``,
``data_inspection_failed`` …), otherwise a snake_case Ponder code (``timeout``,
``connection_lost``, ``http_503`` …). ``message`` is safe to show to a user: it
never contains the API key or a bearer token. It is English: the class ``summary``
(marked for translation), then the provider's detail in parentheses, if any; the
reader's language is applied where it is shown (``chat.streaming.errortext``).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from .i18n import gettext_noop

__all__ = [
    "AuthenticationError",
    "ConnectionLost",
    "ContentRejected",
    "ModelNotFound",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "RequestRejected",
    "ServerError",
    "UpstreamError",
    "UpstreamTimeout",
    "error_from_body",
    "error_from_payload",
    "sanitize",
    "summaries",
]

_SECRET_RE = re.compile(r"(sk-[A-Za-z0-9._*\-]+|Bearer\s+\S+)", re.IGNORECASE)
_MAX_DETAIL = 300


def sanitize(text: str, *, secret: str | None = None) -> str:
    """Return provider text made safe for users: no keys, one line, bounded."""
    if secret:
        text = text.replace(secret, "***")
    text = _SECRET_RE.sub("***", text)
    text = " ".join(text.split())
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 1] + "…"
    return text


class UpstreamError(Exception):
    """A Model Studio request that did not complete."""

    summary: ClassVar[str] = gettext_noop("The model service returned an error.")
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool,
        http_status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.http_status = http_status
        self.request_id = request_id
        self.retry_after = retry_after

    @classmethod
    def build(
        cls,
        code: str,
        detail: str = "",
        *,
        http_status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> UpstreamError:
        """Return an instance whose message is the class summary plus the detail."""
        detail = sanitize(detail)
        message = cls.summary if not detail else f"{cls.summary} ({detail})"
        return cls(
            code,
            message,
            retryable=cls.default_retryable,
            http_status=http_status,
            request_id=request_id,
            retry_after=retry_after,
        )

    def as_json(self) -> dict[str, str]:
        """Return the API's ``error`` object (docs/api.md)."""
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, retryable={self.retryable}, "
            f"http_status={self.http_status!r}, request_id={self.request_id!r})"
        )


class AuthenticationError(UpstreamError):
    summary = gettext_noop(
        "Model Studio rejected the API key; check DASHSCOPE_API_KEY and its region."
    )


class PermissionDenied(UpstreamError):
    summary = gettext_noop("Model Studio refused access for this account.")


class RateLimited(UpstreamError):
    summary = gettext_noop("Model Studio is rate-limiting requests; try again in a moment.")
    default_retryable = True


class RequestRejected(UpstreamError):
    summary = gettext_noop("Model Studio rejected the request.")


class ContentRejected(RequestRejected):
    summary = gettext_noop("Model Studio's content moderation blocked this conversation.")


class ModelNotFound(RequestRejected):
    summary = gettext_noop("This model is not available on the configured Model Studio endpoint.")


class ServerError(UpstreamError):
    summary = gettext_noop("Model Studio had an internal error; try again.")
    default_retryable = True


class UpstreamTimeout(UpstreamError):
    summary = gettext_noop("Model Studio stopped responding.")
    default_retryable = True


class ConnectionLost(UpstreamError):
    summary = gettext_noop("The connection to Model Studio was lost.")
    default_retryable = True


class ProtocolError(UpstreamError):
    summary = gettext_noop("Model Studio sent a response Ponder could not read.")


def summaries() -> list[str]:
    """Return the summary of every error class, the English a stored message starts with."""
    found: list[str] = []
    pending: list[type[UpstreamError]] = [UpstreamError]
    while pending:
        cls = pending.pop(0)
        if cls.summary not in found:
            found.append(cls.summary)
        pending.extend(cls.__subclasses__())
    return found


def _class_for_code(code: str, message: str, status: int | None) -> type[UpstreamError] | None:
    lowered = code.lower().replace(".", "_")
    if lowered in {"invalidapikey", "invalid_api_key", "unauthorized"}:
        return AuthenticationError
    if "datainspection" in lowered or "data_inspection" in lowered:
        return ContentRejected
    if lowered in {"modelnotfound", "model_not_found", "modelnotexist"}:
        return ModelNotFound
    lowered_message = message.lower()
    if "model" in lowered_message and "not exist" in lowered_message:
        return ModelNotFound
    if lowered.startswith(("throttling", "limit_requests", "rate_limit", "ratelimit")):
        return RateLimited
    if lowered.startswith(("arrearage", "accessdenied", "access_denied", "allocationquota")):
        return PermissionDenied
    if lowered == "insufficient_quota":
        return PermissionDenied
    if "invalidparameter" in lowered or "invalid_parameter" in lowered:
        return RequestRejected
    if status is not None and 400 <= status < 500:
        return None  # e.g. InternalError.Algo.* with a 4xx: let the status decide
    if lowered.startswith(
        ("internalerror", "internal_error", "serviceunavailable", "system_error")
    ):
        return ServerError
    return None


def _class_for_status(status: int | None) -> type[UpstreamError]:
    if status is None:
        return UpstreamError
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDenied
    if status == 429:
        return RateLimited
    if status in (408, 504):
        return UpstreamTimeout
    if status >= 500:
        return ServerError
    if status >= 400:
        return RequestRejected
    return ProtocolError


def error_from_payload(
    payload: dict[str, Any],
    *,
    http_status: int | None = None,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> UpstreamError:
    """Return the typed error for an OpenAI-style or DashScope error object."""
    inner = payload.get("error")
    source = inner if isinstance(inner, dict) else payload
    code = str(source.get("code") or source.get("type") or "").strip()
    message = str(source.get("message") or source.get("msg") or "").strip()
    request_id = str(payload.get("request_id") or source.get("request_id") or request_id or "")
    cls = _class_for_code(code, message, http_status) if code or message else None
    if cls is None:
        cls = _class_for_status(http_status)
    if not code:
        code = f"http_{http_status}" if http_status else "upstream_error"
    return cls.build(
        code,
        message,
        http_status=http_status,
        request_id=request_id or None,
        retry_after=retry_after,
    )


def error_from_body(
    http_status: int,
    body: bytes | str | dict[str, Any] | None,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> UpstreamError:
    """Return the typed error for a non-200 response and its (maybe JSON) body."""
    payload: Any = body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {}  # an HTML gateway page says nothing a user can act on
    if not isinstance(payload, dict):
        payload = {}
    return error_from_payload(
        payload, http_status=http_status, request_id=request_id, retry_after=retry_after
    )
