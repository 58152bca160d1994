"""The websocket's event shapes (docs/api.md), and the parts a Message JSON shares with them."""

from __future__ import annotations

from typing import Any

from chat.http import iso
from chat.models import Message


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
    if not message.error_code:
        return None
    return {"code": message.error_code, "message": message.error_message}


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
