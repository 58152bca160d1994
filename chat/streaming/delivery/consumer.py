"""``/ws/conversations/<id>/``: push a conversation's stream events to its owner.

Live events come from the process's ``LiveFeed`` (the conversation's live stream). Per
message the consumer holds the last seq sent: live events at or below it are dropped
(already replayed), and a live event past a gap first pulls the missing ones from the
replay buffer. Live delivery is best effort (a Redis outage interrupts it), so a
message that goes quiet before its final status is also refilled from the buffer: a
missed *last* event has no later one to reveal the gap. Where the buffer cannot serve
(Redis lost it, or the end never reached it), the database's ``snapshot`` of the message
does: its text is exactly that of events 1..``stream_seq``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation

from accounts.language.choices import language_for_scope
from chat.models import Conversation, Message
from chat.observability import metrics
from chat.streaming import bus
from chat.streaming.delivery import live
from chat.streaming.events import localized_event, message_snapshot

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
REFILL_AFTER_SECONDS = 3.0
# A new socket holds back, this long after it opens, the live events of a message it has
# not seen from its first event: its client may be about to resume that message, and the
# resume's replay must come first (4, 5, 6, not 6, 4, 5).
RESUME_GRACE_SECONDS = 1.0
STORED_TIMEOUT_SECONDS = 2.0


def continuation(events: list[dict[str, Any]], last_seq: int) -> int | None:
    """Return where ``events`` continue a client at ``last_seq``; None for a hole before them.

    Past a hole, the latest snapshot (which stands on its own) is where to continue.
    """
    if not events or events[0]["seq"] == last_seq + 1:
        return 0
    snapshots = [i for i, event in enumerate(events) if event["type"] == "snapshot"]
    return snapshots[-1] if snapshots else None


class ConversationConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        self.conversation_id = self.scope["url_route"]["kwargs"]["conversation_id"]
        if user is None or not user.is_authenticated or not await self._owns_conversation(user):
            await self.close(code=CLOSE_FORBIDDEN)  # before accept: the handshake is refused
            return
        self.language = language_for_scope(self.scope)  # of the error messages it sends
        self.last_seq: dict[str, int] = {}
        # The seq of the first event sent live for a message nobody resumed yet.
        self.first_live_seq: dict[str, int] = {}
        self.known_messages: set[str] = set()
        self.open_since: dict[str, float] = {}  # unfinished message → time of its last event
        self.sending = asyncio.Lock()  # the refill task and the handlers share last_seq
        self.live: asyncio.Queue[bytes] = asyncio.Queue()
        self.held: dict[str, list[bytes]] = {}  # message → live events held back (raw)
        self.releases: set[asyncio.Task[None]] = set()
        await live.feed().follow(self.conversation_id, self.live.put_nowait)
        self.following = True
        await self.accept()
        self.opened_at = time.monotonic()
        metrics.WEBSOCKETS.inc()
        self.counted = True
        self.live_task = asyncio.create_task(self._send_live_events())
        self.refill_task = asyncio.create_task(self._refill_quiet_messages())

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            self.counted = False
            metrics.WEBSOCKETS.dec()
        for task in ("live_task", "refill_task"):
            if hasattr(self, task):
                getattr(self, task).cancel()
        for release in getattr(self, "releases", ()):
            release.cancel()
        if getattr(self, "following", False):
            self.following = False
            live.feed().unfollow(self.conversation_id, self.live.put_nowait)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "resume":
            await self.send_json({"type": "error", "code": "unknown_type"})
            return
        message_id, after_seq = content.get("message_id"), content.get("after_seq", 0)
        if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
            await self.send_json({"type": "error", "code": "invalid_after_seq"})
            return
        # Live events wait from here on: none may overtake a resume being handled (while
        # its message is looked up), only one that had not arrived yet.
        async with self.sending:
            if not isinstance(message_id, str) or not await self._message_in_conversation(
                message_id
            ):
                await self.send_json(
                    {"type": "error", "code": "unknown_message", "message_id": message_id}
                )
                return
            self.held.pop(message_id, None)  # all in the buffer, which the replay reads
            # Live events may have overtaken the resume on this socket. If they carried on
            # right after the client's seq, it has them all, in order: do not send them twice.
            first_live = self.first_live_seq.pop(message_id, None)
            sent = self.last_seq.get(message_id, 0)
            joined = first_live is not None and first_live <= after_seq + 1
            self.last_seq[message_id] = max(after_seq, sent) if joined else after_seq
            self.open_since[message_id] = time.monotonic()
            await self._send_buffered(message_id, consult_db=True)

    async def _send_live_events(self) -> None:
        while True:
            raw = await self.live.get()
            try:
                await self.live_event(raw)
            except Exception:
                logger.warning("sending a live event failed", exc_info=True)

    async def live_event(self, raw: bytes) -> None:
        event = bus.decode(raw)
        message_id = event["message_id"]
        async with self.sending:
            if message_id in self.held or self._may_be_resumed(event):
                self._hold(message_id, raw)
                return
            await self._deliver_live(event, raw)

    def _may_be_resumed(self, event: dict[str, Any]) -> bool:
        """Whether ``event`` joins a message mid-stream on a socket its client just opened."""
        return (
            event["message_id"] not in self.last_seq
            and event["seq"] > 1
            and time.monotonic() - self.opened_at < RESUME_GRACE_SECONDS
        )

    def _hold(self, message_id: str, raw: bytes) -> None:
        held = self.held.setdefault(message_id, [])
        held.append(raw)
        if len(held) == 1:
            delay = self.opened_at + RESUME_GRACE_SECONDS - time.monotonic()
            release = asyncio.create_task(self._release_held(message_id, delay))
            self.releases.add(release)
            release.add_done_callback(self.releases.discard)

    async def _release_held(self, message_id: str, delay: float) -> None:
        """Deliver what was held back for a message its client did not resume in time."""
        await asyncio.sleep(max(0.0, delay))
        async with self.sending:
            for raw in self.held.pop(message_id, []):
                await self._deliver_live(bus.decode(raw), raw)

    async def _deliver_live(self, event: dict[str, Any], raw: bytes) -> None:
        """Send a live event after whatever the client lacks before it (under ``sending``)."""
        message_id, seq = event["message_id"], event["seq"]
        last = self.last_seq.get(message_id)
        if last is not None and seq <= last:
            return
        if last is not None and seq > last + 1 and event["type"] != "snapshot":
            await self._send_buffered(message_id, up_to=seq - 1)
            if self.last_seq[message_id] != seq - 1:
                return  # a hole the buffer cannot fill yet: the refill comes back to it
        if last is None:
            self.first_live_seq[message_id] = seq
        self.known_messages.add(message_id)
        await self._send_event(event, raw.decode())

    async def _send_event(self, event: dict[str, Any], text: str | None = None) -> None:
        """Send ``event`` (``text`` is its JSON when the caller has it already)."""
        message_id = event["message_id"]
        self.last_seq[message_id] = event["seq"]
        if event["type"] in ("status", "snapshot") and event["status"] in Message.FINISHED:
            self.open_since.pop(message_id, None)
        else:
            self.open_since[message_id] = time.monotonic()
        if event.get("error"):  # said in the socket's language; deltas, the hot path, skip it
            with translation.override(self.language):
                event = localized_event(event)
            text = None
        await self.send(text_data=text if text is not None else bus.encode(event))

    async def _send_buffered(
        self, message_id: str, up_to: int | None = None, *, consult_db: bool = False
    ) -> None:
        """Send what the client lacks from the buffer; where it cannot, the stored snapshot.

        The database is consulted when the buffer has a hole right after the client's
        seq, and (``consult_db``) when it has nothing new at all — it may have lost the
        message's events, or the message may have ended without its final status there.
        """
        events = await bus.replay(message_id, self.last_seq[message_id])
        start = continuation(events, self.last_seq[message_id])
        if start is None or (consult_db and not events):
            await self._send_stored(message_id)
            events = [e for e in events if e["seq"] > self.last_seq[message_id]]
            start = continuation(events, self.last_seq[message_id])
            if start is None:
                return
        for event in events[start:]:
            if up_to is not None and event["seq"] > up_to:
                break
            await self._send_event(event)

    async def _send_stored(self, message_id: str) -> None:
        """Send the database's snapshot of a message when it is ahead of the client.

        Live events wait while this runs: a database that does not answer within
        ``STORED_TIMEOUT_SECONDS`` is skipped (the next refill asks again).
        """
        query = Message.objects.filter(id=message_id, conversation_id=self.conversation_id)
        try:
            message = await asyncio.wait_for(query.afirst(), STORED_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("no stored snapshot of %s: the database did not answer", message_id)
            return
        if message is not None and message.stream_seq > self.last_seq[message_id]:
            await self._send_event(message_snapshot(message))

    async def _refill_quiet_messages(self) -> None:
        """Every few seconds, catch up quiet unfinished messages from the buffer."""
        while True:
            await asyncio.sleep(REFILL_AFTER_SECONDS)
            now = time.monotonic()
            quiet = [m for m, at in self.open_since.items() if now - at >= REFILL_AFTER_SECONDS]
            for message_id in quiet:
                try:
                    async with self.sending:
                        await self._send_buffered(message_id, consult_db=True)
                except Exception:
                    logger.warning("catching up %s failed", message_id, exc_info=True)

    @database_sync_to_async
    def _owns_conversation(self, user: Any) -> bool:
        try:
            conversation_id = uuid.UUID(str(self.conversation_id))
        except ValueError:
            return False
        return Conversation.objects.filter(
            id=conversation_id, owner=user, deleted_at__isnull=True
        ).exists()

    async def _message_in_conversation(self, message_id: str) -> bool:
        if message_id in self.known_messages:
            return True
        try:
            parsed = uuid.UUID(message_id)
        except ValueError:
            return False
        exists = await Message.objects.filter(
            id=parsed, conversation_id=self.conversation_id
        ).aexists()
        if exists:
            self.known_messages.add(message_id)
        return exists

    async def send_json(self, content: Any, close: bool = False) -> None:
        await self.send(text_data=bus.encode(content), close=close)
