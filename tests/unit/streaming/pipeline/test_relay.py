"""The relay numbers events, splits long text, makes the reasoning → answer switch its own
event, and loses nothing while Redis is away.

No Redis, no database: ``bus.append`` and ``bus.append_many`` are replaced by a fake
buffer, the upstream by a list.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from chat.models import Message
from chat.streaming.pipeline import relay as relay_module
from chat.streaming.pipeline.relay import MAX_EVENT_CHARS, LeaseLost, Relay
from chat.streaming.pipeline.reply import Beat, ReplyRun, consume
from chat.streaming.pipeline.store import ReplyJob
from chat.upstream import ChatRequest, ChatTurn, StreamEvent


class FakeBuffer:
    """A replay buffer with the append script's answers, and a switch to make Redis fail."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.down = False
        self.owner: str | None = None
        self.batches: list[int] = []  # events per append_many: one round trip each

    async def append(
        self, event: dict[str, Any], owner: str, conversation_id: Any, *, may_start: bool = False
    ) -> str:
        if self.down:
            raise redis.exceptions.ConnectionError("Redis is down")
        if self.owner is not None and self.owner != owner:
            return "fenced"
        mine = [e["seq"] for e in self.events if e["message_id"] == event["message_id"]]
        last = mine[-1] if mine else 0
        if last >= event["seq"]:
            return "duplicate"
        if last < event["seq"] - 1 and not may_start:
            return "lost"
        self.events.append(dict(event))
        self.owner = owner
        return "ok"

    async def append_many(self, items: list[tuple[dict[str, Any], str, Any]]) -> list[Any]:
        if self.down:
            raise redis.exceptions.ConnectionError("Redis is down")
        self.batches.append(len(items))
        return [
            await self.append(event, owner, conversation) for event, owner, conversation in items
        ]


@pytest.fixture
def buffer(monkeypatch: pytest.MonkeyPatch) -> FakeBuffer:
    fake = FakeBuffer()
    monkeypatch.setattr(relay_module.bus, "append", fake.append)
    monkeypatch.setattr(relay_module.bus, "append_many", fake.append_many)
    return fake


def make_relay() -> Relay:
    return Relay(uuid.uuid4(), uuid.uuid4(), lease="lease-1")


def make_run() -> ReplyRun:
    message = Message(id=uuid.uuid4(), role="assistant", status="streaming")
    job = ReplyJob(
        message_id=message.id,
        conversation_id=uuid.uuid4(),
        request=ChatRequest(model="qwen-plus", messages=(ChatTurn(role="user", content="q"),)),
        created_at=datetime.now(tz=UTC),
        claimed=message,
        lease="lease-1",
    )
    return ReplyRun(job=job, relay=Relay(job.message_id, job.conversation_id, job.lease), db=None)  # type: ignore[arg-type]


class ScriptedClient:
    """An upstream that yields a fixed list of events."""

    def __init__(self, events: list[StreamEvent]) -> None:
        self.events = events

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        for event in self.events:
            yield event


def texts(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["reasoning"], e["content"]) for e in events]


async def test_events_are_numbered_from_one_without_gaps(buffer):
    relay = make_relay()
    for piece in ("a", "b", "c"):
        relay.add(reasoning=piece)
        await relay.flush()
    await relay.flush()  # nothing pending: no event
    assert [e["seq"] for e in buffer.events] == [1, 2, 3]
    assert {e["message_id"] for e in buffer.events} == {str(relay.message_id)}
    assert texts(buffer.events) == [("a", ""), ("b", ""), ("c", "")]


async def test_pieces_between_flushes_are_coalesced_into_one_event(buffer):
    relay = make_relay()
    for piece in ("Let ", "me ", "think"):
        relay.add(reasoning=piece)
    relay.add(content="Hi")
    await relay.flush()
    assert texts(buffer.events) == [("Let me think", "Hi")]


async def test_long_text_is_split_into_events_of_at_most_8_kb(buffer):
    relay = make_relay()
    reasoning, content = "r" * (MAX_EVENT_CHARS + 1808), "c" * 9000
    relay.add(reasoning=reasoning, content=content)
    await relay.flush()
    sizes = [(len(e["reasoning"]), len(e["content"])) for e in buffer.events]
    assert sizes == [(MAX_EVENT_CHARS, 0), (1808, MAX_EVENT_CHARS - 1808), (0, 9000 - 6384)]
    assert "".join(e["reasoning"] for e in buffer.events) == reasoning
    assert "".join(e["content"] for e in buffer.events) == content
    assert [e["seq"] for e in buffer.events] == [1, 2, 3]


async def test_a_split_never_cuts_a_character_in_two(buffer):
    relay = make_relay()
    text = "思" * (MAX_EVENT_CHARS + 5)  # str slices count characters, not bytes
    relay.add(reasoning=text)
    await relay.flush()
    assert "".join(e["reasoning"] for e in buffer.events) == text
    assert all(len(e["reasoning"]) <= MAX_EVENT_CHARS for e in buffer.events)


async def test_the_switch_from_reasoning_to_answer_is_its_own_event(buffer):
    run = make_run()
    client = ScriptedClient(
        [
            StreamEvent("reasoning", text="Step 1. "),
            StreamEvent("reasoning", text="Step 2."),
            StreamEvent("content", text="The answer"),
            StreamEvent("content", text=" is 4."),
            StreamEvent("finish", finish_reason="stop"),
        ]
    )
    await consume(run, client)  # type: ignore[arg-type]
    await run.relay.flush()  # the reasoning, sealed at the switch, then the answer
    assert texts(buffer.events) == [("Step 1. Step 2.", ""), ("", "The answer is 4.")]
    received = run.received(seq=3)
    assert (received.reasoning, received.content) == ("Step 1. Step 2.", "The answer is 4.")
    assert received.finish_reason == "stop" and received.answer_started_at is not None


async def test_an_answer_without_reasoning_needs_no_extra_event(buffer):
    run = make_run()
    client = ScriptedClient([StreamEvent("content", text="Hi"), StreamEvent("content", text="!")])
    await consume(run, client)  # type: ignore[arg-type]
    await run.relay.flush()
    assert texts(buffer.events) == [("", "Hi!")]


async def test_a_status_after_deltas_takes_the_next_seq(buffer):
    relay = make_relay()
    relay.add(content="done")
    message = Message(id=relay.message_id, role="assistant", status="complete")
    assert relay.queue_status(message) == 2
    await relay.flush()
    assert [(e["type"], e["seq"]) for e in buffer.events] == [("delta", 1), ("status", 2)]
    assert buffer.events[1]["status"] == "complete"


async def test_text_waits_while_redis_is_down_and_nothing_is_lost_or_renumbered(buffer):
    relay = make_relay()
    relay.add(reasoning="one ")
    await relay.flush()
    buffer.down = True
    relay.add(reasoning="two ")
    with pytest.raises(redis.exceptions.ConnectionError):
        await relay.flush()
    for piece in ("three ", "four "):
        relay.add(reasoning=piece)
        with pytest.raises(redis.exceptions.ConnectionError):
            await relay.flush()
    assert relay.seq == 1 and relay.committed_text()[0] == "one "  # nothing counted as sent
    assert relay.backlog_chars == len("two three four ")
    buffer.down = False
    await relay.flush()  # the event formed before the outage keeps its seq and text
    await relay.flush()  # what came during the outage is coalesced into one event
    assert [(e["seq"], e["reasoning"]) for e in buffer.events] == [
        (1, "one "), (2, "two "), (3, "three four "),
    ]  # fmt: skip
    assert relay.committed_text() == ("one two three four ", "", 3)
    assert relay.backlog_chars == 0


async def test_an_append_that_landed_before_its_reply_was_lost_is_not_repeated(buffer):
    relay = make_relay()
    relay.add(content="once")
    relay.seal()
    # It landed; the answer was lost.
    await buffer.append({**relay._outbox[0]}, relay.lease, relay.conversation_id)
    await relay.flush()
    assert [e["seq"] for e in buffer.events] == [1]
    assert relay.committed_text() == ("", "once", 1)


async def test_a_buffer_that_lost_its_events_gets_a_snapshot_of_the_whole_text(buffer):
    relay = make_relay()
    relay.add(reasoning="Think. ", content="Ans")
    await relay.flush()
    buffer.events.clear()  # Redis restarted without its data
    buffer.owner = None
    relay.add(content="wer")
    await relay.flush()
    (snapshot,) = buffer.events
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 2
    assert (snapshot["reasoning"], snapshot["content"]) == ("Think. ", "Answer")
    assert snapshot["status"] == "streaming"
    relay.add(content="!")
    await relay.flush()
    assert [e["seq"] for e in buffer.events] == [2, 3]
    assert relay.committed_text() == ("Think. ", "Answer!", 3)


async def test_a_fenced_buffer_stops_the_relay_for_good(buffer):
    relay = make_relay()
    relay.add(content="a")
    await relay.flush()
    buffer.owner = "ended"  # the reaper took the reply over
    relay.add(content="b")
    with pytest.raises(LeaseLost):
        await relay.flush()
    assert relay.fenced
    buffer.owner = relay.lease
    with pytest.raises(LeaseLost):
        await relay.flush()
    assert [e["content"] for e in buffer.events] == ["a"]


async def test_concurrent_flushes_never_reuse_or_skip_a_seq(buffer, monkeypatch):
    append = buffer.append

    async def slow_append(event: dict[str, Any], owner: str, *args: Any, **kwargs: Any) -> str:
        await asyncio.sleep(0.001)
        return await append(event, owner, *args, **kwargs)

    monkeypatch.setattr(relay_module.bus, "append", slow_append)
    relay = make_relay()

    async def add_and_flush(i: int) -> None:
        relay.add(content=str(i))
        await relay.flush()

    await asyncio.gather(*(add_and_flush(i) for i in range(20)))
    seqs = [e["seq"] for e in buffer.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert "".join(e["content"] for e in buffer.events) == "".join(str(i) for i in range(20))


async def test_flushes_count_events_and_observe_latency_through_an_outage(buffer: FakeBuffer):
    from chat.observability import metrics

    def sample(name: str, **labels: str) -> float:
        return metrics.WORKER.get_sample_value(name, labels) or 0.0

    deltas = sample("ponder_events_relayed_total", type="delta")
    flushes = sample("ponder_added_latency_seconds_count")
    waited = sample("ponder_added_latency_seconds_sum")
    relay = Relay(uuid.uuid4(), uuid.uuid4(), "lease")
    relay.add(reasoning="a")
    buffer.down = True
    with pytest.raises(redis.exceptions.ConnectionError):
        await relay.flush()
    await asyncio.sleep(0.05)
    relay.add(content="b")
    buffer.down = False
    await relay.flush()
    assert sample("ponder_events_relayed_total", type="delta") == deltas + 2
    # One observation for the flush that sent both, timed from the oldest piece ("a").
    assert sample("ponder_added_latency_seconds_count") == flushes + 1
    assert sample("ponder_added_latency_seconds_sum") - waited >= 0.05
    await relay.flush()  # nothing new: nothing observed
    assert sample("ponder_added_latency_seconds_count") == flushes + 1


# --- the beat's batched flush: every reply's events in one round trip --------------------


async def test_one_beat_appends_every_replys_events_in_one_round_trip(buffer):
    runs = [make_run() for _ in range(3)]
    beat = Beat()
    beat.runs.update(runs)
    for i, run in enumerate(runs):
        run.relay.add(reasoning=f"think {i} ")
        run.relay.seal()  # the switch to the answer: an event of its own
        run.relay.add(content=f"answer {i}")
    await beat._flush()
    assert buffer.batches == [6]
    for i, run in enumerate(runs):
        mine = [e for e in buffer.events if e["message_id"] == str(run.job.message_id)]
        assert [(e["seq"], e["reasoning"], e["content"]) for e in mine] == [
            (1, f"think {i} ", ""), (2, "", f"answer {i}"),
        ]  # fmt: skip
        assert run.relay.committed_text() == (f"think {i} ", f"answer {i}", 2)
        assert not run.relay.has_unsent
    await beat._flush()  # nothing new: no round trip
    assert buffer.batches == [6]


async def test_a_beat_through_an_outage_keeps_every_event_and_coalesces_what_waited(buffer):
    run = make_run()
    beat = Beat()
    beat.runs.add(run)
    run.relay.add(reasoning="one ")
    buffer.down = True
    await beat._flush()
    assert run.flush_failing and run.relay.seq == 0
    run.relay.add(reasoning="two ")
    await beat._flush()  # still down: "two " waits behind the event formed before
    run.relay.add(reasoning="three ")
    buffer.down = False
    await beat._flush()
    await beat._flush()
    assert [(e["seq"], e["reasoning"]) for e in buffer.events] == [(1, "one "), (2, "two three ")]
    assert not run.flush_failing


async def test_a_beat_stops_a_fenced_reply_and_carries_on_with_the_others(buffer):
    fenced, other = make_run(), make_run()
    runs_by_id = {run.job.message_id: run for run in (fenced, other)}
    beat = Beat()
    beat.runs.update(runs_by_id.values())
    buffer.owner = "lease-1"
    real_append = buffer.append

    async def append(event, owner, conversation_id, **kwargs):
        if event["message_id"] == str(fenced.job.message_id):
            return "fenced"  # the reaper took this one over
        return await real_append(event, owner, conversation_id, **kwargs)

    buffer.append = append  # type: ignore[method-assign]
    for run in (fenced, other):
        run.relay.add(content="x")
    await beat._flush()
    assert fenced.handle.stop_reason == "lease_lost" and fenced.relay.fenced
    assert other.handle.stop_reason is None and other.relay.seq == 1
