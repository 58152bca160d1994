"""Conversations and finished replies written straight to the database, for spend tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from chat.models import Conversation, Message


def at(day: str, hour: int = 12) -> datetime:
    """Return noon (or ``hour``) UTC of an ISO day."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def make_reply(
    owner,
    *,
    model: str = "qwen-plus",
    created_at: datetime,
    input_tokens: int = 0,
    output_tokens: int = 0,
    reasoning_tokens: int = 0,
    cached_tokens: int = 0,
    cost: str | None = None,
    currency: str = "USD",
    status: str = Message.Status.COMPLETE,
    conversation: Conversation | None = None,
    content: str = "An answer.",
    reasoning: str = "",
) -> Message:
    """Write a question and its reply; return the reply."""
    conversation = conversation or Conversation.objects.create(owner=owner, title="Spend")
    question = Message.objects.create(
        conversation=conversation, role=Message.Role.USER, content="A question?",
        created_at=created_at,
    )  # fmt: skip
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        reply_to=question,
        model=model,
        status=status,
        content=content,
        reasoning=reasoning,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning_tokens,
        cached_tokens=cached_tokens,
        total_tokens=input_tokens + output_tokens,
        cost=None if cost is None else Decimal(cost),
        cost_currency="" if cost is None else currency,
        created_at=created_at,
        completed_at=created_at,
    )
