"""The relay: upstream deltas → coalesced, numbered events → replay buffer + group.

One reply is one ``stream_reply`` coroutine on the worker's event loop. Deltas are
buffered and flushed about every ``STREAM_COALESCE_SECONDS`` (and at the reasoning →
answer switch) as events with ``seq`` 1, 2, 3…; each carries only new text, capped at
``MAX_EVENT_CHARS``. The text reaches the database about once a second, which is also
the heartbeat the reaper watches.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from chat.models import Message
from chat.upstream import UpstreamClient
from chat.upstream.errors import UpstreamError

from . import bus, store, titles
from .events import status_event
from .store import DbRunner, Progress, ReplyJob

logger = logging.getLogger(__name__)

MAX_EVENT_CHARS = 8192


class Relay:
    """Number and publish the events of one message, one at a time, in order."""

    def __init__(self, job: ReplyJob) -> None:
        self.job = job
        self.seq = 0
        self._reasoning: list[str] = []
        self._content: list[str] = []
        self._lock = asyncio.Lock()

    def add(self, reasoning: str = "", content: str = "") -> None:
        if reasoning:
            self._reasoning.append(reasoning)
        if content:
            self._content.append(content)

    @property
    def has_reasoning_pending(self) -> bool:
        return bool(self._reasoning)

    @property
    def has_pending(self) -> bool:
        return bool(self._reasoning or self._content)

    async def flush(self) -> None:
        async with self._lock:
            reasoning, content = "".join(self._reasoning), "".join(self._content)
            self._reasoning.clear()
            self._content.clear()
            while reasoning or content:
                room = MAX_EVENT_CHARS
                reasoning_part, reasoning = reasoning[:room], reasoning[room:]
                room -= len(reasoning_part)
                content_part, content = content[:room], content[room:]
                await self._publish(
                    {"type": "delta", "reasoning": reasoning_part, "content": content_part}
                )

    async def publish_status(self, message: Message) -> None:
        async with self._lock:
            self.seq += 1
            await bus.publish(self.job.conversation_id, status_event(message, self.seq))

    async def _publish(self, event: dict[str, Any]) -> None:
        self.seq += 1
        event["message_id"] = str(self.job.message_id)
        event["seq"] = self.seq
        await bus.publish(self.job.conversation_id, event)


@dataclass
class ReplyHandle:
    """A running reply, so a stop request or a shutdown can end it."""

    consume: asyncio.Task[None] | None = None
    stop_reason: str | None = None  # "cancel" or "shutdown"
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        if self.consume is not None:
            self.consume.cancel()


@dataclass(eq=False)  # hashed by identity: the beat keeps a set of them
class ReplyRun:
    """Everything one reply needs while it streams."""

    job: ReplyJob
    relay: Relay
    db: DbRunner
    progress: Progress = field(default_factory=Progress)  # all but the text, see snapshot()
    # Parts, joined only for a snapshot: ``str +=`` on an attribute copies the whole
    # text every delta, quadratic for a reasoning trace of minutes.
    reasoning_parts: list[str] = field(default_factory=list)
    content_parts: list[str] = field(default_factory=list)
    error: UpstreamError | None = None
    dirty: bool = False
    last_saved: float = field(default_factory=time.monotonic)
    save_task: asyncio.Task[None] | None = None

    def apply(self, event: Any) -> bool:
        """Take one upstream event; return True when the answer phase just began."""
        now = timezone.now()
        if event.request_id and not self.progress.request_id:
            self.progress.request_id = event.request_id
        if event.kind == "reasoning":
            self.reasoning_parts.append(event.text)
            self.progress.first_token_at = self.progress.first_token_at or now
            self.relay.add(reasoning=event.text)
            self.dirty = True
        elif event.kind == "content":
            started = self.progress.answer_started_at is None
            self.content_parts.append(event.text)
            self.progress.first_token_at = self.progress.first_token_at or now
            self.progress.answer_started_at = self.progress.answer_started_at or now
            self.dirty = True
            # Flush reasoning before the first answer text so the switch is its own event.
            switch = started and self.relay.has_reasoning_pending
            if not switch:
                self.relay.add(content=event.text)
            return switch
        elif event.kind == "usage":
            self.progress.usage = event.usage
        elif event.kind == "finish":
            self.progress.finish_reason = event.finish_reason
        elif event.kind == "error":
            self.error = event.error
        return False

    def snapshot(self) -> Progress:
        """Return the progress so far, text included, as a value the database code can keep."""
        return dataclasses.replace(
            self.progress,
            reasoning="".join(self.reasoning_parts),
            content="".join(self.content_parts),
        )

    def maybe_save(self) -> None:
        """Start a background save when the text changed (1 s) or the heartbeat is due."""
        if self.save_task is not None and not self.save_task.done():
            return
        elapsed = time.monotonic() - self.last_saved
        due = settings.STREAM_PERSIST_SECONDS if self.dirty else settings.STREAM_HEARTBEAT_SECONDS
        if elapsed < due:
            return
        snapshot = self.snapshot()
        self.dirty = False
        self.last_saved = time.monotonic()
        self.save_task = asyncio.create_task(self._save(snapshot))

    async def _save(self, snapshot: Progress) -> None:
        try:
            await self.db(store.save_progress, self.job.message_id, snapshot)
        except Exception:
            # Try again at the next beat; a stopped heartbeat would get the reply reaped.
            logger.warning("reply %s: saving progress failed", self.job.message_id, exc_info=True)
            self.dirty = True


class Beat:
    """One steady beat for every reply of a worker process: flush text, save progress.

    A timer task per reply would wake the loop thousands of times a second at a few
    hundred streams; one beat wakes it once per coalescing period.
    """

    def __init__(self) -> None:
        self.runs: set[ReplyRun] = set()
        self._task: asyncio.Task[None] | None = None

    def join(self, run: ReplyRun) -> None:
        self.runs.add(run)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._beat())

    def leave(self, run: ReplyRun) -> None:
        self.runs.discard(run)

    async def _beat(self) -> None:
        while self.runs:
            await asyncio.sleep(settings.STREAM_COALESCE_SECONDS)
            runs = list(self.runs)
            flushes = [flush_uncancellable(run.relay) for run in runs if run.relay.has_pending]
            for failure in await asyncio.gather(*flushes, return_exceptions=True):
                if isinstance(failure, Exception):
                    logger.warning(
                        "a flush failed; the reply's final flush retries", exc_info=failure
                    )
            for run in runs:
                run.maybe_save()


async def flush_uncancellable(relay: Relay) -> None:
    """Flush so that cancelling the caller cannot cut an event off half-published.

    A flush takes the text out of the buffer and a seq number before it publishes; cut
    short, that text would be lost. Shielded, it completes under the relay's lock, and the
    final flush waits for it.
    """
    await asyncio.shield(relay.flush())


async def consume(run: ReplyRun, client: UpstreamClient) -> None:
    async for event in client.stream(run.job.request):
        if run.apply(event):
            await flush_uncancellable(run.relay)
            run.relay.add(content=event.text)
        if run.error is not None:
            break


async def stream_reply(
    message_id: uuid.UUID,
    client: UpstreamClient,
    db: DbRunner,
    handles: dict[uuid.UUID, ReplyHandle],
    beat: Beat,
    *,
    request_title: Callable[[uuid.UUID], None],
) -> None:
    """Claim a pending reply and stream it to the end; a second delivery does nothing."""
    job = await db(store.claim, message_id)
    if job is None:
        logger.info("reply %s already claimed; skipping duplicate delivery", message_id)
        return
    run = ReplyRun(job=job, relay=Relay(job), db=db)
    handle = ReplyHandle()
    handles[message_id] = handle
    try:
        await run.relay.publish_status(job.claimed)
        if await bus.async_redis().exists(bus.cancel_key(message_id)):
            handle.stop_reason = "cancel"
        else:
            beat.join(run)
            handle.consume = asyncio.create_task(consume(run, client))
            try:
                await handle.consume
            except asyncio.CancelledError:
                if handle.stop_reason is None:
                    raise
    except Exception:
        logger.exception("reply %s: unexpected failure", message_id)
        run.error = UpstreamError(
            "internal_error", "Something went wrong on our side.", retryable=False
        )
    finally:
        beat.leave(run)
        handles.pop(message_id, None)
    await finish_reply(run, handle, request_title)


async def finish_reply(
    run: ReplyRun, handle: ReplyHandle, request_title: Callable[[uuid.UUID], None]
) -> None:
    await run.relay.flush()
    if run.save_task is not None:
        await asyncio.gather(run.save_task, return_exceptions=True)
    status, code, text = Message.Status.COMPLETE, "", ""
    if handle.stop_reason == "cancel":
        status = Message.Status.CANCELLED
    elif handle.stop_reason == "shutdown":
        status, code = Message.Status.INTERRUPTED, "worker_shutdown"
        text = "The server restarted while this reply was being written. The text so far is kept."
    elif run.error is not None:
        status, code, text = Message.Status.FAILED, run.error.code, run.error.message
    message = await run.db(
        store.finish, run.job, run.snapshot(), status, error_code=code, error_message=text
    )
    handle.stopped.set()
    if message is None:
        logger.warning("reply %s was no longer streaming at the end", run.job.message_id)
        return
    try:
        await run.relay.publish_status(message)
    except Exception:
        # The database has the final state; a client reloading the page sees it.
        logger.exception("reply %s: publishing its final status failed", run.job.message_id)
    if status == Message.Status.COMPLETE and await run.db(
        titles.wants_title, run.job.conversation_id
    ):
        await run.db(request_title, run.job.conversation_id)
    logger.info("reply %s ended %s after %d events", run.job.message_id, status, run.relay.seq)
