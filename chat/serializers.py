"""JSON shapes of CONTRACT.md §3, built from model instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import Conversation, Message
from .uploads import attachment_json


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


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


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "role": message.role,
        "reply_to": str(message.reply_to_id) if message.reply_to_id else None,
        "is_active_version": message.is_active_version,
        "content": message.content,
        "reasoning": message.reasoning,
        "attachments": [attachment_json(upload) for upload in message.attachments.all()],
        "status": message.status,
        "model": message.model,
        "enable_thinking": message.enable_thinking,
        "thinking_budget": message.thinking_budget,
        "finish_reason": message.finish_reason,
        "error": error_json(message),
        "usage": usage_json(message),
        "timings": timings_json(message),
        "cost": None if message.cost is None else str(message.cost),
        "cost_currency": message.cost_currency or None,
    }


def conversation_summary_json(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": str(conversation.id),
        "title": conversation.title,
        "updated_at": iso(conversation.updated_at),
    }


def conversation_json(conversation: Conversation, messages: list[Message]) -> dict[str, Any]:
    return {
        **conversation_summary_json(conversation),
        "created_at": iso(conversation.created_at),
        "settings": {
            "model": conversation.model or None,
            "enable_thinking": conversation.enable_thinking,
            "thinking_budget": conversation.thinking_budget,
        },
        "messages": [message_json(m) for m in messages],
    }


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
