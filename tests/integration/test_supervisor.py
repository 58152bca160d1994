"""`make run`'s supervisor: brings up a healthy app, and SIGINT leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.live import ROOT, free_port


def descendants(pid: int) -> set[int]:
    """Return every live process whose parent chain leads to ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "?"


def test_serve_is_healthy_then_sigint_stops_every_child(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DASHSCOPE_API_KEY", "DATABASE_URL")
    }
    env.update(
        PORT=str(port),
        PONDER_VAR_DIR=str(tmp_path / "var"),
        PONDER_WORKER_CONCURRENCY="20",
        PONDER_WORKER_PROCESSES="2",
    )
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "ponder_run", "serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=3)
                # Healthy with one worker up; wait for the other (pings are cached 5 s).
                if health.status_code == 200 and health.json()["workers"] == 2:
                    break
            except httpx.HTTPError:
                pass
            assert supervisor.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.5)
        assert health is not None and health.status_code == 200, (
            tmp_path / "serve.log"
        ).read_text()
        # Every worker process answers the health check's ping under a name of its own.
        assert health.json() == {"status": "ok", "database": "ok", "redis": "ok", "workers": 2}
        assert (tmp_path / "var" / "db.sqlite3").exists()  # SQLite under var/ by default
        children = descendants(supervisor.pid)
        assert len(children) >= 5  # redis, simulator, daphne, two workers
        supervisor.send_signal(signal.SIGINT)
        try:
            status = supervisor.wait(timeout=30)
        except subprocess.TimeoutExpired:
            alive = [(pid, process_name(pid)) for pid in children if is_alive(pid)]
            tail = (tmp_path / "serve.log").read_text()[-4000:]
            raise AssertionError(f"still running after SIGINT: {alive}\n{tail}") from None
        assert status == 0
        time.sleep(0.5)
        assert [pid for pid in children if is_alive(pid)] == []
        output = (tmp_path / "serve.log").read_text()
        assert "web      |" in output and "worker-2 |" in output  # prefixed, interleaved logs
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        log.close()
