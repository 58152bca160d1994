"""The worker saves every reply's progress in one batch: appending, fenced by lease and seq."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import Conversation, Message
from chat.streaming.pipeline.store import ProgressSave, SaveOutcome, save_progress


def streaming_reply(owner, *, lease: str = "a" * 32, **fields) -> Message:
    conversation = Conversation.objects.create(owner=owner)
    question = Message.objects.create(conversation=conversation, role="user", content="Why?")
    return Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, status="streaming",
        model="qwen-plus", lease=lease, heartbeat_at=timezone.now() - timedelta(seconds=30),
        **fields,
    )  # fmt: skip


def save(reply: Message, seq: int, base_seq: int | None, reasoning: str, content: str = ""):
    return ProgressSave(
        message_id=reply.id, lease=reply.lease, seq=seq, base_seq=base_seq,
        reasoning=reasoning, content=content, first_token_at=reply.created_at,
        answer_started_at=None,
    )  # fmt: skip


def test_one_batch_appends_every_replys_new_text_and_beats_their_hearts(transactional_db, alice):
    replies = [streaming_reply(alice, reasoning="Let ", stream_seq=2) for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        outcomes = save_progress(
            [save(r, 5, 2, f"me think {i}", "Hi") for i, r in enumerate(replies)]
        )
    assert set(outcomes.values()) == {SaveOutcome.SAVED}
    # One UPDATE for the batch (executemany) and one SELECT: not one ORM call per reply.
    assert sum(q["sql"].startswith("UPDATE") for q in queries.captured_queries) <= 1
    for i, reply in enumerate(replies):
        reply.refresh_from_db()
        assert (reply.reasoning, reply.content, reply.stream_seq) == (f"Let me think {i}", "Hi", 5)
        assert reply.heartbeat_at > timezone.now() - timedelta(seconds=5)
        assert reply.first_token_at == reply.created_at


def test_a_save_built_on_another_seq_writes_nothing_and_says_so(transactional_db, alice):
    # An earlier save committed but its answer was lost: the row is already at seq 7.
    reply = streaming_reply(alice, reasoning="one two ", stream_seq=7)
    assert save_progress([save(reply, 9, 5, "three ")]) == {reply.id: SaveOutcome.OUT_OF_STEP}
    reply.refresh_from_db()
    assert (reply.reasoning, reply.stream_seq) == ("one two ", 7)  # no text twice
    # A rewrite (no base seq) puts the whole text in place.
    assert save_progress([save(reply, 9, None, "one two three ")]) == {reply.id: SaveOutcome.SAVED}
    reply.refresh_from_db()
    assert (reply.reasoning, reply.stream_seq) == ("one two three ", 9)


def test_a_reaped_or_stopped_reply_takes_no_write(transactional_db, alice):
    reaped = streaming_reply(alice, reasoning="kept", stream_seq=3)
    stopped = streaming_reply(alice, reasoning="kept", stream_seq=3, cancel_requested=True)
    mine = streaming_reply(alice, reasoning="a", stream_seq=3)
    reaped_save = save(reaped, 4, 3, " more")
    Message.objects.filter(id=reaped.id).update(status="interrupted", lease="")
    outcomes = save_progress([reaped_save, save(stopped, 4, 3, " more"), save(mine, 4, None, "ab")])
    assert outcomes == {
        reaped.id: SaveOutcome.LEASE_LOST,
        stopped.id: SaveOutcome.CANCEL_REQUESTED,
        mine.id: SaveOutcome.SAVED,
    }
    for reply in (reaped, stopped):
        reply.refresh_from_db()
        assert (reply.reasoning, reply.stream_seq) == ("kept", 3)
    mine.refresh_from_db()
    assert mine.reasoning == "ab"
