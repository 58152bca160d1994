"""One request id per user action, in every log line it causes: plain stdlib only.

The web process takes the id from a trusted proxy's ``X-Request-ID`` or makes one
(``config.middleware.RequestIdMiddleware``); ``generate_reply`` carries it to the worker,
which sets it for the whole reply (on the reply's own asyncio task). ``RequestIdFilter``
adds it to every record, ``JsonFormatter`` writes one JSON object per line.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("ponder_request_id", default=None)

_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def clean_request_id(value: object) -> str | None:
    """Return ``value`` if it is a sane request id (≤ 64 of ``[A-Za-z0-9._-]``), else None."""
    if isinstance(value, str) and _SANE.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id (None outside any request or reply)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (+ exc_info).

    Only these fields: nothing a caller passed in ``extra`` leaks into the output.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
