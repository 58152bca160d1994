"""The websocket consumer: ownership, resume from the replay buffer, gap filling, no repeats.

Channels' ``WebsocketCommunicator`` drives the consumer in-process, against the real
Redis (replay buffers and live streams) and the test database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from chat.models import Conversation, Message
from chat.routing import websocket_urlpatterns
from chat.streaming import bus
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def delta(message_id: str, seq: int, content: str) -> dict[str, Any]:
    return {
        "type": "delta",
        "message_id": message_id,
        "seq": seq,
        "reasoning": "",
        "content": content,
    }


async def buffer_only(event: dict[str, Any]) -> None:
    """Append to the replay buffer without a live send, as if the live send was dropped."""
    await bus.async_redis().xadd(
        bus.replay_key(event["message_id"]), {"e": bus.encode(event)}, id=f"0-{event['seq']}"
    )


async def send_live(conversation_id: str, event: dict[str, Any]) -> None:
    """Put an event in the conversation's live stream only, as if its append was elsewhere."""
    await bus.async_redis().xadd(bus.live_key(conversation_id), {"e": bus.encode(event)})


@sync_to_async
def streaming_reply(owner_name: str) -> tuple[Any, str, str]:
    owner = make_user(owner_name)
    conversation = Conversation.objects.create(owner=owner)
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    reply = Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, status="streaming"
    )
    return owner, str(conversation.id), str(reply.id)


async def connect(user: Any, conversation_id: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/ws/conversations/{conversation_id}/"
    )
    communicator.scope["user"] = user
    return communicator


@pytest.fixture
async def alice_stream() -> AsyncIterator[tuple[WebsocketCommunicator, str, str]]:
    alice, conversation_id, message_id = await streaming_reply("alice")
    communicator = await connect(alice, conversation_id)
    connected, _ = await communicator.connect()
    assert connected
    yield communicator, conversation_id, message_id
    await bus.async_redis().delete(bus.replay_key(message_id), bus.live_key(conversation_id))
    # After a failed receive the application task is already cancelled; that is not news.
    with contextlib.suppress(asyncio.CancelledError):
        await communicator.disconnect()


async def received_seqs(communicator: WebsocketCommunicator, count: int) -> list[int]:
    return [(await communicator.receive_json_from(timeout=3))["seq"] for _ in range(count)]


async def test_resume_replays_what_the_client_missed_then_continues_live(alice_stream):
    communicator, conversation_id, message_id = alice_stream
    for seq in (1, 2, 3):
        await buffer_only(delta(message_id, seq, f"part {seq} "))
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": 1})
    assert await received_seqs(communicator, 2) == [2, 3]
    await send_live(conversation_id, delta(message_id, 3, "again"))  # already replayed: dropped
    await buffer_only(delta(message_id, 4, "live"))
    await send_live(conversation_id, delta(message_id, 4, "live"))
    event = await communicator.receive_json_from(timeout=3)
    assert (event["seq"], event["content"]) == (4, "live")
    assert await communicator.receive_nothing(timeout=0.3)


async def test_a_live_event_past_a_gap_first_pulls_the_missing_ones(alice_stream):
    communicator, conversation_id, message_id = alice_stream
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": 0})
    assert await communicator.receive_nothing(timeout=0.3)  # nothing buffered yet
    for seq in (1, 2, 3):
        await buffer_only(delta(message_id, seq, str(seq)))
    await buffer_only(delta(message_id, 4, "4"))
    await send_live(conversation_id, delta(message_id, 4, "4"))  # 1–3 were never sent live
    events = [await communicator.receive_json_from(timeout=3) for _ in range(4)]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert "".join(e["content"] for e in events) == "1234"


async def test_bad_resume_requests_get_an_error_event(alice_stream):
    communicator, _conversation_id, message_id = alice_stream
    await communicator.send_to(text_data=json.dumps({"type": "subscribe"}))
    assert (await communicator.receive_json_from())["code"] == "unknown_type"
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": -1})
    assert (await communicator.receive_json_from())["code"] == "invalid_after_seq"
    stranger = str(uuid.uuid4())
    await communicator.send_json_to({"type": "resume", "message_id": stranger, "after_seq": 0})
    answer = await communicator.receive_json_from()
    assert (answer["code"], answer["message_id"]) == ("unknown_message", stranger)


async def test_someone_elses_conversation_is_refused_at_the_handshake():
    _alice, conversation_id, _message_id = await streaming_reply("alice")
    bob = await sync_to_async(make_user)("bob")
    communicator = await connect(bob, conversation_id)
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)


async def test_an_anonymous_visitor_is_refused_at_the_handshake():
    from django.contrib.auth.models import AnonymousUser

    _alice, conversation_id, _message_id = await streaming_reply("alice")
    communicator = await connect(AnonymousUser(), conversation_id)
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)


@sync_to_async
def store_end(message_id: str, *, seq: int, content: str) -> None:
    Message.objects.filter(id=message_id).update(
        status="complete", content=content, stream_seq=seq, finish_reason="stop"
    )


async def test_a_resume_the_buffer_cannot_serve_gets_the_stored_snapshot(alice_stream):
    communicator, _conversation_id, message_id = alice_stream
    await store_end(message_id, seq=5, content="All of it.")  # the buffer has nothing (lost)
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": 2})
    snapshot = await communicator.receive_json_from(timeout=3)
    assert snapshot["type"] == "snapshot"
    assert (snapshot["seq"], snapshot["status"], snapshot["content"]) == (
        5,
        "complete",
        "All of it.",
    )
    assert snapshot["finish_reason"] == "stop" and "usage" in snapshot
    assert await communicator.receive_nothing(timeout=0.3)


async def test_a_client_that_has_everything_gets_no_snapshot(alice_stream):
    communicator, _conversation_id, message_id = alice_stream
    await store_end(message_id, seq=5, content="All of it.")
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": 5})
    assert await communicator.receive_nothing(timeout=0.5)


async def test_past_a_hole_the_buffer_continues_from_its_snapshot(alice_stream):
    communicator, _conversation_id, message_id = alice_stream
    snapshot = {
        "type": "snapshot", "message_id": message_id, "seq": 6, "status": "streaming",
        "reasoning": "r", "content": "abcdef",
    }  # fmt: skip
    await buffer_only(delta(message_id, 4, "lost before"))  # 1–3 are gone
    await buffer_only(snapshot)
    await buffer_only(delta(message_id, 7, "g"))
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": 1})
    events = [await communicator.receive_json_from(timeout=3) for _ in range(2)]
    assert [(e["type"], e["seq"]) for e in events] == [("snapshot", 6), ("delta", 7)]


async def test_a_live_event_past_an_unfillable_hole_is_held_back(alice_stream):
    communicator, conversation_id, message_id = alice_stream
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": 0})
    assert await communicator.receive_nothing(timeout=0.3)
    await send_live(conversation_id, delta(message_id, 9, "out of nowhere"))
    assert await communicator.receive_nothing(timeout=0.5)  # the client would see a gap


async def test_a_live_event_that_overtook_the_resume_is_not_sent_twice(alice_stream):
    communicator, conversation_id, message_id = alice_stream
    for seq in (1, 2, 3, 4):
        await buffer_only(delta(message_id, seq, str(seq)))
    await send_live(conversation_id, delta(message_id, 4, "4"))  # before the client's resume
    assert await received_seqs(communicator, 1) == [4]
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": 3})
    assert await communicator.receive_nothing(timeout=0.5)


async def test_a_resume_from_further_back_replays_past_an_early_live_event(alice_stream):
    communicator, conversation_id, message_id = alice_stream
    for seq in (1, 2, 3):
        await buffer_only(delta(message_id, seq, str(seq)))
    await send_live(conversation_id, delta(message_id, 3, "3"))  # the client drops it: a gap
    assert await received_seqs(communicator, 1) == [3]
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": 0})
    assert await received_seqs(communicator, 3) == [1, 2, 3]


async def test_a_live_event_that_beats_a_new_sockets_resume_waits_behind_its_replay(
    alice_stream,
):
    # A client reconnects mid-stream: seq 4 reaches its new socket a moment before its
    # resume from 2 does. It gets 3, 4 in order, not 4, 3, 4.
    communicator, conversation_id, message_id = alice_stream
    for seq in (1, 2, 3, 4):
        await buffer_only(delta(message_id, seq, str(seq)))
    await send_live(conversation_id, delta(message_id, 4, "4"))
    await asyncio.sleep(0.3)  # delivered to the consumer, well inside its grace
    await communicator.send_json_to({"type": "resume", "message_id": message_id, "after_seq": 2})
    assert await received_seqs(communicator, 2) == [3, 4]
    assert await communicator.receive_nothing(timeout=1.5)  # nothing held back comes later
    await send_live(conversation_id, delta(message_id, 5, "5"))
    assert await received_seqs(communicator, 1) == [5]


async def test_what_a_worker_appends_reaches_the_socket_live_with_no_send_of_its_own(
    alice_stream,
):
    communicator, conversation_id, message_id = alice_stream
    await bus.async_redis().script_flush()  # as after a Redis restart: the batch loads it
    items = [(delta(message_id, seq, str(seq)), "lease", conversation_id) for seq in (1, 2)]
    assert await bus.append_many(items) == ["ok", "ok"]
    assert await bus.append(delta(message_id, 3, "3"), "lease", conversation_id) == "ok"
    events = [await communicator.receive_json_from(timeout=3) for _ in range(3)]
    assert [(e["seq"], e["content"]) for e in events] == [(1, "1"), (2, "2"), (3, "3")]
    assert await bus.append_many(items[1:]) == ["duplicate"]  # not appended, not sent again
    assert await communicator.receive_nothing(timeout=0.3)
    await bus.async_redis().delete(bus.owner_key(message_id))
