"""The relay numbers events, splits long text and makes the reasoning → answer switch its own event.

No Redis, no database: ``bus.publish`` is replaced by a recorder, the upstream by a list.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chat.models import Message
from chat.streaming import relay as relay_module
from chat.streaming.relay import MAX_EVENT_CHARS, Relay, ReplyRun, consume
from chat.streaming.store import ReplyJob
from chat.upstream import ChatRequest, ChatTurn, StreamEvent


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every event the relay publishes, in order."""
    events: list[dict[str, Any]] = []

    async def record(conversation_id: uuid.UUID, event: dict[str, Any]) -> None:
        events.append(dict(event))

    monkeypatch.setattr(relay_module.bus, "publish", record)
    return events


def make_job() -> ReplyJob:
    message = Message(id=uuid.uuid4(), role="assistant", status="streaming")
    return ReplyJob(
        message_id=message.id,
        conversation_id=uuid.uuid4(),
        request=ChatRequest(model="qwen-plus", messages=(ChatTurn(role="user", content="q"),)),
        created_at=datetime.now(tz=UTC),
        claimed=message,
    )


class ScriptedClient:
    """An upstream that yields a fixed list of events."""

    def __init__(self, events: list[StreamEvent]) -> None:
        self.events = events

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        for event in self.events:
            yield event


def texts(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["reasoning"], e["content"]) for e in events]


async def test_events_are_numbered_from_one_without_gaps(published):
    job = make_job()
    relay = Relay(job)
    for piece in ("a", "b", "c"):
        relay.add(reasoning=piece)
        await relay.flush()
    await relay.flush()  # nothing pending: no event
    assert [e["seq"] for e in published] == [1, 2, 3]
    assert {e["message_id"] for e in published} == {str(job.message_id)}
    assert texts(published) == [("a", ""), ("b", ""), ("c", "")]


async def test_pieces_between_flushes_are_coalesced_into_one_event(published):
    relay = Relay(make_job())
    for piece in ("Let ", "me ", "think"):
        relay.add(reasoning=piece)
    relay.add(content="Hi")
    await relay.flush()
    assert texts(published) == [("Let me think", "Hi")]


async def test_long_text_is_split_into_events_of_at_most_8_kb(published):
    relay = Relay(make_job())
    reasoning, content = "r" * (MAX_EVENT_CHARS + 1808), "c" * 9000
    relay.add(reasoning=reasoning, content=content)
    await relay.flush()
    sizes = [(len(e["reasoning"]), len(e["content"])) for e in published]
    assert sizes == [(MAX_EVENT_CHARS, 0), (1808, MAX_EVENT_CHARS - 1808), (0, 9000 - 6384)]
    assert "".join(e["reasoning"] for e in published) == reasoning
    assert "".join(e["content"] for e in published) == content
    assert [e["seq"] for e in published] == [1, 2, 3]


async def test_a_split_never_cuts_a_character_in_two(published):
    relay = Relay(make_job())
    text = "思" * (MAX_EVENT_CHARS + 5)  # str slices count characters, not bytes
    relay.add(reasoning=text)
    await relay.flush()
    assert "".join(e["reasoning"] for e in published) == text
    assert all(len(e["reasoning"]) <= MAX_EVENT_CHARS for e in published)


async def test_the_switch_from_reasoning_to_answer_is_its_own_event(published):
    job = make_job()
    run = ReplyRun(job=job, relay=Relay(job), db=None)  # type: ignore[arg-type]
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
    await run.relay.flush()
    assert texts(published) == [("Step 1. Step 2.", ""), ("", "The answer is 4.")]
    snapshot = run.snapshot()
    assert (snapshot.reasoning, snapshot.content) == ("Step 1. Step 2.", "The answer is 4.")
    assert snapshot.finish_reason == "stop" and snapshot.answer_started_at is not None


async def test_an_answer_without_reasoning_needs_no_extra_event(published):
    job = make_job()
    run = ReplyRun(job=job, relay=Relay(job), db=None)  # type: ignore[arg-type]
    client = ScriptedClient([StreamEvent("content", text="Hi"), StreamEvent("content", text="!")])
    await consume(run, client)  # type: ignore[arg-type]
    await run.relay.flush()
    assert texts(published) == [("", "Hi!")]


async def test_a_status_after_deltas_takes_the_next_seq(published):
    job = make_job()
    relay = Relay(job)
    relay.add(content="done")
    await relay.flush()
    job.claimed.status = "complete"
    await relay.publish_status(job.claimed)
    assert [(e["type"], e["seq"]) for e in published] == [("delta", 1), ("status", 2)]
    assert published[1]["status"] == "complete"


async def test_concurrent_flushes_never_reuse_or_skip_a_seq(monkeypatch):
    seen: list[int] = []

    async def slow_publish(conversation_id: uuid.UUID, event: dict[str, Any]) -> None:
        await asyncio.sleep(0.001)
        seen.append(event["seq"])

    monkeypatch.setattr(relay_module.bus, "publish", slow_publish)
    relay = Relay(make_job())

    async def add_and_flush(i: int) -> None:
        relay.add(content=str(i))
        await relay.flush()

    await asyncio.gather(*(add_and_flush(i) for i in range(20)))
    assert seen == list(range(1, len(seen) + 1))
