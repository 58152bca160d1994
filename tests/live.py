"""Real processes for integration and browser tests: daphne, Celery workers, the simulator."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from django.db import connection
from websockets.sync.client import ClientConnection, connect

from ponder_run.commands import daphne_argv, worker_argv
from ponder_run.procs import LoggedProcess
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
TEST_API_KEY = "sk-ponder-test"

# Short stream timings so the reaper and heartbeats act within a test's patience.
FAST_STREAM_SETTINGS = {
    "PONDER_STREAM_HEARTBEAT_SECONDS": "1",
    "PONDER_STREAM_STALE_SECONDS": "4",
    "PONDER_REAPER_INTERVAL_SECONDS": "1",
}


# Tests send many replies at once as one user; the fair-use tests set their own limits.
GENEROUS_FAIR_USE = {
    "PONDER_MAX_ACTIVE_REPLIES": "1000",
    "PONDER_SEND_RATE": "100000/minute",
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
        **GENEROUS_FAIR_USE,
    )
    env.update(extra)
    return env


class LiveProcess(LoggedProcess):
    """A child of a test stack; its output goes to var/test-logs/<name>.log."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(name, argv, env, ROOT / "var" / "test-logs")


def start_worker(env: dict[str, str], name: str = "worker", concurrency: int = 50) -> LiveProcess:
    argv = worker_argv(str(concurrency), name=f"{name}-{os.getpid()}@%h", env=env)
    worker = LiveProcess(name, argv, env)
    worker.wait_for("ready.")
    return worker


def start_daphne(
    env: dict[str, str], name: str = "daphne", port: int | None = None
) -> tuple[LiveProcess, str]:
    port = port or free_port()
    web = LiveProcess(name, daphne_argv(str(port), env=env), env)
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


@dataclass
class LiveStack:
    base_url: str
    env: dict[str, str]
    worker: LiveProcess
    web: LiveProcess
    queue: str = "celery"
    extra: list[LiveProcess] = field(default_factory=list)

    def stop(self) -> None:
        for process in (self.web, self.worker, *self.extra):
            process.stop()

    def restart_worker(self) -> None:
        self.worker.stop()
        self.worker = start_worker(self.env)


def start_stack(simulator_url: str, protocol: str = "openai") -> LiveStack:
    """Start a worker and daphne against the test database (call with DB access unblocked).

    Each stack has a Celery queue of its own: stacks alive at once (the browser tests' and
    the integration tests') share Redis, and must never run each other's replies.
    """
    queue = f"ponder-test-{protocol}-{uuid.uuid4().hex[:8]}"
    env = child_env(simulator_url, protocol, PONDER_CELERY_QUEUE=queue)
    worker = start_worker(env)
    web, base_url = start_daphne(env)
    return LiveStack(base_url, env, worker, web, queue=queue)


class Session:
    """A logged-in browser-like client of the live stack: HTTP with CSRF, and websockets."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.http.get("/accounts/login/")
        response = self.http.post(
            "/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf},
        )
        assert response.status_code == 302, response.text
        self.http.headers["X-CSRFToken"] = self.csrf

    @property
    def csrf(self) -> str:
        return self.http.cookies["csrftoken"]

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.http.post(path, json=body if body is not None else {})

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def websocket(
        self, conversation_id: str, origin: str | None = None, **options: Any
    ) -> ClientConnection:
        ws_url = self.base_url.replace("http://", "ws://") + f"/ws/conversations/{conversation_id}/"
        cookies = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        return connect(
            ws_url,
            additional_headers={"Cookie": cookies},
            origin=origin or self.base_url,
            open_timeout=10,
            **options,
        )

    def new_conversation(self) -> str:
        response = self.post("/api/conversations/", {})
        assert response.status_code == 201
        return response.json()["id"]

    def send(
        self, conversation_id: str, content: str, model: str = "qwen-plus", **extra: Any
    ) -> dict:
        body = {"content": content, "model": model, **extra}
        response = self.post(f"/api/conversations/{conversation_id}/messages/", body)
        assert response.status_code == 202, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()


def collect_events(ws: ClientConnection, message_id: str, timeout: float = 30) -> list[dict]:
    """Read events of one message until its final status event; return them all."""
    events: list[dict] = []
    while True:
        event = json.loads(ws.recv(timeout=timeout))
        if event.get("message_id") != message_id:
            continue
        events.append(event)
        if event["type"] == "status" and event["status"] not in ("pending", "streaming"):
            return events


def joined(events: list[dict], field_name: str) -> str:
    return "".join(e.get(field_name, "") for e in events if e["type"] == "delta")
