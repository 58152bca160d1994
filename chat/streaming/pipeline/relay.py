"""The relay: a reply's text → numbered events → its replay buffer, at least once, in order.

Text moves through three stages. *Pending*: received from the upstream, not yet an event.
The *outbox*: events with their ``seq`` fixed, not yet in the buffer. *Committed*: the
append succeeded, so the event belongs to the stream and clients may have it. A failed
append leaves the outbox as it is and the same events are tried again later, so a Redis
outage loses neither text nor seq numbers; new text meanwhile waits in pending and is
coalesced into as few events as possible once Redis is back. Each event carries only new
text, at most ``MAX_EVENT_CHARS`` of it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections import deque
from typing import Any

from chat.models import Message
from chat.observability import metrics
from chat.streaming import bus
from chat.streaming.events import snapshot_of, status_event

logger = logging.getLogger(__name__)

MAX_EVENT_CHARS = 8192
Event = dict[str, Any]


def text_length(event: Event) -> int:
    return len(event.get("reasoning", "")) + len(event.get("content", ""))


class TextLog:
    """Text that grows by small pieces, held as a few strings, measured in characters.

    A list of every piece costs about 60 bytes per piece of a few characters (a ten-minute
    trace: megabytes per reply); ``+=`` on one string copies the whole text each time.
    Pieces are folded into a chunk every ``FOLD_AT``, so each character is copied once.
    """

    FOLD_AT = 256

    def __init__(self, text: str = "") -> None:
        self._chunks: list[str] = [text] if text else []
        self._tail: list[str] = []
        self._length = len(text)

    def append(self, piece: str) -> None:
        if not piece:
            return
        self._tail.append(piece)
        self._length += len(piece)
        if len(self._tail) >= self.FOLD_AT:
            self._chunks.append("".join(self._tail))
            self._tail.clear()

    def __len__(self) -> int:
        return self._length

    def __str__(self) -> str:
        return "".join(self._chunks) + "".join(self._tail)

    def since(self, start: int) -> str:
        """Return the text after its first ``start`` characters."""
        wanted, parts = self._length - start, []
        for part in itertools.chain(reversed(self._tail), reversed(self._chunks)):
            if wanted <= 0:
                break
            parts.append(part if len(part) <= wanted else part[-wanted:])
            wanted -= len(part)
        return "".join(reversed(parts))


class LeaseLost(Exception):
    """Another owner took the reply over (the reaper ended it): publish nothing more."""


class Relay:
    """Number and append the events of one reply, one at a time, in order."""

    def __init__(self, message_id: uuid.UUID, conversation_id: uuid.UUID, lease: str) -> None:
        self.message_id = message_id
        self.conversation_id = conversation_id
        self.lease = lease
        self.seq = 0  # the last committed seq
        self.committed_reasoning = TextLog()
        self.committed_content = TextLog()
        self.backlog_chars = 0  # text in pending and the outbox
        self.rewrites = 0  # snapshots committed: each replaced the committed text
        self.fenced = False
        self._reasoning: list[str] = []
        self._content: list[str] = []
        self._outbox: deque[Event] = deque()
        self._lock = asyncio.Lock()
        # When the oldest text still in pending / in the outbox arrived (for the latency
        # metric: one clock read per flush, not per piece).
        self._pending_since: float | None = None
        self._outbox_since: float | None = None

    def add(self, reasoning: str = "", content: str = "") -> None:
        if self._pending_since is None and (reasoning or content):
            self._pending_since = time.monotonic()
        if reasoning:
            self._reasoning.append(reasoning)
        if content:
            self._content.append(content)
        self.backlog_chars += len(reasoning) + len(content)

    @property
    def has_reasoning_pending(self) -> bool:
        return bool(self._reasoning)

    @property
    def has_unsent(self) -> bool:
        return bool(self._reasoning or self._content or self._outbox)

    def next_seq(self) -> int:
        return self.seq + len(self._outbox) + 1

    def seal(self) -> None:
        """Turn pending text into outbox events now (the reasoning → answer switch, the end)."""
        reasoning, content = "".join(self._reasoning), "".join(self._content)
        self._reasoning.clear()
        self._content.clear()
        if self._pending_since is not None:
            if self._outbox_since is None:
                self._outbox_since = self._pending_since
            self._pending_since = None
        while reasoning or content:
            room = MAX_EVENT_CHARS
            reasoning_part, reasoning = reasoning[:room], reasoning[room:]
            room -= len(reasoning_part)
            content_part, content = content[:room], content[room:]
            self._queue({"type": "delta", "reasoning": reasoning_part, "content": content_part})

    def queue_status(self, message: Message) -> int:
        """Queue the status event of ``message`` after everything pending; return its seq."""
        self.seal()
        return self._queue(status_event(message, self.next_seq()))

    def _queue(self, event: Event) -> int:
        event["message_id"] = str(self.message_id)
        event["seq"] = self.next_seq()
        self._outbox.append(event)
        return int(event["seq"])

    async def flush(self) -> None:
        """Append what is waiting; raise redis errors (the outbox stays) or LeaseLost."""
        async with self._lock:
            # Pending text becomes events only behind an empty outbox: what arrives during
            # an outage is coalesced into as few events as possible.
            queued_before = bool(self._outbox)
            if not queued_before:
                self.seal()
            await self._drain()
            if queued_before:  # the text that waited behind a status or the switch
                self.seal()
                await self._drain()
            self._observe_latency()

    async def _drain(self) -> None:
        while self._outbox:
            self._commit_next(await self._append(self._outbox[0]))

    def _commit_next(self, event: Event) -> None:
        """Commit the outbox's first event as appended (``event``: it, or its snapshot)."""
        queued = self._outbox.popleft()
        self._commit(event)
        self.backlog_chars -= text_length(queued)
        metrics.EVENTS_RELAYED.labels(event["type"]).inc()

    def _observe_latency(self) -> None:
        """Record how long the oldest text waited, once the outbox is empty."""
        if self._outbox_since is not None and not self._outbox:
            metrics.ADDED_LATENCY.observe(time.monotonic() - self._outbox_since)
            self._outbox_since = None

    async def _append(self, event: Event) -> Event:
        """Append ``event``, or the snapshot standing for it when the buffer lost events."""
        if self.fenced:
            raise LeaseLost
        result = await bus.append(event, self.lease, self.conversation_id)
        if result == "lost":
            logger.warning("reply %s: the replay buffer lost events; appending a snapshot",
                           self.message_id)  # fmt: skip
            reasoning, content = self._text_with(event)
            event = snapshot_of(event, reasoning, content)
            result = await bus.append(event, self.lease, self.conversation_id, may_start=True)
        if result == "fenced":
            self.fenced = True
            raise LeaseLost
        return event

    # --- the beat's batched flush (``Beat``): every reply's events in one round trip ---

    @property
    def busy(self) -> bool:
        """A flush of its own holds the relay (the end, a snapshot, waiting for room)."""
        return self._lock.locked()

    async def lock(self) -> None:
        await self._lock.acquire()

    def unlock(self) -> None:
        self._lock.release()

    def batch(self, *, coalesce: bool) -> list[Event]:
        """Turn pending text into events and return the outbox, to append in this order.

        With ``coalesce`` (Redis is failing), pending text waits behind a non-empty
        outbox, as in ``flush``. Call it holding the lock, and ``take`` the answers.
        """
        if self.fenced:
            raise LeaseLost
        if not (coalesce and self._outbox):
            self.seal()
        return list(self._outbox)

    def take(self, results: list[bus.AppendResult | Exception]) -> str:
        """Commit the events a batch appended; return "ok", or why it stopped early.

        "lost": the buffer lost events (``flush`` appends the snapshot); "error": Redis
        refused one. The events not committed stay in the outbox, in order.
        """
        for result in results:
            if isinstance(result, Exception):
                return "error"
            if result == "fenced":
                self.fenced = True
                raise LeaseLost
            if result == "lost":
                return "lost"
            self._commit_next(self._outbox[0])  # "ok", or "duplicate": it landed before
        self._observe_latency()
        return "ok"

    def _text_with(self, event: Event) -> tuple[str, str]:
        reasoning = str(self.committed_reasoning) + event.get("reasoning", "")
        content = str(self.committed_content) + event.get("content", "")
        return reasoning, content

    def _commit(self, event: Event) -> None:
        self.seq = event["seq"]
        if event["type"] == "snapshot":
            self.rewrites += 1
            self.committed_reasoning = TextLog(event["reasoning"])
            self.committed_content = TextLog(event["content"])
            return
        self.committed_reasoning.append(event.get("reasoning", ""))
        self.committed_content.append(event.get("content", ""))

    def committed_text(self) -> tuple[str, str, int]:
        """Return the reasoning and content clients may hold, and the seq they end at."""
        return str(self.committed_reasoning), str(self.committed_content), self.seq

    async def flush_until_sent(self, *, give_up_after: float) -> bool:
        """Flush until everything is appended; retry through Redis outages.

        Return False when it could not within ``give_up_after`` seconds; raise LeaseLost.
        """
        deadline = time.monotonic() + give_up_after
        delay = 0.1
        while True:
            try:
                await asyncio.shield(self.flush())
                return True
            except LeaseLost:
                raise
            except Exception as exc:
                if time.monotonic() + delay > deadline:
                    return False
                logger.warning("reply %s: appending failed (%s); retrying in %.1f s",
                               self.message_id, type(exc).__name__, delay)  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
