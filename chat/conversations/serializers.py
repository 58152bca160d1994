"""JSON shapes of the API (docs/api.md): conversations and messages, built from model instances."""

from __future__ import annotations

import uuid
from typing import Any

from chat.http import iso
from chat.models import Conversation, Message
from chat.streaming.events import localized_error_json, timings_json, usage_json
from chat.uploads.images import attachment_json


def message_json(message: Message, versions: list[uuid.UUID] | None = None) -> dict[str, Any]:
    """A message; a user message also lists its turn's versions (ids, oldest first)."""
    data: dict[str, Any] = {
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
        "error": localized_error_json(message),
        "usage": usage_json(message),
        "timings": timings_json(message),
        "cost": None if message.cost is None else str(message.cost),
        "cost_currency": message.cost_currency or None,
        # The retention policy removed its text, reasoning and images; usage and cost stay.
        "purged": message.purged_at is not None,
    }
    if message.role == Message.Role.USER:
        data["versions"] = [str(i) for i in versions or [message.id]]
    return data


def conversation_summary_json(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": str(conversation.id),
        "title": conversation.title,
        "updated_at": iso(conversation.updated_at),
    }


def conversation_json(
    conversation: Conversation,
    messages: list[Message],
    versions: dict[uuid.UUID, list[uuid.UUID]] | None = None,
) -> dict[str, Any]:
    versions = versions or {}
    return {
        **conversation_summary_json(conversation),
        "created_at": iso(conversation.created_at),
        "settings": {
            "model": conversation.model or None,
            "enable_thinking": conversation.enable_thinking,
            "thinking_budget": conversation.thinking_budget,
        },
        "system_prompt": conversation.system_prompt,
        "messages": [message_json(m, versions.get(m.id)) for m in messages],
    }
