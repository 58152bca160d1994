"""The reaper ends replies whose worker died, priced like any other finished reply."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from chat.models import Conversation, Message, ModelPrice
from chat.streaming.reaper import interrupt_stale_replies


def stale_reply(owner, *, heartbeat_age: timedelta) -> Message:
    conversation = Conversation.objects.create(owner=owner)
    asked_at = timezone.now() - timedelta(minutes=5)
    question = Message.objects.create(
        conversation=conversation, role="user", content="Why?", created_at=asked_at
    )
    return Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, status="streaming",
        model="qwen-plus", reasoning="thinking " * 40, content="partial answer",
        created_at=asked_at, heartbeat_at=timezone.now() - heartbeat_age,
    )  # fmt: skip


def test_stale_reply_ends_interrupted_with_estimated_usage_and_its_cost(transactional_db, alice):
    ModelPrice.objects.create(
        model="qwen-plus", input_per_million=Decimal("1"), output_per_million=Decimal("2"),
        thinking_output_per_million=Decimal("8"), effective_from=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    reply = stale_reply(alice, heartbeat_age=timedelta(minutes=2))
    assert [m.id for m in interrupt_stale_replies()] == [reply.id]
    reply.refresh_from_db()
    assert (reply.status, reply.error_code) == ("interrupted", "worker_lost")
    assert reply.content == "partial answer" and reply.reasoning  # the text so far is kept
    assert reply.usage_estimated and reply.reasoning_tokens > 0
    assert reply.output_tokens > reply.reasoning_tokens
    expected = (Decimal(reply.input_tokens) * 1 + Decimal(reply.output_tokens) * 8) / 1_000_000
    assert reply.cost == expected.quantize(Decimal("0.000001"))
    assert reply.cost_currency == "USD"


def test_a_reply_with_a_fresh_heartbeat_is_left_alone(transactional_db, alice):
    reply = stale_reply(alice, heartbeat_age=timedelta(seconds=1))
    assert interrupt_stale_replies() == []
    reply.refresh_from_db()
    assert reply.status == "streaming"
