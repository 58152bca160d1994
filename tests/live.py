"""Real processes for integration and browser tests: daphne, Celery workers, the simulator."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
TEST_API_KEY = "sk-ponder-test"

# Short stream timings so the reaper and heartbeats act within a test's patience.
FAST_STREAM_SETTINGS = {
    "PONDER_STREAM_HEARTBEAT_SECONDS": "1",
    "PONDER_STREAM_STALE_SECONDS": "4",
    "PONDER_REAPER_INTERVAL_SECONDS": "1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """Return a URL of the test database pytest-django created, for child processes."""
    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{conf['NAME']}"
    user = conf.get("USER") or ""
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = conf.get("HOST") or "127.0.0.1"
    port = f":{conf['PORT']}" if conf.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{conf['NAME']}"


def child_env(simulator_url: str, protocol: str = "openai", **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        DASHSCOPE_BASE_URL=simulator_url,
        DASHSCOPE_API_KEY=TEST_API_KEY,
        DASHSCOPE_PROTOCOL=protocol,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
        **FAST_STREAM_SETTINGS,
    )
    env.update(extra)
    return env


class LiveProcess:
    """A child process whose output goes to a log file under var/test-logs/."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log_dir = ROOT / "var" / "test-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop)
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, marker: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name} never printed {marker!r}:\n{self.output()[-3000:]}"
                )
            time.sleep(0.1)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def start_worker(env: dict[str, str], name: str = "worker", concurrency: int = 50) -> LiveProcess:
    argv = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads",
        "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip",
        "--without-mingle", "-n", f"{name}-{os.getpid()}@%h",
    ]  # fmt: skip
    worker = LiveProcess(name, argv, env)
    worker.wait_for_output("ready.")
    return worker


def start_daphne(env: dict[str, str], name: str = "daphne") -> tuple[LiveProcess, str]:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "config.asgi:application",
    ]
    web = LiveProcess(name, argv, env)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base_url}/accounts/login/", timeout=1)
            return web, base_url
        except httpx.HTTPError:
            if web.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start:\n{web.output()[-3000:]}") from None
            time.sleep(0.1)
