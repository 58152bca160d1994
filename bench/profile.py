"""Optional CPU profiles of the worker and daphne during a round, with py-spy.

``--profile`` runs ``py-spy record --gil --nonblocking --rate 20 --format raw`` on each
process while the round streams: only the thread holding the GIL is sampled, so the
samples are where Python CPU time goes (not the 400 Celery threads that just wait),
and the target is never paused. The summary puts each sample in one area of the
pipeline (``AREAS``, by what is on its stack) and, separately, in the package of its
innermost frame (self time).
py-spy is not a project dependency: pass its path or have it on PATH.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::\d+)?\)$")
# Where a sample's time goes: the first area whose marker is in any "file:function" of
# its stack (the order matters: an append runs inside the relay).
AREAS = [
    ("database (Django ORM, sqlite3/psycopg)", ("django/db/", "sqlite3", "psycopg")),
    ("channel layer: group_send", ("RedisChannelLayer.group_send",)),
    ("channel layer: receive", ("RedisChannelLayer.receive",)),
    ("replay buffer + live: appends", ("bus.py:append", "bus.py:publish")),
    ("live feed: XREAD, dispatch", ("live.py:", "ConversationConsumer.live_event")),
    ("replay buffer: XRANGE", ("bus.py:replay",)),
    ("upstream: HTTP read + SSE parse", ("UpstreamClient.stream", "UpstreamClient._attempt")),
    ("relay: coalescing, events", ("chat/streaming/pipeline/relay.py", "ReplyRun.apply")),
    (
        "websocket out (autobahn, daphne)",
        ("autobahn/", "daphne/ws_protocol", "Server.handle_reply"),
    ),
    ("HTTP requests (Django views)", ("django/core/handlers", "asgiref/sync.py")),
    ("Celery / kombu", ("celery/", "kombu/")),
]


def find_py_spy(path: str | None) -> str | None:
    return path if path and Path(path).exists() else shutil.which("py-spy")


def package_of(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    match = re.search(r"python3\.\d+/(.+?)(?:/|\.py$)", filename)
    if match:
        return f"stdlib:{match.group(1)}"
    for marker in ("/chat/", "/config/", "/accounts/"):
        if marker in filename:
            return marker.strip("/") + "/" + filename.split(marker, 1)[1]
    return filename.rsplit("/", 1)[-1]


class Profiler:
    def __init__(self, py_spy: str, pids: dict[str, int], out_dir: Path, tag: str) -> None:
        self.py_spy = py_spy
        self.outputs = {name: out_dir / f"profile-{tag}-{name}.txt" for name in pids}
        self.pids = pids
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> Profiler:
        for name, pid in self.pids.items():
            argv = [
                self.py_spy, "record", "--pid", str(pid), "--rate", "20", "--gil",
                "--nonblocking", "--full-filenames", "--format", "raw",
                "--output", str(self.outputs[name]),
            ]  # fmt: skip
            self.procs[name] = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGINT)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def summary(self, top: int = 12) -> dict[str, Any]:
        return {name: summarise(path, top) for name, path in self.outputs.items() if path.exists()}


def summarise(path: Path, top: int = 10) -> dict[str, Any]:
    total = 0
    self_time: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = []
        for frame in stack.split(";"):
            match = _FRAME.match(frame)
            frames.append((match["file"], match["func"]) if match else ("", frame))
        if frames:
            self_time[package_of(frames[-1][0])] += count
        where = " ".join(f"{file}:{func}" for file, func in frames)
        area = next(
            (name for name, markers in AREAS if any(m in where for m in markers)),
            "event loop, sockets, other",
        )
        areas[area] += count

    def share(counter: Counter[str], limit: int | None = None) -> list[list[Any]]:
        return [[key, round(100 * n / total, 1)] for key, n in counter.most_common(limit)]

    return {
        "samples": total,
        "percent_by_area": share(areas) if total else [],
        "self_percent_by_package": share(self_time, top) if total else [],
    }
