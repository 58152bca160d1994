"""The live stack: simulator + Celery worker + daphne, sharing the test database and Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from tests.conftest import PASSWORD, make_user
from tests.live import LiveProcess, child_env, start_daphne, start_worker


@pytest.fixture(scope="session")
def simulator() -> Iterator[str]:
    from chat.upstream.simulator import SimulatorThread

    sim = SimulatorThread(rate=400)
    yield sim.start()
    sim.stop()


@pytest.fixture(scope="session", params=["openai", "dashscope"])
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


@dataclass
class LiveStack:
    base_url: str
    env: dict[str, str]
    worker: LiveProcess
    web: LiveProcess
    extra: list[LiveProcess] = field(default_factory=list)

    def restart_worker(self) -> None:
        self.worker.stop()
        self.worker = start_worker(self.env)


@pytest.fixture(scope="session")
def live(protocol, simulator, django_db_setup, django_db_blocker) -> Iterator[LiveStack]:
    from django.conf import settings

    with django_db_blocker.unblock():
        env = child_env(simulator, protocol)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    worker = start_worker(env)
    web, base_url = start_daphne(env)
    stack = LiveStack(base_url, env, worker, web)
    yield stack
    for process in (stack.web, stack.worker, *stack.extra):
        process.stop()


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

    def websocket(self, conversation_id: str, origin: str | None = None) -> ClientConnection:
        ws_url = self.base_url.replace("http://", "ws://") + f"/ws/conversations/{conversation_id}/"
        cookies = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        return connect(
            ws_url,
            additional_headers={"Cookie": cookies},
            origin=origin or self.base_url,
            open_timeout=10,
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


@pytest.fixture
def live_alice(live, transactional_db) -> Iterator[Session]:
    make_user("alice")
    session = Session(live.base_url, "alice")
    yield session
    session.close()


@pytest.fixture
def live_bob(live, transactional_db) -> Iterator[Session]:
    make_user("bob")
    session = Session(live.base_url, "bob")
    yield session
    session.close()


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
