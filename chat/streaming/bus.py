"""Every ``ponder:*`` Redis key, and where stream events go: the replay buffer and the group.

Every event of an assistant message has a ``seq`` (1, 2, 3…). It is stored in the Redis
Stream ``ponder:replay:<message id>`` under the entry id ``0-<seq>``, so ``XRANGE`` by seq
is trivial. One Lua script appends, atomically:

* only for the buffer's owner (``ponder:owner:<message id>``: the streaming worker's
  lease, or ``ENDED`` once the reaper or a stop before the claim took the reply over), so
  a frozen worker that wakes up can never publish after the final status;
* only the next seq: an append that already landed (its reply was lost) is a duplicate;
* and it notices a buffer that lost events (Redis restarted without its data, or with the
  last second of its AOF missing): the caller then appends a ``snapshot`` instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import weakref
from datetime import date
from typing import Any, Literal, cast

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
SEND_RATE_PREFIX = "ponder:rate"  # the send rate limiter's counters (``limits``)
ENDED = "ended"  # the owner of a buffer whose reply no worker may write to any more

Event = dict[str, Any]
# What XRANGE/XREVRANGE give this module's client (no decode_responses): (id, fields) in
# bytes. redis-py's types cover every client and command, hence ``None``s and ``str``s.
StreamEntries = list[tuple[bytes, dict[bytes, bytes]]]
# ok: appended. duplicate: this seq is already there. lost: the buffer lost earlier events,
# nothing appended. fenced: another owner holds the buffer, nothing appended.
AppendResult = Literal["ok", "duplicate", "lost", "fenced"]

APPEND_SCRIPT = """
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[1] then return 'fenced' end
local seq = tonumber(ARGV[2])
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = 0
if #top > 0 then last = tonumber(string.match(top[1][1], '%-(%d+)$')) end
if last >= seq then return 'duplicate' end
if last < seq - 1 and ARGV[5] ~= '1' then return 'lost' end
redis.call('XADD', KEYS[1], '0-' .. ARGV[2], 'e', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[4])
return 'ok'
"""


def replay_key(message_id: uuid.UUID | str) -> str:
    return f"ponder:replay:{message_id}"


def cancel_key(message_id: uuid.UUID | str) -> str:
    return f"ponder:cancel:{message_id}"


def owner_key(message_id: uuid.UUID | str) -> str:
    return f"ponder:owner:{message_id}"


def requeued_key(message_id: uuid.UUID | str) -> str:
    """Marks a pending reply the reaper queued again, so it is queued once per few minutes."""
    return f"ponder:requeued:{message_id}"


def daily_key(day: date) -> str:
    """Taken by the one worker that does the deployment's once-a-day work on ``day`` (UTC)."""
    return f"ponder:daily:{day.isoformat()}"


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


def _append_args(event: Event, owner: str, may_start: bool) -> tuple[list[str], list[Any]]:
    message_id = event["message_id"]
    keys = [replay_key(message_id), owner_key(message_id)]
    args = [owner, event["seq"], encode(event), REPLAY_TTL_SECONDS, "1" if may_start else "0"]
    return keys, args


async def append(event: Event, owner: str, *, may_start: bool = False) -> AppendResult:
    """Append ``event`` to its message's replay buffer, as ``owner``; see the module doc.

    ``may_start`` lets the event follow a hole (a snapshot, or the reaper's final status,
    which stand on their own). Raises redis errors when Redis is unreachable.
    """
    keys, args = _append_args(event, owner, may_start)
    result = await async_redis().eval(APPEND_SCRIPT, len(keys), *keys, *args)
    return cast(AppendResult, result.decode())


async def send_live(conversation_id: uuid.UUID | str, event: Event) -> None:
    """Send an appended event to the conversation's sockets; best effort.

    A client that misses one fills the gap from the buffer.
    """
    try:
        await get_channel_layer().group_send(
            group_name(conversation_id), {"type": "stream.event", "event": event}
        )
    except Exception:
        logger.warning("live send of %s seq %s failed; clients catch up from the buffer",
                       event["message_id"], event["seq"], exc_info=True)  # fmt: skip


async def publish_final(conversation_id: uuid.UUID | str, event: Event) -> None:
    """Append and send the final event of a reply no worker holds (reaped, or never claimed)."""
    await append(event, ENDED, may_start=True)
    await send_live(conversation_id, event)


async def fence(message_id: uuid.UUID | str) -> None:
    """Take the buffer from its worker: after this, only ``ENDED`` appends are accepted."""
    await async_redis().set(owner_key(message_id), ENDED, ex=REPLAY_TTL_SECONDS)


async def replay(message_id: uuid.UUID | str, after_seq: int) -> list[Event]:
    """Return the buffered events of a message with ``seq > after_seq``, in order."""
    entries = cast(
        StreamEntries,
        await async_redis().xrange(replay_key(message_id), min=f"(0-{after_seq}", max="+"),
    )
    return [json.loads(fields[b"e"]) for _entry_id, fields in entries]


async def cancelled(message_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Return which of these replies have their cancel flag raised."""
    if not message_ids:
        return set()
    flags = await async_redis().mget([cancel_key(m) for m in message_ids])
    return {m for m, flag in zip(message_ids, flags, strict=True) if flag is not None}


# --- sync side (views and services) -----------------------------------------------------


def sync_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def publish_ended(conversation_id: uuid.UUID | str, event: Event) -> None:
    """Append and send the final event of a reply no worker holds (stopped before its claim)."""
    client = sync_redis()
    try:
        keys, args = _append_args(event, ENDED, may_start=True)
        client.eval(APPEND_SCRIPT, len(keys), *keys, *args)
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
