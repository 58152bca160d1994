"""Every ``ponder:*`` Redis key, and where stream events go: the replay buffer and live.

Every event of an assistant message has a ``seq`` (1, 2, 3…). It is stored in the Redis
Stream ``ponder:replay:<message id>`` under the entry id ``0-<seq>``, so ``XRANGE`` by seq
is trivial, and in the same step added to ``ponder:live:<conversation id>``, the stream
the websocket processes read live (``live.LiveFeed``): live delivery and replay are one
write. One Lua script appends, atomically:

* only for the buffer's owner (``ponder:owner:<message id>``: the streaming worker's
  lease, or ``ENDED`` once the reaper or a stop before the claim took the reply over), so
  a frozen worker that wakes up can never publish after the final status;
* only the next seq: an append that already landed (its reply was lost) is a duplicate;
* and it notices a buffer that lost events (Redis restarted without its data, or with the
  last second of its AOF missing): the caller then appends a ``snapshot`` instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
import weakref
from datetime import date
from typing import Any, Literal, cast

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import NoScriptError

from chat.upstream.transport import fastjson

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
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'e', ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[7])
return 'ok'
"""
APPEND_SHA = hashlib.sha1(APPEND_SCRIPT.encode()).hexdigest()
# Entries a conversation's live stream keeps: readers only need what arrived since their
# last read; anything older is in the replay buffers.
LIVE_MAXLEN = 1000
# A live stream idle this long goes: readers are at most seconds behind (the replay
# buffers keep an hour), so it need not double their memory for the hour.
LIVE_TTL_SECONDS = 120


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


def live_key(conversation_id: uuid.UUID | str) -> str:
    """The conversation's live stream: every appended event of its messages, in order."""
    return f"ponder:live:{conversation_id}"


def encode(event: Event) -> str:
    return fastjson.dumps(event)


def decode(raw: bytes | str) -> Event:
    return cast(Event, fastjson.loads(raw))


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


def _append_args(
    event: Event, owner: str, conversation_id: uuid.UUID | str, may_start: bool
) -> tuple[list[str], list[Any]]:
    message_id = event["message_id"]
    keys = [replay_key(message_id), owner_key(message_id), live_key(conversation_id)]
    args = [
        owner, event["seq"], encode(event), REPLAY_TTL_SECONDS, "1" if may_start else "0",
        LIVE_MAXLEN, LIVE_TTL_SECONDS,
    ]  # fmt: skip
    return keys, args


async def append(
    event: Event, owner: str, conversation_id: uuid.UUID | str, *, may_start: bool = False
) -> AppendResult:
    """Append ``event`` to its message's replay buffer and live, as ``owner``; see the module doc.

    ``may_start`` lets the event follow a hole (a snapshot, or the reaper's final status,
    which stand on their own). Raises redis errors when Redis is unreachable.
    """
    keys, args = _append_args(event, owner, conversation_id, may_start)
    result = await async_redis().eval(APPEND_SCRIPT, len(keys), *keys, *args)
    return cast(AppendResult, result.decode())


async def append_many(
    items: list[tuple[Event, str, uuid.UUID | str]],
) -> list[AppendResult | Exception]:
    """Append many ``(event, owner, conversation id)`` in one round trip, in order.

    Each item's answer is what ``append`` would return, or the error that append met.
    Raises redis errors when Redis is unreachable (then nothing may have been appended).
    """
    client = async_redis()
    for attempt in (1, 2):
        pipe = client.pipeline(transaction=False)
        for event, owner, conversation_id in items:
            keys, args = _append_args(event, owner, conversation_id, False)
            pipe.execute_command("EVALSHA", APPEND_SHA, len(keys), *keys, *args)
        results = await pipe.execute(raise_on_error=False)
        if attempt == 1 and any(isinstance(r, NoScriptError) for r in results):
            # Redis restarted (or flushed its scripts): load it and send the batch again;
            # what did land answers "duplicate" the second time.
            await client.script_load(APPEND_SCRIPT)
            continue
        break
    return [r if isinstance(r, Exception) else cast(AppendResult, r.decode()) for r in results]


async def publish_final(conversation_id: uuid.UUID | str, event: Event) -> None:
    """Append the final event of a reply no worker holds (reaped, or never claimed)."""
    await append(event, ENDED, conversation_id, may_start=True)


async def fence(message_id: uuid.UUID | str) -> None:
    """Take the buffer from its worker: after this, only ``ENDED`` appends are accepted."""
    await async_redis().set(owner_key(message_id), ENDED, ex=REPLAY_TTL_SECONDS)


async def replay(message_id: uuid.UUID | str, after_seq: int) -> list[Event]:
    """Return the buffered events of a message with ``seq > after_seq``, in order."""
    entries = cast(
        StreamEntries,
        await async_redis().xrange(replay_key(message_id), min=f"(0-{after_seq}", max="+"),
    )
    return [decode(fields[b"e"]) for _entry_id, fields in entries]


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
    """Append the final event of a reply no worker holds (stopped before its claim)."""
    client = sync_redis()
    try:
        keys, args = _append_args(event, ENDED, conversation_id, may_start=True)
        client.eval(APPEND_SCRIPT, len(keys), *keys, *args)
    finally:
        client.close()


def request_cancel(message_id: uuid.UUID | str) -> None:
    """Raise the cancel flag of a message and tell every worker to look at it now."""
    client = sync_redis()
    try:
        client.set(cancel_key(message_id), "1", ex=CANCEL_TTL_SECONDS)
        client.publish(CANCEL_CHANNEL, str(message_id))
    finally:
        client.close()
