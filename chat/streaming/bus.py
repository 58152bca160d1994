"""Every ``ponder:*`` Redis key, and where stream events go: the replay buffer and the group.

Every event of an assistant message has a ``seq`` (1, 2, 3…). It is stored in the Redis
Stream ``ponder:replay:<message id>`` under the entry id ``0-<seq>``, so Redis itself
refuses a second event with the same or an older number, and ``XRANGE`` by seq is trivial.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import weakref
from typing import Any, cast

import redis
import redis.asyncio as aioredis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

REPLAY_TTL_SECONDS = 3600
CANCEL_TTL_SECONDS = 3600
CANCEL_CHANNEL = "ponder:cancel"
REAPER_LOCK_KEY = "ponder:reaper"

Event = dict[str, Any]
# What XRANGE/XREVRANGE give this module's client (no decode_responses): (id, fields) in
# bytes. redis-py's types cover every client and command, hence ``None``s and ``str``s.
StreamEntries = list[tuple[bytes, dict[bytes, bytes]]]


def replay_key(message_id: uuid.UUID | str) -> str:
    return f"ponder:replay:{message_id}"


def cancel_key(message_id: uuid.UUID | str) -> str:
    return f"ponder:cancel:{message_id}"


def requeued_key(message_id: uuid.UUID | str) -> str:
    """Marks a pending reply the reaper queued again, so it is queued once per few minutes."""
    return f"ponder:requeued:{message_id}"


def group_name(conversation_id: uuid.UUID | str) -> str:
    return f"conversation.{conversation_id}"


def encode(event: Event) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


# --- async side (the worker's loop, the websocket consumer) ------------------------------

# Keyed by the loop itself, weakly: an id() can be reused by a later loop, which would
# then get a client bound to a closed one.
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def async_redis() -> aioredis.Redis:
    """Return a Redis client bound to the running event loop (one pool per loop)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=500, timeout=30, socket_timeout=15
        )
        client = aioredis.Redis(connection_pool=pool)
        _async_clients[loop] = client
    return client


PUBLISH_ATTEMPTS = 4


async def publish(conversation_id: uuid.UUID | str, event: Event) -> None:
    """Append ``event`` to its message's replay buffer, then send it to the conversation.

    The buffer is the record: appending is retried and raises only when Redis stays down.
    The live send is best effort; a client that misses one fills the gap from the buffer.
    """
    for attempt in range(PUBLISH_ATTEMPTS):
        try:
            await _append(event)
            break
        except redis.exceptions.ResponseError as exc:
            if "equal or smaller" in str(exc):
                break  # an earlier attempt landed but its reply was lost
            raise
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            if attempt == PUBLISH_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.1 * 2**attempt)
    try:
        await get_channel_layer().group_send(
            group_name(conversation_id), {"type": "stream.event", "event": event}
        )
    except Exception:
        logger.warning("live send of %s seq %s failed; clients catch up from the buffer",
                       event["message_id"], event["seq"], exc_info=True)  # fmt: skip


async def _append(event: Event) -> None:
    key = replay_key(event["message_id"])
    async with async_redis().pipeline(transaction=False) as pipe:
        pipe.xadd(key, {"e": encode(event)}, id=f"0-{event['seq']}")
        pipe.expire(key, REPLAY_TTL_SECONDS)
        await pipe.execute()


async def replay(message_id: uuid.UUID | str, after_seq: int) -> list[Event]:
    """Return the buffered events of a message with ``seq > after_seq``, in order."""
    entries = cast(
        StreamEntries,
        await async_redis().xrange(replay_key(message_id), min=f"(0-{after_seq}", max="+"),
    )
    return [json.loads(fields[b"e"]) for _entry_id, fields in entries]


async def last_seq(message_id: uuid.UUID | str) -> int:
    entries = cast(StreamEntries, await async_redis().xrevrange(replay_key(message_id), count=1))
    if not entries:
        return 0
    return int(entries[0][0].split(b"-")[1])


# --- sync side (views and services) -----------------------------------------------------


def sync_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)


def publish_sync(conversation_id: uuid.UUID | str, event: Event) -> None:
    """Like ``publish``, for code that is not running on an event loop."""
    client = sync_redis()
    key = replay_key(event["message_id"])
    try:
        pipe = client.pipeline(transaction=False)
        pipe.xadd(key, {"e": encode(event)}, id=f"0-{event['seq']}")
        pipe.expire(key, REPLAY_TTL_SECONDS)
        pipe.execute()
    finally:
        client.close()
    async_to_sync(get_channel_layer().group_send)(
        group_name(conversation_id), {"type": "stream.event", "event": event}
    )


def request_cancel(message_id: uuid.UUID | str) -> None:
    """Raise the cancel flag of a message and tell every worker to look at it now."""
    client = sync_redis()
    try:
        client.set(cancel_key(message_id), "1", ex=CANCEL_TTL_SECONDS)
        client.publish(CANCEL_CHANNEL, str(message_id))
    finally:
        client.close()
