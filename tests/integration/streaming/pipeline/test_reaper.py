"""The reaper ends replies whose worker died, with the streamed text, priced like any other."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from chat.models import Conversation, Message, ModelPrice
from chat.streaming.pipeline.reaper import Streamed, interrupt_reply, rebuild, stale_replies


def stale_reply(owner, *, heartbeat_age: timedelta) -> Message:
    conversation = Conversation.objects.create(owner=owner)
    asked_at = timezone.now() - timedelta(minutes=5)
    question = Message.objects.create(
        conversation=conversation, role="user", content="Why?", created_at=asked_at
    )
    return Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, status="streaming",
        model="qwen-plus", reasoning="thinking " * 40, content="partial answer", stream_seq=9,
        created_at=asked_at, heartbeat_at=timezone.now() - heartbeat_age, lease="a" * 32,
    )  # fmt: skip


def test_stale_reply_ends_interrupted_with_estimated_usage_and_its_cost(transactional_db, alice):
    ModelPrice.objects.create(
        model="qwen-plus", input_per_million=Decimal("1"), output_per_million=Decimal("2"),
        thinking_output_per_million=Decimal("8"), effective_from=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    reply = stale_reply(alice, heartbeat_age=timedelta(minutes=2))
    assert stale_replies() == [reply.id]
    assert interrupt_reply(reply.id, None) is not None  # no buffer: the last save is the text
    reply.refresh_from_db()
    assert (reply.status, reply.error_code) == ("interrupted", "worker_lost")
    assert reply.content == "partial answer" and reply.reasoning  # the text so far is kept
    assert reply.stream_seq == 10  # the final status follows event 9
    assert reply.usage_estimated and reply.reasoning_tokens > 0
    assert reply.output_tokens > reply.reasoning_tokens
    expected = (Decimal(reply.input_tokens) * 1 + Decimal(reply.output_tokens) * 8) / 1_000_000
    assert reply.cost == expected.quantize(Decimal("0.000001"))
    assert reply.cost_currency == "USD"


def test_a_reply_with_a_fresh_heartbeat_is_left_alone(transactional_db, alice):
    reply = stale_reply(alice, heartbeat_age=timedelta(seconds=1))
    assert stale_replies() == []
    reply.refresh_from_db()
    assert reply.status == "streaming"


def test_the_streamed_text_wins_over_an_older_save(transactional_db, alice):
    reply = stale_reply(alice, heartbeat_age=timedelta(minutes=2))
    streamed = Streamed("thinking " * 41, "partial answer, longer", seq=12)
    ended = interrupt_reply(reply.id, streamed)
    assert ended is not None
    assert (ended.reasoning, ended.content) == (streamed.reasoning, streamed.content)
    assert ended.stream_seq == 13


def test_a_reply_that_ended_meanwhile_is_not_touched(transactional_db, alice):
    reply = stale_reply(alice, heartbeat_age=timedelta(minutes=2))
    Message.objects.filter(id=reply.id).update(status="complete", content="final")
    assert interrupt_reply(reply.id, Streamed("", "older", 3)) is None
    reply.refresh_from_db()
    assert (reply.status, reply.content) == ("complete", "final")


def delta(seq: int, reasoning: str = "", content: str = "") -> dict:
    return {"type": "delta", "seq": seq, "reasoning": reasoning, "content": content}


def test_rebuild_adds_up_deltas_and_starts_over_at_a_snapshot():
    status = {"type": "status", "seq": 1, "status": "streaming"}
    assert rebuild([status, delta(2, "a"), delta(3, "b", "c")]) == Streamed("ab", "c", 3)
    snapshot = {"type": "snapshot", "seq": 7, "reasoning": "all", "content": "of it"}
    assert rebuild([snapshot, delta(8, "", "!")]) == Streamed("all", "of it!", 8)
    assert rebuild([status, delta(2, "a"), snapshot]) == Streamed("all", "of it", 7)


def test_rebuild_refuses_a_buffer_with_a_hole():
    assert rebuild([delta(1, "a"), delta(3, "c")]) is None
    assert rebuild([delta(2, "b")]) is None  # its beginning is gone
    assert rebuild([]) == Streamed("", "", 0)
