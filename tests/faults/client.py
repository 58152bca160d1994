"""A reference websocket client that follows the stream protocol of docs/api.md to the letter.

One websocket per conversation, on one asyncio loop in a background thread. Per assistant
message it keeps ``last_seq``, the text assembled so far and the status:

* ``delta``/``status``: applied only when ``seq == last_seq + 1``; ``seq <= last_seq`` is
  a duplicate (dropped); ``seq > last_seq + 1`` is a gap: not applied, and the client
  sends ``{"type": "resume", "message_id", "after_seq": last_seq}``.
* ``snapshot``: replaces text and status whenever ``seq > last_seq`` (even across a gap).
* A terminal status (or terminal snapshot) ends the message; any event of that message
  arriving afterwards is recorded (``after_terminal``).
* On every (re)connect it sends ``resume`` for each unfinished message; while a message is
  unfinished and nothing moved it forward for ``RESUME_EVERY`` seconds, it asks again.
* A dropped socket or a failed handshake is retried with backoff (0.2 s doubling to 2 s)
  until ``close()``.

Everything it saw is kept per message (``MessageTrack.log``) so a failing test can say
exactly what the client got and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

TERMINAL = frozenset({"complete", "cancelled", "failed", "interrupted"})
RESUME_EVERY = 2.0  # seconds without progress on an unfinished message before asking again
GAP_RESUME_EVERY = 1.0  # at most one resume per message per second while a gap is open
BACKOFF_MIN, BACKOFF_MAX = 0.2, 2.0
# A resume crosses events already on the wire: the server's answer can repeat events the
# client applied meanwhile, its terminal status included. Identical repeats arriving after
# the terminal status count as such "echoes" (harmless, reported) only when the client
# had asked for a replay this shortly before the terminal status arrived.
ECHO_WINDOW = 3.0


def fingerprint(event: dict[str, Any]) -> tuple:
    kind = event.get("type")
    if kind == "delta":
        return ("delta", event.get("reasoning"), event.get("content"))
    if kind == "status":
        return ("status", event.get("status"))
    if kind == "snapshot":
        return ("snapshot", event.get("status"), event.get("reasoning"), event.get("content"))
    return (kind,)


def describe(event: dict[str, Any]) -> str:
    kind = event.get("type")
    seq = event.get("seq")
    if kind == "delta":
        r, c = event.get("reasoning") or "", event.get("content") or ""
        return f"delta seq={seq} (+{len(r)} reasoning, +{len(c)} content chars)"
    if kind == "status":
        return f"status seq={seq} {event.get('status')}"
    if kind == "snapshot":
        r, c = event.get("reasoning") or "", event.get("content") or ""
        return f"snapshot seq={seq} {event.get('status')} ({len(r)}/{len(c)} chars)"
    return json.dumps(event)[:200]


@dataclass
class MessageTrack:
    """What the client knows about one assistant message."""

    message_id: str
    conversation_id: str
    last_seq: int = 0
    status: str = "pending"
    reasoning_parts: list[str] = field(default_factory=list)
    content_parts: list[str] = field(default_factory=list)
    terminal_seq: int | None = None
    terminal_at: float | None = None  # time.monotonic()
    last_progress: float = field(default_factory=time.monotonic)
    last_resume_at: float | None = None
    last_resume_after: int | None = None
    seen: dict[int, tuple] = field(default_factory=dict)  # seq → fingerprint of what applied
    applied: int = 0
    duplicates: int = 0
    gaps: int = 0
    snapshots: int = 0
    resumes: int = 0
    conflicts: list[str] = field(default_factory=list)  # another event under a seq applied
    after_terminal: list[str] = field(default_factory=list)  # violations
    echoes: list[str] = field(default_factory=list)  # identical repeats answering a resume
    malformed: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # "t+1.23 applied delta seq=4 …"

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_parts)

    @property
    def content(self) -> str:
        return "".join(self.content_parts)

    @property
    def finished(self) -> bool:
        return self.terminal_at is not None

    @property
    def has_text(self) -> bool:
        return bool(self.reasoning_parts or self.content_parts)

    def tail(self, n: int = 12) -> str:
        """The last ``n`` log lines, runs of gap/duplicate lines folded into one."""
        folded: list[str] = []
        run: list[str] = []

        def fold() -> None:
            if len(run) > 2:
                folded.append(f"{run[0]}\n      … {len(run) - 2} more like it …\n      {run[-1]}")
            else:
                folded.extend(run)
            run.clear()

        for line in self.log:
            kind = line.split(" ", 2)[-1].split(" ")[0]
            if run and kind in ("gap", "duplicate") and run[-1].split(" ", 2)[-1].startswith(kind):
                run.append(line)
                continue
            fold()
            run.append(line)
        fold()
        return "\n      ".join(folded[-n:])


@dataclass
class ConversationLink:
    conversation_id: str
    url: str
    ws: ClientConnection | None = None
    connects: int = 0
    failures: list[str] = field(default_factory=list)
    task: asyncio.Task | None = None


class FollowingClient:
    """The protocol-following client for every conversation of one logged-in session."""

    def __init__(self, base_url: str, cookies: dict[str, str]) -> None:
        self.base_url = base_url
        self.cookie_header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.started = time.monotonic()
        self.messages: dict[str, MessageTrack] = {}
        self.links: dict[str, ConversationLink] = {}
        self.lock = threading.RLock()  # predicates of wait_until may call track_of
        self.closing = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="following-client", daemon=True)
        self.thread.start()

    @classmethod
    def for_session(cls, session: Any) -> FollowingClient:
        return cls(session.base_url, dict(session.http.cookies.items()))

    # --- called from the test's thread ---------------------------------------------------

    def follow(self, conversation_id: str) -> None:
        """Open (and keep open) the websocket of a conversation."""
        self._call(self._follow, conversation_id)

    def track(self, conversation_id: str, message_id: str) -> None:
        """Follow an assistant message from seq 0 (a no-op if its events already arrived)."""
        self._call(self._track, conversation_id, message_id)

    def wait_until(
        self, predicate: Callable[[], bool], timeout: float, interval: float = 0.1
    ) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if predicate():
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    def track_of(self, message_id: str) -> MessageTrack:
        with self.lock:
            return self.messages[message_id]

    def all_have_text(self, message_ids: Iterable[str], chars: int = 1) -> bool:
        return all(
            m in self.messages
            and len(self.messages[m].reasoning) + len(self.messages[m].content) >= chars
            for m in message_ids
        )

    def all_finished(self, message_ids: Iterable[str]) -> bool:
        return all(m in self.messages and self.messages[m].finished for m in message_ids)

    def all_connected(self, conversation_ids: Iterable[str]) -> bool:
        return all(c in self.links and self.links[c].ws is not None for c in conversation_ids)

    def connection_report(self, conversation_id: str) -> str:
        link = self.links.get(conversation_id)
        if link is None:
            return "never followed"
        failures = "; ".join(link.failures[-3:])
        return f"{link.connects} connection(s), {len(link.failures)} drop(s)/failure(s) {failures}"

    def close(self) -> None:
        if self.closing:
            return
        self.closing = True
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()

    # --- the loop's side ---------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        async def call() -> None:
            fn(*args)

        asyncio.run_coroutine_threadsafe(call(), self.loop).result(10)

    def _t(self) -> str:
        return f"t+{time.monotonic() - self.started:6.2f}"

    def _follow(self, conversation_id: str) -> None:
        if conversation_id in self.links:
            return
        url = self.base_url.replace("http://", "ws://") + f"/ws/conversations/{conversation_id}/"
        link = ConversationLink(conversation_id, url)
        self.links[conversation_id] = link
        link.task = self.loop.create_task(self._keep_connected(link))

    def _track(self, conversation_id: str, message_id: str) -> None:
        with self.lock:
            if message_id in self.messages:
                return
            track = MessageTrack(message_id, conversation_id)
            self.messages[message_id] = track
        link = self.links.get(conversation_id)
        if link is not None and link.ws is not None:
            self.loop.create_task(self._resume(link, track, "new message"))

    async def _close_all(self) -> None:
        tasks = [link.task for link in self.links.values() if link.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _keep_connected(self, link: ConversationLink) -> None:
        backoff = BACKOFF_MIN
        while not self.closing:
            try:
                async with connect(
                    link.url,
                    origin=self.base_url,  # type: ignore[arg-type]
                    additional_headers={"Cookie": self.cookie_header},
                    open_timeout=5,
                    ping_interval=5,
                    ping_timeout=5,
                    close_timeout=1,
                    max_size=None,
                ) as ws:
                    link.ws = ws
                    link.connects += 1
                    backoff = BACKOFF_MIN
                    ticker = asyncio.create_task(self._ask_again_while_quiet(link))
                    try:
                        for track in self._unfinished(link.conversation_id):
                            await self._resume(link, track, f"connect #{link.connects}")
                        async for raw in ws:
                            await self._receive(link, raw)
                        link.failures.append(f"{self._t()} closed {ws.close_code}")
                    finally:
                        link.ws = None
                        ticker.cancel()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused, reset, timed out, bad handshake: retry
                link.failures.append(f"{self._t()} {type(exc).__name__}: {exc}"[:200])
            if self.closing:
                return
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX, backoff * 2)

    def _unfinished(self, conversation_id: str) -> list[MessageTrack]:
        with self.lock:
            return [
                t
                for t in self.messages.values()
                if t.conversation_id == conversation_id and not t.finished
            ]

    async def _resume(self, link: ConversationLink, track: MessageTrack, why: str) -> None:
        ws = link.ws
        if ws is None:
            return
        with self.lock:
            if track.finished:
                return
            after = track.last_seq
            track.last_resume_at = time.monotonic()
            track.last_resume_after = after
            track.resumes += 1
            track.log.append(f"{self._t()} sent resume after_seq={after} ({why})")
        request = {"type": "resume", "message_id": track.message_id, "after_seq": after}
        with contextlib.suppress(WebSocketException, OSError):
            await ws.send(json.dumps(request))

    async def _ask_again_while_quiet(self, link: ConversationLink) -> None:
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            for track in self._unfinished(link.conversation_id):
                quiet_since = max(track.last_progress, track.last_resume_at or 0.0)
                if now - quiet_since >= RESUME_EVERY:
                    await self._resume(link, track, "quiet")

    async def _receive(self, link: ConversationLink, raw: str | bytes) -> None:
        try:
            event = json.loads(raw)
        except ValueError:
            event = {"type": "<not json>", "raw": str(raw)[:200]}
        if not isinstance(event, dict):
            event = {"type": "<not an object>", "raw": str(raw)[:200]}
        message_id = event.get("message_id")
        if event.get("type") == "error":
            with self.lock:
                track = self.messages.get(message_id) if isinstance(message_id, str) else None
                if track is not None:
                    track.errors.append(event)
                    track.log.append(f"{self._t()} error event {event}")
                else:
                    link.failures.append(f"{self._t()} error event {event}")
            return
        if not isinstance(message_id, str):
            link.failures.append(f"{self._t()} event without message_id: {event}"[:200])
            return
        with self.lock:
            track = self.messages.get(message_id)
            if track is None:  # its first event came before the test tracked it
                track = MessageTrack(message_id, link.conversation_id)
                self.messages[message_id] = track
            gap = self._apply(track, event)
        if gap:
            await self._resume(link, track, "gap")

    def _apply(self, track: MessageTrack, event: dict[str, Any]) -> bool:
        """Apply one event under the lock; return True when a resume should be sent."""
        now = time.monotonic()
        kind, seq = event.get("type"), event.get("seq")
        what = describe(event)
        if kind not in ("delta", "status", "snapshot") or not isinstance(seq, int):
            track.malformed.append(what)
            track.log.append(f"{self._t()} malformed {what}")
            return False
        if kind == "delta" and not (
            isinstance(event.get("reasoning", ""), str)
            and isinstance(event.get("content", ""), str)
        ):
            track.malformed.append(what)
            track.log.append(f"{self._t()} malformed {what}")
            return False
        if track.finished:
            assert track.terminal_at is not None
            echo = (
                seq <= track.last_seq
                and track.seen.get(seq) == fingerprint(event)
                and track.last_resume_at is not None
                and track.terminal_at - track.last_resume_at <= ECHO_WINDOW
            )
            after = f"{now - track.terminal_at:.2f} s after the terminal status"
            if echo:
                track.echoes.append(f"{what}, {after}")
            else:
                track.after_terminal.append(f"{what}, {after}")
            track.log.append(f"{self._t()} {'echo' if echo else 'AFTER TERMINAL'} {what}")
            return False
        if kind == "snapshot":
            if seq <= track.last_seq:
                track.duplicates += 1
                track.log.append(f"{self._t()} duplicate {what}")
                return False
            track.snapshots += 1
            track.reasoning_parts = [event.get("reasoning") or ""]
            track.content_parts = [event.get("content") or ""]
            self._advance(track, event, seq, now, event.get("status"), f"applied {what}")
            return False
        if seq <= track.last_seq:
            track.duplicates += 1
            earlier = track.seen.get(seq)
            if earlier is not None and earlier != fingerprint(event):
                track.conflicts.append(f"{what} differs from the seq {seq} applied: {earlier}")
            track.log.append(f"{self._t()} duplicate {what}")
            return False
        if seq > track.last_seq + 1:
            track.gaps += 1
            track.log.append(f"{self._t()} gap (have {track.last_seq}) {what}")
            recently = (
                track.last_resume_after == track.last_seq
                and track.last_resume_at is not None
                and now - track.last_resume_at < GAP_RESUME_EVERY
            )
            return not recently
        if kind == "delta":
            if event.get("reasoning"):
                track.reasoning_parts.append(event["reasoning"])
            if event.get("content"):
                track.content_parts.append(event["content"])
            self._advance(track, event, seq, now, None, f"applied {what}")
        else:
            self._advance(track, event, seq, now, event.get("status"), f"applied {what}")
        return False

    def _advance(
        self,
        track: MessageTrack,
        event: dict[str, Any],
        seq: int,
        now: float,
        status: str | None,
        note: str,
    ) -> None:
        track.last_seq = seq
        track.seen[seq] = fingerprint(event)
        track.applied += 1
        track.last_progress = now
        if status:
            track.status = status
        if status in TERMINAL:
            track.terminal_seq = seq
            track.terminal_at = now
        # Deltas are many: keep the log readable by logging every one but trimming later.
        track.log.append(f"{self._t()} {note}")
        if len(track.log) > 400:
            del track.log[50:150]
