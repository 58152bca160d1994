"""A web process's live feed: one XREAD loop handing each conversation's events to its sockets.

Against the real Redis; the sockets are plain callbacks.
"""

from __future__ import annotations

import asyncio
import uuid

from chat.streaming import bus
from chat.streaming.delivery.live import LiveFeed


async def wait_for(received: list[bytes], count: int) -> None:
    for _ in range(300):
        if len(received) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"got {len(received)} of {count} events")


async def test_a_follow_that_races_another_sockets_follow_and_leave_still_gets_events():
    conversation_id = str(uuid.uuid4())
    feed = LiveFeed()
    looked_up = asyncio.Event()
    lookup = feed._last_id

    async def slow_lookup(key: str) -> bytes | str:
        await looked_up.wait()
        return await lookup(key)

    feed._last_id = slow_lookup  # type: ignore[method-assign]
    first: list[bytes] = []
    following = asyncio.create_task(feed.follow(conversation_id, first.append))
    await asyncio.sleep(0.05)  # the first socket waits for the stream's newest id
    feed._last_id = lookup  # type: ignore[method-assign]
    other: list[bytes] = []
    await feed.follow(conversation_id, other.append)
    feed.unfollow(conversation_id, other.append)  # the second socket comes and goes
    looked_up.set()
    await following
    try:
        await bus.async_redis().xadd(bus.live_key(conversation_id), {"e": b'{"seq": 1}'})
        await wait_for(first, 1)
        assert first == [b'{"seq": 1}']
    finally:
        feed.unfollow(conversation_id, first.append)
        await bus.async_redis().delete(bus.live_key(conversation_id))


async def test_an_entry_that_cannot_be_delivered_does_not_end_live_delivery():
    conversation_id = str(uuid.uuid4())
    key = bus.live_key(conversation_id)
    feed = LiveFeed()
    received: list[bytes] = []
    await feed.follow(conversation_id, received.append)
    try:
        await bus.async_redis().xadd(key, {"not-an-event": b"x"})
        await asyncio.sleep(0.2)
        await bus.async_redis().xadd(key, {"e": b'{"seq": 2}'})
        await wait_for(received, 1)
        assert received == [b'{"seq": 2}']
    finally:
        feed.unfollow(conversation_id, received.append)
        await bus.async_redis().delete(key)
