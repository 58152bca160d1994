"""End replies whose worker died or froze (stale heartbeat) ``interrupted``, with what streamed.

Every worker runs ``reap_forever``; a short Redis lock lets one of them work per round,
and lapses on its own if that worker freezes. For each stale reply the reaper first
*fences* its replay buffer (the worker, should it wake up, can append nothing more), then
rebuilds the text clients were sent from the buffer (the database's copy may be a second
old), stores the end and publishes the final status. Replies whose queueing failed are
queued again at once, replies left ``pending`` for minutes (a lost broker message) too;
the claim makes a duplicate harmless.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from chat.models import Message
from chat.observability import metrics
from chat.streaming import bus
from chat.streaming.errortext import INTERRUPTED_TEXT
from chat.streaming.events import status_event
from chat.streaming.pipeline.store import (
    DbRunner,
    build_request,
    db_job,
    ended_reply_fields,
    final_usage,
)

logger = logging.getLogger(__name__)

REQUEUE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Streamed:
    """The text of events 1..seq, as every client that followed the stream holds it."""

    reasoning: str
    content: str
    seq: int


def rebuild(events: list[bus.Event]) -> Streamed | None:
    """Return the text a buffer's events add up to, or None when it has a hole."""
    reasoning: list[str] = []
    content: list[str] = []
    seq = 0
    for event in events:
        if event["type"] == "snapshot":
            reasoning, content = [event["reasoning"]], [event["content"]]
        elif event["seq"] != seq + 1:
            return None
        elif event["type"] == "delta":
            reasoning.append(event["reasoning"])
            content.append(event["content"])
        seq = event["seq"]
    return Streamed("".join(reasoning), "".join(content), seq)


@db_job
def stale_replies() -> list[uuid.UUID]:
    cutoff = timezone.now() - timedelta(seconds=settings.STREAM_STALE_SECONDS)
    return list(
        Message.objects.filter(
            status=Message.Status.STREAMING, heartbeat_at__lt=cutoff
        ).values_list("id", flat=True)[:200]
    )


@db_job
def interrupt_reply(message_id: uuid.UUID, streamed: Streamed | None) -> Message | None:
    """End a fenced reply ``interrupted`` with the streamed text; None if it already ended.

    Without the buffer (Redis lost it), the database's last save is the streamed text: a
    progress save stores only text that was appended, with its seq.
    """
    message = (
        Message.objects.filter(id=message_id, status=Message.Status.STREAMING)
        .select_related("reply_to")
        .first()
    )
    if message is None:
        return None
    if streamed is None or streamed.seq < message.stream_seq:
        streamed = Streamed(message.reasoning, message.content, message.stream_seq)
    # Text only: reading every attached image to count tokens would be wasted I/O.
    usage = final_usage(build_request(message, images=False), None, *_texts(streamed))
    done = Message.objects.filter(id=message_id, status=Message.Status.STREAMING).update(
        status=Message.Status.INTERRUPTED,
        reasoning=streamed.reasoning,
        content=streamed.content,
        stream_seq=streamed.seq + 1,
        lease="",  # the worker's writes, should it wake, now match nothing
        error_code="worker_lost",
        error_message=INTERRUPTED_TEXT,
        completed_at=timezone.now(),
        **ended_reply_fields(message.model, message.created_at, usage),
    )
    return Message.objects.get(id=message_id) if done else None


def _texts(streamed: Streamed) -> tuple[str, str]:
    return streamed.reasoning, streamed.content


async def end_stale_reply(db: DbRunner, message_id: uuid.UUID) -> bool:
    """Fence, rebuild, store and publish the end of one stale reply; True if it ended it."""
    await bus.fence(message_id)
    streamed = rebuild(await bus.replay(message_id, 0))
    message = await db(interrupt_reply, message_id, streamed)
    if message is None:
        return False
    event = status_event(message, message.stream_seq)
    await bus.publish_final(message.conversation_id, event)
    metrics.REAPER_ACTIONS.labels("interrupted").inc()
    logger.warning("reply %s interrupted: heartbeat went stale", message_id)
    return True


@db_job
def undispatched_replies() -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Return pending replies whose queueing failed, and those waiting for minutes."""
    pending = Message.objects.filter(status=Message.Status.PENDING)
    failed = pending.filter(needs_dispatch=True).values_list("id", flat=True)[:200]
    waiting = pending.filter(needs_dispatch=False, created_at__lt=timezone.now() - REQUEUE_AFTER)
    return list(failed), list(waiting.values_list("id", flat=True)[:200])


@db_job
def mark_dispatched(message_id: uuid.UUID) -> None:
    Message.objects.filter(id=message_id).update(needs_dispatch=False)


async def requeue_undispatched(db: DbRunner, requeue_reply: Callable[[uuid.UUID], None]) -> None:
    """Queue again what the broker never got (at once), and what waits for minutes (once)."""
    failed, waiting = await db(undispatched_replies)
    for message_id in failed:
        await db(requeue_reply, message_id)
        metrics.REAPER_ACTIONS.labels("requeued").inc()
        await db(mark_dispatched, message_id)
    client = bus.async_redis()
    for message_id in waiting:
        marker = bus.requeued_key(message_id)
        if await client.set(marker, "1", nx=True, ex=300):
            try:
                await db(requeue_reply, message_id)
            except Exception:
                await client.delete(marker)
                raise
            metrics.REAPER_ACTIONS.labels("requeued").inc()


async def reap_once(db: DbRunner, requeue_reply: Callable[[uuid.UUID], None]) -> int:
    """Do one round if no other worker holds the lock; return how many replies were ended."""
    client = bus.async_redis()
    if not await client.set(
        bus.REAPER_LOCK_KEY, "1", nx=True, ex=max(1, int(settings.REAPER_INTERVAL_SECONDS))
    ):
        return 0
    ended = 0
    for message_id in await db(stale_replies):
        try:
            ended += await end_stale_reply(db, message_id)
        except Exception:
            logger.exception("ending stale reply %s failed; next round retries", message_id)
    await requeue_undispatched(db, requeue_reply)
    return ended


async def reap_forever(db: DbRunner, requeue_reply: Callable[[uuid.UUID], None]) -> None:
    while True:
        try:
            await reap_once(db, requeue_reply)
        except Exception:
            logger.exception("reaper round failed")
        await asyncio.sleep(settings.REAPER_INTERVAL_SECONDS)
