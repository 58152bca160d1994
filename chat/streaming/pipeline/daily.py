"""The deployment's once-a-day work (the retention policy), done by one worker per UTC day.

Every worker looks every ``CHECK_SECONDS``; the first to take the day's Redis key does the
work, the others find it taken. A run that fails is logged and not retried that day: the
work is idempotent, so the next day's run finishes it. Its database work runs in a thread
of the worker's database pool, never on the event loop, so replies keep streaming.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, timedelta

from django.utils import timezone

from chat.streaming import bus
from chat.streaming.pipeline.store import DbRunner

logger = logging.getLogger(__name__)

CHECK_SECONDS = 300
# Longer than a day, so a key taken just before midnight is still there just after it.
KEY_TTL = timedelta(days=2)


async def run_daily_once(db: DbRunner, job: Callable[[], None], day: date | None = None) -> bool:
    """Run ``job`` unless a worker already ran it ``day`` (today, UTC); True if this one did."""
    day = day or timezone.now().date()
    taken = await bus.async_redis().set(
        bus.daily_key(day), "1", nx=True, ex=int(KEY_TTL.total_seconds())
    )
    if not taken:
        return False
    await db(job)
    return True


async def run_daily_forever(db: DbRunner, job: Callable[[], None]) -> None:
    while True:
        try:
            await run_daily_once(db, job)
        except Exception:
            logger.exception("the daily run failed; the next day's run catches up")
        await asyncio.sleep(CHECK_SECONDS)
