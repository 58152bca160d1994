"""Command lines of Ponder's own processes, shared by `make run`, the tests and the bench."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

LISTEN_BACKLOG = 1024


def json_logs(env: Mapping[str, str] | None) -> bool:
    return (os.environ if env is None else env).get("PONDER_LOG_FORMAT") == "json"


def worker_processes(env: Mapping[str, str] | None = None) -> int:
    """How many worker processes ``make run`` starts: ``PONDER_WORKER_PROCESSES``, else one
    per core. Each process streams every reply it holds on one event loop (one core at
    most); at 200 streams on two cores, two processes cut p99 from 3.4 to 0.7 s.
    """
    value = (os.environ if env is None else env).get("PONDER_WORKER_PROCESSES", "").strip()
    return max(1, int(value)) if value else os.cpu_count() or 1


def worker_argv(
    concurrency: str | None = None, name: str | None = None, env: Mapping[str, str] | None = None
) -> list[str]:
    """Return the Celery worker command: a thread pool whose threads wait on one asyncio loop.

    ``env`` is the environment it will run in (this process's by default).
    """
    concurrency = concurrency or os.environ.get("PONDER_WORKER_CONCURRENCY", "400")
    argv = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool", "threads", "--concurrency", concurrency,
        "--loglevel", "INFO", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    if name:
        argv += ["-n", name]
    if json_logs(env):
        argv.insert(argv.index("worker"), "--quiet")  # no banner: only JSON log records
    return argv


def daphne_argv(
    port: str, host: str = "127.0.0.1", env: Mapping[str, str] | None = None
) -> list[str]:
    """Return the daphne command (``config.webserver``: daphne with websocket compression),
    with a listen backlog that survives bursts of new sockets.

    ``-b/-p`` leave Twisted's backlog at 50: hundreds of users connecting at once then
    lose requests (measured with the load benchmark).
    """
    endpoint = f"tcp:port={port}:interface={host}:backlog={LISTEN_BACKLOG}"
    argv = [sys.executable, "-m", "config.webserver", "-e", endpoint, "config.asgi:application"]
    if json_logs(env):
        # Daphne's access log is plain text on stdout; Ponder logs each request in JSON.
        argv[3:3] = ["-v", "0"]
    return argv
