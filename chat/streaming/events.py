"""The websocket's event shapes (docs/api.md), and the parts a Message JSON shares with them.

Events are built once, in English, for every subscriber of a conversation; an error's
message is put in the reader's language only on its way out (``localized_event``, and
``localized_error_json`` for the REST API).
"""

from __future__ import annotations

from typing import Any

from chat.http import iso
from chat.models import Message
from chat.streaming.errortext import localize_error_message


def usage_json(message: Message) -> dict[str, Any]:
    return {
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
        "reasoning_tokens": message.reasoning_tokens,
        "cached_tokens": message.cached_tokens,
        "total_tokens": message.total_tokens,
        "estimated": message.usage_estimated,
    }


def timings_json(message: Message) -> dict[str, str | None]:
    return {
        "created_at": iso(message.created_at),
        "first_token_at": iso(message.first_token_at),
        "answer_started_at": iso(message.answer_started_at),
        "completed_at": iso(message.completed_at),
    }


def error_json(message: Message) -> dict[str, str] | None:
    """Return the stored error, its message in English (as the worker wrote it)."""
    if not message.error_code:
        return None
    return {"code": message.error_code, "message": message.error_message}


def localized_error_json(message: Message) -> dict[str, str] | None:
    """Return the stored error, its message in the active language; the code unchanged."""
    return localized_error(error_json(message))


def localized_error(error: dict[str, str] | None) -> dict[str, str] | None:
    if not error or not error.get("message"):
        return error
    return {**error, "message": localize_error_message(error["message"])}


def localized_event(event: dict[str, Any]) -> dict[str, Any]:
    """Return ``event`` with its error's message in the active language (a copy if changed)."""
    error = event.get("error")
    if not error:
        return event
    return {**event, "error": localized_error(error)}


def status_event(message: Message, seq: int) -> dict[str, Any]:
    """Return the websocket ``status`` event for the message's current state."""
    return {
        "type": "status",
        "message_id": str(message.id),
        "seq": seq,
        "status": message.status,
        "finish_reason": message.finish_reason,
        "usage": usage_json(message),
        "error": error_json(message),
        "timings": timings_json(message),
        "cost": None if message.cost is None else str(message.cost),
    }


def snapshot_of(event: dict[str, Any], reasoning: str, content: str) -> dict[str, Any]:
    """Return the ``snapshot`` that stands for ``event``: the whole text up to its seq.

    A client applies it whatever it held before: it replaces the message's text and
    status, and later events continue from its seq + 1. A status event's fields (usage,
    error, timings…) carry over; a delta's text is part of ``reasoning``/``content``.
    """
    fields = {k: v for k, v in event.items() if k not in ("type", "reasoning", "content")}
    fields.setdefault("status", "streaming")
    return {**fields, "type": "snapshot", "reasoning": reasoning, "content": content}


def message_snapshot(message: Message) -> dict[str, Any]:
    """Return the snapshot of a message as the database has it, at its ``stream_seq``."""
    seq = message.stream_seq
    if message.is_finished:
        return snapshot_of(status_event(message, seq), message.reasoning, message.content)
    base = {"message_id": str(message.id), "seq": seq, "status": message.status}
    return snapshot_of(base, message.reasoning, message.content)
