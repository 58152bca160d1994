"""Live delivery to websockets: one ``XREAD`` loop per process over the followed conversations.

Every appended event is also in its conversation's live stream (``bus.live_key``), in
the same atomic step as its replay buffer. Each websocket process keeps one task that
reads every stream its sockets follow with a single blocking multi-key ``XREAD`` and
hands each entry's raw JSON to the followers; a process-private wake-up stream makes
the read start over at once when a socket follows a new conversation. Nothing is sent
per socket or per event through Redis: the worker's one append is the publication.

Delivery is best effort, like any live path: after a Redis outage the loop reads on
from the last entry it saw, and the consumer refills gaps and quiet messages from the
replay buffers.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Callable
from typing import Any, cast

import redis.asyncio as aioredis
from django.conf import settings

from chat.streaming import bus

logger = logging.getLogger(__name__)

BLOCK_MILLISECONDS = 5000
RETRY_SECONDS = 0.5
Deliver = Callable[[bytes], None]
Entries = list[tuple[bytes, dict[bytes, bytes]]]  # one stream's part of an XREAD answer


class LiveFeed:
    """Every conversation this process's websockets follow, read in one loop."""

    def __init__(self) -> None:
        self.followers: dict[str, set[Deliver]] = {}
        self.last_ids: dict[str, bytes | str] = {}
        self.wake_key = f"ponder:wake:{uuid.uuid4().hex}"
        self._task: asyncio.Task[None] | None = None
        # Its own connection: a blocking XREAD holds it for up to BLOCK_MILLISECONDS.
        self._reader = aioredis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=BLOCK_MILLISECONDS / 1000 + 10
        )

    async def follow(self, conversation_id: uuid.UUID | str, deliver: Deliver) -> None:
        """Hand ``deliver`` every event appended to the conversation from now on."""
        key = bus.live_key(conversation_id)
        if key not in self.followers:
            self.followers[key] = set()
            last_id = await self._last_id(key)
            # Meanwhile another socket may have followed and unfollowed it (removing both).
            self.last_ids.setdefault(key, last_id)
        self.followers.setdefault(key, set()).add(deliver)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._read_forever())
        else:
            await self._wake()

    def unfollow(self, conversation_id: uuid.UUID | str, deliver: Deliver) -> None:
        key = bus.live_key(conversation_id)
        followers = self.followers.get(key)
        if followers is None:
            return
        followers.discard(deliver)
        if not followers:
            del self.followers[key]
            self.last_ids.pop(key, None)
        if not self.followers and self._task is not None:
            self._task.cancel()  # nobody left to read for: no blocking read left behind
            self._task = None

    async def _last_id(self, key: str) -> bytes | str:
        try:
            newest = await bus.async_redis().xrevrange(key, count=1)
        except Exception:
            return "$"  # Redis is away: read what comes once it is back
        return cast(bytes, newest[0][0]) if newest else "0-0"

    async def _wake(self) -> None:
        try:
            await bus.async_redis().xadd(self.wake_key, {"w": "1"}, maxlen=1)
            await bus.async_redis().expire(self.wake_key, 60)
        except Exception:
            pass  # the read starts over within BLOCK_MILLISECONDS anyway

    async def _read_forever(self) -> None:
        while self.followers:
            for key, last_id in list(self.last_ids.items()):
                if last_id == "$":  # followed while Redis was away: from its newest entry on
                    self.last_ids[key] = await self._last_id(key)
            streams: dict[Any, Any] = dict(self.last_ids)
            streams[self.wake_key] = "$"
            try:
                answer = await self._reader.xread(streams, block=BLOCK_MILLISECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("reading live events failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for raw_key, entries in cast(list[tuple[bytes, Entries]], answer or []):
                try:
                    self._dispatch(raw_key.decode(), entries)
                except Exception:  # one bad entry must not end live delivery for everyone
                    logger.exception("dispatching live events of %s failed", raw_key)

    def _dispatch(self, key: str, entries: Entries) -> None:
        followers = self.followers.get(key)
        if not followers or not entries:
            return
        self.last_ids[key] = entries[-1][0]
        for _entry_id, fields in entries:
            raw = fields[b"e"]
            for deliver in list(followers):
                deliver(raw)


# One feed per event loop, weakly keyed like bus.async_redis' clients.
_feeds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveFeed] = weakref.WeakKeyDictionary()


def feed() -> LiveFeed:
    """Return the live feed of the running event loop."""
    loop = asyncio.get_running_loop()
    live = _feeds.get(loop)
    if live is None:
        live = _feeds[loop] = LiveFeed()
    return live
