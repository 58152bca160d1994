"""One reply on the worker's event loop: claim, stream, heartbeat, finish — through faults.

``stream_reply`` claims a pending reply under a lease and reads the upstream into the
relay. One ``Beat`` per worker process flushes every reply's text about every
``STREAM_COALESCE_SECONDS``, saves the streamed text about once a second (the heartbeat
the reaper watches; it never waits on Redis) and looks at stop flags. The end is written
to the database first, retried until it lands, then published, retried until Redis has
it: a client that missed the publication gets the database's snapshot instead.
"""

from __future__ import annotations

import asyncio
import contextvars
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
from chat.observability import metrics
from chat.observability.logcontext import new_request_id, request_id
from chat.streaming import bus
from chat.streaming.errortext import ATTACHMENT_UNAVAILABLE_TEXT, INTERNAL_ERROR_TEXT, SHUTDOWN_TEXT
from chat.streaming.events import status_event
from chat.streaming.pipeline import store, titles
from chat.streaming.pipeline.relay import LeaseLost, Relay, TextLog
from chat.streaming.pipeline.store import DbRunner, Progress, ProgressSave, ReplyJob, SaveOutcome
from chat.uploads.images import AttachmentUnavailable
from chat.upstream import UpstreamClient
from chat.upstream.errors import UpstreamError

logger = logging.getLogger(__name__)

# Text held while Redis is away; past it, reading the upstream waits for Redis.
MAX_BACKLOG_CHARS = 2_000_000
CANCEL_CHECK_SECONDS = 0.5
FINISH_RETRY_SECONDS = 600.0  # how long the end is retried through a database outage
PUBLISH_RETRY_SECONDS = 900.0  # how long the end is retried through a Redis outage


@dataclass
class ReplyHandle:
    """A running reply, so a stop request, a lost lease or a shutdown can end it."""

    consume: asyncio.Task[None] | None = None
    stop_reason: str | None = None  # "cancel", "shutdown" or "lease_lost"
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
    handle: ReplyHandle = field(default_factory=ReplyHandle)
    progress: Progress = field(default_factory=Progress)  # all but the text
    # Everything received.
    reasoning: TextLog = field(default_factory=TextLog)
    content: TextLog = field(default_factory=TextLog)
    error: UpstreamError | None = None
    # What the database holds: the text of events 1..saved_seq, which is the first
    # saved_chars characters of the relay's committed text as of saved_rewrites.
    # The first save, and any after the row was found out of step, rewrites the text.
    saved_seq: int = 0
    saved_chars: tuple[int, int] = (0, 0)
    saved_rewrites: int = 0
    rewrite_next: bool = True
    last_saved: float = field(default_factory=time.monotonic)
    # The save in that batch, and the relay's rewrites and text lengths it was built from.
    saving: tuple[ProgressSave, int, tuple[int, int]] | None = None
    flush_task: asyncio.Task[None] | None = None
    # The end is being written; heartbeats go on meanwhile, so a final write retried
    # through a database blip does not get the reply reaped.
    finishing: bool = False
    flush_failing: bool = False  # log an outage once, not at every beat
    # The reply's context (its request id): the beat starts flushes and saves in it.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)

    def apply(self, event: Any) -> None:
        """Take one upstream event into the received text and the relay."""
        now = timezone.now()
        if event.request_id and not self.progress.request_id:
            self.progress.request_id = event.request_id
            logger.info("reply %s upstream request %s", self.job.message_id, event.request_id)
        if event.kind == "reasoning":
            self.reasoning.append(event.text)
            self.progress.first_token_at = self.progress.first_token_at or now
            self.relay.add(reasoning=event.text)
        elif event.kind == "content":
            if self.progress.answer_started_at is None and self.relay.has_reasoning_pending:
                self.relay.seal()  # the switch to the answer is an event of its own
            self.content.append(event.text)
            self.progress.first_token_at = self.progress.first_token_at or now
            self.progress.answer_started_at = self.progress.answer_started_at or now
            self.relay.add(content=event.text)
        elif event.kind == "usage":
            self.progress.usage = event.usage
        elif event.kind == "finish":
            self.progress.finish_reason = event.finish_reason
        elif event.kind == "error":
            self.error = event.error
            if event.error is not None:
                metrics.UPSTREAM_ERRORS.labels(event.error.code).inc()

    def received(self, seq: int) -> Progress:
        """Return everything received, as the final text at ``seq``."""
        return dataclasses.replace(
            self.progress,
            reasoning=str(self.reasoning),
            content=str(self.content),
            seq=seq,
        )

    def start_flush(self) -> None:
        if self.relay.has_unsent and (self.flush_task is None or self.flush_task.done()):
            self.flush_task = asyncio.create_task(self._flush(), context=self.context)

    async def _flush(self) -> None:
        try:
            await self.relay.flush()
        except LeaseLost:
            self.took("fenced", None)
        except Exception as exc:
            self.took("error", exc)  # the outbox keeps the events: the next beat tries again
        else:
            self.took("ok", None)

    def took(self, outcome: str, error: Exception | None) -> None:
        """Take the outcome of a flush: its own, or its share of the beat's batched one."""
        if outcome == "fenced":
            self.handle.stop("lease_lost")
        elif outcome == "lost":
            self.start_flush()  # appends the snapshot that stands for the lost events
        elif outcome == "error":
            if not self.flush_failing:
                logger.warning("reply %s: appending failed (%s); holding the text until "
                               "Redis answers", self.job.message_id, type(error).__name__)  # fmt: skip
            self.flush_failing = True
        elif self.flush_failing:
            logger.info("reply %s: appending works again", self.job.message_id)
            self.flush_failing = False

    def progress_save(self, now: float) -> ProgressSave | None:
        """Return this reply's share of the beat's save: new text, or a due heartbeat."""
        relay = self.relay
        unchanged = relay.seq == self.saved_seq and not self.rewrite_next
        if unchanged and now - self.last_saved < settings.STREAM_HEARTBEAT_SECONDS:
            return None
        reasoning, content = relay.committed_reasoning, relay.committed_content
        append = not self.rewrite_next and relay.rewrites == self.saved_rewrites
        start_reasoning, start_content = self.saved_chars if append else (0, 0)
        save = ProgressSave(
            message_id=self.job.message_id,
            lease=self.job.lease,
            seq=relay.seq,
            base_seq=self.saved_seq if append else None,
            reasoning=reasoning.since(start_reasoning),
            content=content.since(start_content),
            first_token_at=self.progress.first_token_at,
            answer_started_at=self.progress.answer_started_at,
        )
        self.last_saved = now
        self.saving = (save, relay.rewrites, (len(reasoning), len(content)))
        return save

    def saved(self, outcome: SaveOutcome) -> None:
        """Take the outcome of this reply's share of a batched save."""
        assert self.saving is not None
        save, rewrites, chars = self.saving
        self.saving = None
        if outcome is SaveOutcome.SAVED:
            self.saved_seq, self.saved_chars, self.saved_rewrites = save.seq, chars, rewrites
            self.rewrite_next = False
        elif outcome is SaveOutcome.OUT_OF_STEP:
            self.rewrite_next = True
        elif outcome is SaveOutcome.LEASE_LOST and self.finishing:
            return  # the end was written meanwhile: this heartbeat simply came after it
        elif outcome is SaveOutcome.LEASE_LOST:
            logger.warning("reply %s: lost its lease; stopping", self.job.message_id)
            self.handle.stop("lease_lost")
        elif outcome is SaveOutcome.CANCEL_REQUESTED:
            self.handle.stop("cancel")


class Beat:
    """One steady beat for every reply of a worker process: flush, save, check stops.

    A timer task per reply would wake the loop thousands of times a second at a few
    hundred streams; one beat wakes it once per coalescing period. About once a second
    it saves the new text of every reply in one batched database write (which is also
    their heartbeat). Flushes and saves run as tasks of their own, so a slow Redis never
    delays a heartbeat, nor the reverse.
    """

    def __init__(self) -> None:
        self.runs: set[ReplyRun] = set()
        self._task: asyncio.Task[None] | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._save_task: asyncio.Task[None] | None = None
        self._last_save = time.monotonic()
        self._save_failing = False
        self._cancel_check: asyncio.Task[None] | None = None
        self._last_cancel_check = 0.0

    def join(self, run: ReplyRun) -> None:
        self.runs.add(run)
        if self._task is None or self._task.done():
            # A context of its own: the beat belongs to no reply (nor its request id).
            self._task = asyncio.create_task(self._beat(), context=contextvars.Context())

    def leave(self, run: ReplyRun) -> None:
        self.runs.discard(run)

    async def _beat(self) -> None:
        while self.runs:
            await asyncio.sleep(settings.STREAM_COALESCE_SECONDS)
            if self._flush_task is None or self._flush_task.done():
                self._flush_task = asyncio.create_task(self._flush(), context=contextvars.Context())
            self._maybe_save()
            self._maybe_check_cancels()

    async def _flush(self) -> None:
        """Append every reply's new events in one Redis round trip (live delivery included).

        A reply whose relay is busy with a flush of its own (the end, a snapshot) sits
        this beat out; one whose buffer lost events goes on with a flush of its own.
        """
        runs = [run for run in self.runs if run.relay.has_unsent and not run.relay.busy]
        batches: list[tuple[ReplyRun, int]] = []
        items: list[tuple[bus.Event, str, uuid.UUID | str]] = []
        for run in runs:
            await run.relay.lock()  # free (checked above): taken without waiting
            try:
                events = run.relay.batch(coalesce=run.flush_failing)
            except LeaseLost:
                run.relay.unlock()
                run.handle.stop("lease_lost")
                continue
            batches.append((run, len(events)))
            items.extend((event, run.job.lease, run.job.conversation_id) for event in events)
        try:
            results: list[bus.AppendResult | Exception] = (
                await bus.append_many(items) if items else []
            )
        except Exception as exc:
            results = [exc] * len(items)
        start = 0
        for run, count in batches:
            answers, start = results[start : start + count], start + count
            try:
                outcome = run.relay.take(answers)
            except LeaseLost:
                outcome = "fenced"
            finally:
                run.relay.unlock()
            run.took(outcome, next((a for a in answers if isinstance(a, Exception)), None))

    def _maybe_save(self) -> None:
        """Start the batched save when a second has passed and the last one is done."""
        now = time.monotonic()
        if now - self._last_save < settings.STREAM_PERSIST_SECONDS:
            return
        if self._save_task is not None and not self._save_task.done():
            return
        self._last_save = now
        batch = [run for run in self.runs if run.progress_save(now) is not None]
        if not batch:
            return
        task = asyncio.create_task(self._save(batch), context=contextvars.Context())
        self._save_task = task

    async def _save(self, batch: list[ReplyRun]) -> None:
        saves = [run.saving[0] for run in batch if run.saving is not None]
        try:
            outcomes = await batch[0].db(store.save_progress, saves)
        except Exception as exc:
            # Try again at the next beat; a stopped heartbeat would get the replies reaped.
            for run in batch:
                run.saving = None
                run.last_saved = float("-inf")  # due again at the next save
            if not self._save_failing:
                logger.warning("saving the progress of %d replies failed (%s)",
                               len(batch), type(exc).__name__)  # fmt: skip
            self._save_failing = True
            return
        if self._save_failing:
            logger.info("saving progress works again")
        self._save_failing = False
        for run in batch:
            run.saved(outcomes[run.job.message_id])

    def _maybe_check_cancels(self) -> None:
        """Look at the cancel flags every half second: a missed pub/sub message is no loss."""
        if time.monotonic() - self._last_cancel_check < CANCEL_CHECK_SECONDS:
            return
        if self._cancel_check is not None and not self._cancel_check.done():
            return
        self._last_cancel_check = time.monotonic()
        self._cancel_check = asyncio.create_task(self._check_cancels(list(self.runs)))

    async def _check_cancels(self, runs: list[ReplyRun]) -> None:
        try:
            flagged = await bus.cancelled([run.job.message_id for run in runs])
        except Exception as exc:
            logger.info("cancel flags unreadable (%s); the database carries stops",
                        type(exc).__name__)  # fmt: skip
            return
        for run in runs:
            if run.job.message_id in flagged:
                run.handle.stop("cancel")


async def consume(run: ReplyRun, client: UpstreamClient) -> None:
    async for event in client.stream(run.job.request):
        run.apply(event)
        if run.error is not None:
            break
        if run.relay.backlog_chars > MAX_BACKLOG_CHARS:
            await wait_for_room(run)


async def wait_for_room(run: ReplyRun) -> None:
    """Stop reading the upstream until Redis takes the backlog (it keeps the text bounded)."""
    while run.relay.backlog_chars > MAX_BACKLOG_CHARS:
        run.start_flush()
        await asyncio.sleep(0.2)


async def stream_reply(
    message_id: uuid.UUID,
    client: UpstreamClient,
    db: DbRunner,
    handles: dict[uuid.UUID, ReplyHandle],
    beat: Beat,
    *,
    request_title: Callable[[uuid.UUID], None],
    request: str | None = None,
) -> None:
    """Claim a pending reply and stream it to the end; a second delivery does nothing.

    A reply whose attached images cannot be read ends ``failed`` without being claimed.
    Run it as a task of its own: it sets the request id (``request``, or a new one) in
    its context, so every line this reply logs carries it.
    """
    request_id.set(request or new_request_id())
    try:
        job = await db(store.claim, message_id)
    except AttachmentUnavailable as exc:
        logger.warning("reply %s: %s; failing it unclaimed", message_id, exc)
        await fail_unclaimed(
            message_id, db, store.ATTACHMENT_UNAVAILABLE, ATTACHMENT_UNAVAILABLE_TEXT
        )
        return
    except store.Unclaimable as exc:
        logger.warning("reply %s: %s; failing it unclaimed", message_id, exc.code)
        await fail_unclaimed(message_id, db, exc.code, exc.text)
        return
    if job is None:
        logger.info("reply %s already claimed; skipping duplicate delivery", message_id)
        return
    run = ReplyRun(job=job, relay=Relay(job.message_id, job.conversation_id, job.lease), db=db)
    handle = run.handle
    handles[message_id] = handle
    with metrics.ACTIVE_STREAMS.track_inprogress():
        try:
            run.relay.queue_status(job.claimed)
            beat.join(run)
            if job.claimed.cancel_requested:
                handle.stop_reason = "cancel"
            else:
                handle.consume = asyncio.create_task(consume(run, client))
                try:
                    await handle.consume
                except asyncio.CancelledError:
                    if handle.stop_reason is None:
                        raise
        except Exception:
            logger.exception("reply %s: unexpected failure", message_id)
            run.error = UpstreamError("internal_error", INTERNAL_ERROR_TEXT, retryable=False)
        finally:
            handles.pop(message_id, None)
        try:
            await finish_reply(run, request_title)
        finally:
            beat.leave(run)
            handle.stopped.set()


async def fail_unclaimed(message_id: uuid.UUID, db: DbRunner, code: str, text: str) -> None:
    """End a pending reply ``failed`` (``code``, ``text``) and announce it, best effort.

    Like a stop before the claim: the final status event is seq 1, appended as ``ENDED``
    (no worker holds the buffer); a client that misses it reads the database's snapshot.
    """
    message = await db(store.fail_unclaimed, message_id, code, text)
    if message is None:
        logger.info("reply %s was no longer pending; leaving it be", message_id)
        return
    try:
        await bus.publish_final(message.conversation_id, status_event(message, seq=1))
    except Exception as exc:
        logger.warning("reply %s: could not publish its end (%s); clients will read it from "
                       "the database", message_id, type(exc).__name__)  # fmt: skip


def final_status(run: ReplyRun) -> tuple[Message.Status, str, str]:
    """Return the status, error code and error text a reply ends with."""
    reason = run.handle.stop_reason
    if reason == "cancel":
        return Message.Status.CANCELLED, "", ""
    if reason == "shutdown":
        return Message.Status.INTERRUPTED, "worker_shutdown", SHUTDOWN_TEXT
    if run.error is not None:
        return Message.Status.FAILED, run.error.code, run.error.message
    return Message.Status.COMPLETE, "", ""


async def finish_reply(run: ReplyRun, request_title: Callable[[uuid.UUID], None]) -> None:
    """Write the end to the database, then publish it; both retried through outages."""
    job = run.job
    if run.handle.stop_reason == "lease_lost" or run.relay.fenced:
        logger.warning("reply %s: taken over by the reaper; publishing nothing", job.message_id)
        return
    # The final write does not wait for a progress save in flight (the batch of every
    # reply, which a database outage can hold for many seconds): a save that lands after
    # it finds the reply no longer streaming and writes nothing.
    run.finishing = True
    status, code, text = final_status(run)
    run.relay.seal()
    final_seq = run.relay.next_seq()
    message = await finish_in_database(run, status, code, text, final_seq)
    if message is None:
        logger.warning("reply %s was no longer this worker's at the end", job.message_id)
        return
    count_tokens(message)
    assert run.relay.queue_status(message) == final_seq  # nothing was queued in between
    run.handle.stopped.set()
    try:
        sent = await run.relay.flush_until_sent(give_up_after=PUBLISH_RETRY_SECONDS)
    except LeaseLost:
        sent = False
    if not sent:
        # The database has the end; a client catching up gets it as a snapshot.
        logger.error("reply %s: could not publish its end; clients will read it from the "
                     "database", job.message_id)  # fmt: skip
    if status == Message.Status.COMPLETE:
        await ask_for_title(run, request_title)
    logger.info("reply %s ended %s after %d events", job.message_id, status, final_seq)


def count_tokens(message: Message) -> None:
    for kind, tokens in (
        ("input", message.input_tokens),
        ("output", message.output_tokens),
        ("reasoning", message.reasoning_tokens),
    ):
        if tokens:
            metrics.TOKENS.labels(message.model, kind).inc(tokens)


async def ask_for_title(run: ReplyRun, request_title: Callable[[uuid.UUID], None]) -> None:
    """Queue a title after a conversation's first reply; a title is not worth failing for."""
    try:
        if await run.db(titles.wants_title, run.job.conversation_id):
            await run.db(request_title, run.job.conversation_id)
    except Exception:
        logger.warning("no title queued for %s", run.job.conversation_id, exc_info=True)


async def finish_in_database(
    run: ReplyRun, status: Message.Status, code: str, text: str, final_seq: int
) -> Message | None:
    """Store the final state, retrying through database outages; None if the lease is gone."""
    deadline = time.monotonic() + FINISH_RETRY_SECONDS
    delay = 0.2
    while True:
        try:
            return await run.db(
                store.finish, run.job, run.received(final_seq), status,
                error_code=code, error_message=text,
            )  # fmt: skip
        except Exception as exc:
            if time.monotonic() + delay > deadline:
                raise
            logger.warning("reply %s: storing its end failed (%s); retrying in %.1f s",
                           run.job.message_id, type(exc).__name__, delay)  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
