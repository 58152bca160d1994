"""The worker's event loop: every reply of this process streams on one asyncio loop.

Celery's thread pool gives each delivered task a thread that just waits here, so the
pool's concurrency caps how many replies one worker holds, while all network I/O
(upstream, Redis, channel layer) is multiplexed on a single loop and a shared
connection pool. Database calls go to a small thread pool of their own.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.conf import settings

from chat.streaming import bus
from chat.streaming.pipeline import store
from chat.streaming.pipeline.daily import run_daily_forever
from chat.streaming.pipeline.reaper import reap_forever
from chat.streaming.pipeline.reply import Beat, ReplyHandle, stream_reply
from chat.streaming.pipeline.titles import write_title
from chat.upstream import UpstreamClient

logger = logging.getLogger(__name__)

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class Hooks:
    """What streaming asks of the task layer above it, injected to keep imports one-way."""

    requeue_reply: Callable[[uuid.UUID], None]
    request_title: Callable[[uuid.UUID], None]
    # The deployment's once-a-day work (the retention policy), run in a database thread.
    run_daily: Callable[[], None]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed: every upstream read and Redis reply costs the loop less."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - asyncio's own loop does the same, slower
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class WorkerRuntime:
    _instance: WorkerRuntime | None = None
    _instance_lock = threading.Lock()

    def __init__(self, hooks: Hooks) -> None:
        self.hooks = hooks
        self.loop = new_event_loop()
        self.db_pool = ThreadPoolExecutor(
            settings.WORKER_DB_THREADS, thread_name_prefix="ponder-db"
        )
        self.handles: dict[uuid.UUID, ReplyHandle] = {}
        self.beat = Beat()
        self.client: UpstreamClient | None = None
        self.thread = threading.Thread(target=self._run_loop, name="ponder-loop", daemon=True)
        self.thread.start()
        self.submit(self._start_background())

    @classmethod
    def get(cls, hooks: Hooks) -> WorkerRuntime:
        """Return this process's runtime, starting it on first use."""
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls(hooks)
            return cls._instance

    @classmethod
    def running(cls) -> WorkerRuntime | None:
        return cls._instance

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def db(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        # In the caller's context: a database thread logs with the reply's request id.
        context = contextvars.copy_context()
        return await self.loop.run_in_executor(
            self.db_pool, lambda: context.run(fn, *args, **kwargs)
        )

    async def _start_background(self) -> None:
        self.client = UpstreamClient(store.upstream_config())
        asyncio.create_task(self._listen_for_cancels())
        asyncio.create_task(reap_forever(self.db, self.hooks.requeue_reply))
        asyncio.create_task(run_daily_forever(self.db, self.hooks.run_daily))

    async def _listen_for_cancels(self) -> None:
        """Stop local replies named on the cancel channel (the flag key covers the rest)."""
        while True:
            try:
                pubsub = bus.async_redis().pubsub()
                await pubsub.subscribe(bus.CANCEL_CHANNEL)
                async for item in pubsub.listen():
                    if item["type"] != "message":
                        continue
                    handle = self.handles.get(uuid.UUID(item["data"].decode()))
                    if handle is not None:
                        handle.stop("cancel")
            except Exception:
                logger.exception("cancel listener failed; resubscribing")
                await asyncio.sleep(1)

    def generate(self, message_id: uuid.UUID, request_id: str | None = None) -> None:
        """Stream one reply; block the calling (Celery pool) thread until it ends.

        ``request_id`` (the send's, or None for a new one) is set on the reply's own task.
        """
        future = self.submit(self._generate(message_id, request_id))
        future.result()

    async def _upstream(self) -> UpstreamClient:
        """Return the shared client, once ``_start_background`` has made it on the loop."""
        while self.client is None:
            await asyncio.sleep(0.01)
        return self.client

    async def _generate(self, message_id: uuid.UUID, request_id: str | None) -> None:
        await stream_reply(
            message_id,
            await self._upstream(),
            self.db,
            self.handles,
            self.beat,
            request_title=self.hooks.request_title,
            request=request_id,
        )

    def write_title(self, conversation_id: uuid.UUID) -> None:
        self.submit(self._write_title(conversation_id)).result()

    async def _write_title(self, conversation_id: uuid.UUID) -> None:
        await write_title(conversation_id, await self._upstream(), self.db)

    def shutdown(self, timeout: float = 5.0) -> None:
        """End every local reply as interrupted (text kept) before the process exits."""

        async def stop_all() -> None:
            handles = list(self.handles.values())
            for handle in handles:
                handle.stop("shutdown")
            if handles:
                await asyncio.wait(
                    [asyncio.create_task(h.stopped.wait()) for h in handles], timeout=timeout
                )

        try:
            self.submit(stop_all()).result(timeout + 1)
        except Exception:
            logger.exception("could not stop replies cleanly at shutdown")
