"""Find replies whose worker died (stale heartbeat) and end them ``interrupted``.

Every worker runs ``reap_forever``; a short Redis lock lets one of them work per round.
Replies left ``pending`` (a lost broker message) are queued again; the claim makes a
duplicate harmless.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from chat.models import Message

from . import bus
from .events import status_event
from .store import DbRunner, build_request, db_job, estimated_usage, usage_fields

logger = logging.getLogger(__name__)

REQUEUE_AFTER = timedelta(minutes=2)
INTERRUPTED_MESSAGE = "The worker writing this reply stopped unexpectedly. The text so far is kept."


@db_job
def interrupt_stale_replies() -> list[Message]:
    """End replies with a stale heartbeat; return those this call ended."""
    cutoff = timezone.now() - timedelta(seconds=settings.STREAM_STALE_SECONDS)
    stale = list(
        Message.objects.filter(
            status=Message.Status.STREAMING, heartbeat_at__lt=cutoff
        ).select_related("reply_to")[:200]
    )
    ended = []
    for message in stale:
        # Text only: reading every attached image to count tokens would be wasted I/O.
        request = build_request(message, images=False)
        usage = estimated_usage(request, message.reasoning, message.content)
        done = Message.objects.filter(
            id=message.id, status=Message.Status.STREAMING, heartbeat_at__lt=cutoff
        ).update(
            status=Message.Status.INTERRUPTED,
            error_code="worker_lost",
            error_message=INTERRUPTED_MESSAGE,
            completed_at=timezone.now(),
            **usage_fields(message.model, message.created_at, usage),
        )
        if done:
            ended.append(Message.objects.get(id=message.id))
    return ended


@db_job
def forgotten_pending_replies() -> list[uuid.UUID]:
    cutoff = timezone.now() - REQUEUE_AFTER
    return list(
        Message.objects.filter(status=Message.Status.PENDING, created_at__lt=cutoff).values_list(
            "id", flat=True
        )[:200]
    )


async def reap_once(db: DbRunner, requeue_reply: Callable[[uuid.UUID], None]) -> int:
    """Do one round if no other worker holds the lock; return how many replies were ended."""
    client = bus.async_redis()
    if not await client.set(
        bus.REAPER_LOCK_KEY, "1", nx=True, ex=max(1, int(settings.REAPER_INTERVAL_SECONDS))
    ):
        return 0
    ended = await db(interrupt_stale_replies)
    for message in ended:
        seq = await bus.last_seq(message.id) + 1
        await bus.publish(message.conversation_id, status_event(message, seq))
        logger.warning("reply %s interrupted: heartbeat went stale", message.id)
    for message_id in await db(forgotten_pending_replies):
        if await client.set(bus.requeued_key(message_id), "1", nx=True, ex=300):
            await db(requeue_reply, message_id)
    return len(ended)


async def reap_forever(db: DbRunner, requeue_reply: Callable[[uuid.UUID], None]) -> None:
    while True:
        try:
            await reap_once(db, requeue_reply)
        except Exception:
            logger.exception("reaper round failed")
        await asyncio.sleep(settings.REAPER_INTERVAL_SECONDS)
