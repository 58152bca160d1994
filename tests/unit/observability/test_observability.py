"""Request ids, JSON log lines and the metrics helpers, without processes or network."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging

from prometheus_client import CollectorRegistry, generate_latest

from chat.observability import metrics
from chat.observability.logcontext import (
    JsonFormatter,
    RequestIdFilter,
    clean_request_id,
    new_request_id,
    request_id,
)


def record(message: str = "reply %s ended", *args: object) -> logging.LogRecord:
    return logging.LogRecord("chat.test", logging.INFO, __file__, 1, message, args or ("x",), None)


def test_only_sane_request_ids_are_accepted():
    assert clean_request_id("edge-1.a_B") == "edge-1.a_B"
    assert clean_request_id("x" * 64) == "x" * 64
    for bad in ("", "x" * 65, "a b", "a\nb", '"}', "é", None, 42):
        assert clean_request_id(bad) is None
    assert clean_request_id(new_request_id()) is not None


def test_a_json_line_has_the_fields_and_the_current_request_id():
    token = request_id.set("abc123")
    try:
        entry = record()
        RequestIdFilter().filter(entry)
    finally:
        request_id.reset(token)
    line = JsonFormatter().format(entry)
    assert "\n" not in line
    data = json.loads(line)
    assert data.keys() == {"time", "level", "logger", "message", "request_id"}
    assert data["message"] == "reply x ended" and data["request_id"] == "abc123"
    assert data["level"] == "INFO" and data["logger"] == "chat.test"


def test_extra_fields_never_reach_the_json_and_tracebacks_stay_on_one_line():
    entry = record()
    entry.api_key = "sk-secret"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        entry.exc_info = sys.exc_info()
    RequestIdFilter().filter(entry)
    line = JsonFormatter().format(entry)
    assert "sk-secret" not in line and "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exc_info"]
    assert json.loads(line)["request_id"] is None


def test_each_task_keeps_its_own_request_id():
    seen: dict[str, str | None] = {}

    async def reply(name: str) -> None:
        request_id.set(name)
        await asyncio.sleep(0.01)
        seen[name] = request_id.get()

    async def main() -> None:
        await asyncio.gather(reply("a"), reply("b"))
        seen["outside"] = request_id.get()

    contextvars.Context().run(asyncio.run, main())
    assert seen == {"a": "a", "b": "b", "outside": None}


def test_bearer_check():
    assert metrics.bearer_ok("Bearer tok", "tok")
    assert metrics.bearer_ok("bearer tok", "tok")
    for header in (None, "", "Bearer", "Bearer to", "Bearer tok2", "Basic tok", "tok"):
        assert not metrics.bearer_ok(header, "tok")


def test_queue_depth_is_read_at_scrape_time_and_left_out_when_unreadable():
    depth = {"celery": 3}
    registry = CollectorRegistry()
    registry.register(metrics.QueueDepthCollector(lambda: dict(depth)))
    assert 'ponder_queue_depth{queue="celery"} 3.0' in generate_latest(registry).decode()
    depth["celery"] = 5
    assert 'ponder_queue_depth{queue="celery"} 5.0' in generate_latest(registry).decode()

    def broken() -> dict[str, int]:
        raise ConnectionError

    registry = CollectorRegistry()
    registry.register(metrics.QueueDepthCollector(broken))
    text = generate_latest(registry).decode()
    assert "ponder_queue_depth_up 0.0" in text and "ponder_queue_depth{" not in text


def test_web_and_worker_registries_are_apart():
    web = generate_latest(metrics.WEB).decode()
    worker = generate_latest(metrics.WORKER).decode()
    assert "ponder_websocket_connections" in web and "ponder_websocket_connections" not in worker
    assert "ponder_active_streams" in worker and "ponder_active_streams" not in web
