"""Typed errors of Ponder's use cases, each carrying its API code and HTTP status.

Raise them anywhere below a view; ``chat.http.PonderErrorMiddleware`` answers them
once: JSON under ``/api/``, an error page elsewhere. A message is for people: write it
in the request's language (``gettext`` where the error is raised).

PonderError
 ├── BadRequest (400)          bad input; nothing was written
 ├── NotAuthenticated (401)
 ├── Forbidden (403)           known, but not allowed to do this
 ├── NotFound (404)            missing *or* someone else's — never reveal which
 ├── Conflict (409)            the object is not in a state that allows it
 ├── PayloadTooLarge (413)
 └── TooManyRequests (429)     carries Retry-After
      └── QuotaExceeded
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop


class PonderError(Exception):
    code = "error"
    http_status = 500

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def as_json(self) -> dict[str, dict[str, str | None]]:
        message = str(self.message)  # a lazy translation becomes text here, in JSON
        return {"error": {"code": self.code, "message": message, "field": self.field}}


class BadRequest(PonderError):
    code = "invalid"
    http_status = 400


class NotAuthenticated(PonderError):
    code = "not_authenticated"
    http_status = 401


class Forbidden(PonderError):
    code = "forbidden"
    http_status = 403


# One sentence per kind of thing, so each language can say it its own way.
NOT_FOUND_MESSAGES = {
    "conversation": gettext_noop("No such conversation."),
    "message": gettext_noop("No such message."),
    "preset": gettext_noop("No such preset."),
    "upload": gettext_noop("No such upload."),
    "share link": gettext_noop("No such share link."),
    "image": gettext_noop("No such image."),
}


class NotFound(PonderError):
    code = "not_found"
    http_status = 404

    def __init__(self, what: str) -> None:
        known = NOT_FOUND_MESSAGES.get(what)
        message = gettext(known or "Not found.")
        super().__init__(message)


class Conflict(PonderError):
    code = "conflict"
    http_status = 409


class PayloadTooLarge(PonderError):
    code = "too_large"
    http_status = 413


class TooManyRequests(PonderError):
    code = "too_many_requests"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)  # seconds


class QuotaExceeded(TooManyRequests):
    code = "quota_exceeded"
