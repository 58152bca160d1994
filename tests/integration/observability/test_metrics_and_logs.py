"""Metrics and JSON logs on real processes: one request id from the send to the upstream."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from chat.observability import metrics
from tests.factories import make_user
from tests.integration.scripted import scripted
from tests.live import (
    TEST_API_KEY,
    LiveStack,
    Session,
    child_env,
    collect_events,
    free_port,
    start_daphne,
    start_worker,
)

TOKEN = "metrics-test-token"
PROMPT_MARKER = "Zebra-prompt-marker-7431"
ANSWER_MARKER = "Quokka-answer-marker"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(text: str, name: str, **labels: str) -> float:
    return sum(
        value
        for (sample, sample_labels), value in samples(text).items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


@pytest.fixture(scope="module")
def observed(simulator, django_db_setup, django_db_blocker) -> Iterator[tuple[LiveStack, int]]:
    """A stack with JSON logs, the metrics token and a worker metrics port."""
    worker_port = free_port()
    queue = f"ponder-test-obs-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        env = child_env(
            simulator,
            "openai",
            PONDER_CELERY_QUEUE=queue,
            PONDER_LOG_FORMAT="json",
            PONDER_METRICS_TOKEN=TOKEN,
            PONDER_WORKER_METRICS_PORT=str(worker_port),
        )
        worker = start_worker(env, name="obs-worker")
        web, base_url = start_daphne(env, name="obs-daphne")
    stack = LiveStack(base_url, env, worker, web, queue=queue)
    yield stack, worker_port
    stack.stop()


def scrape(url: str, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url, headers=headers, timeout=5)


def test_metrics_move_and_logs_carry_one_request_id(observed, transactional_db):
    stack, worker_port = observed
    worker_url = f"http://127.0.0.1:{worker_port}/metrics"
    web_url = f"{stack.base_url}/metrics"
    make_user("alice")
    alice = Session(stack.base_url, "alice")
    try:
        conversation_id = alice.new_conversation()
        before = scrape(worker_url).text
        prompt = PROMPT_MARKER + " " + scripted("think " * 60, f"{ANSWER_MARKER} " * 30, "rate=40")
        with alice.websocket(conversation_id) as ws:
            response = alice.post(
                f"/api/conversations/{conversation_id}/messages/",
                {"content": prompt, "model": "qwen-plus", "enable_thinking": True},
            )
            assert response.status_code == 202, response.text
            request_id = response.headers["X-Request-ID"]
            reply_id = response.json()["assistant_message"]["id"]

            # Mid-stream: the worker holds a stream and has relayed events.
            deadline = time.monotonic() + 20
            while True:
                during = scrape(worker_url).text
                if total(during, "ponder_active_streams") >= 1 and total(
                    during, "ponder_events_relayed_total", type="delta"
                ) > total(before, "ponder_events_relayed_total", type="delta"):
                    break
                assert time.monotonic() < deadline, during
                time.sleep(0.1)
            web = scrape(web_url)
            assert web.status_code == 200
            assert total(web.text, "ponder_websocket_connections") >= 1
            assert total(web.text, "ponder_replies_queued_total", result="queued") >= 1
            assert total(web.text, "ponder_queue_depth_up") == 1
            assert ("ponder_queue_depth", (("queue", stack.queue),)) in samples(web.text)

            events = collect_events(ws, reply_id)
        assert events[-1]["status"] == "complete"

        deadline = time.monotonic() + 10
        while total(after := scrape(worker_url).text, "ponder_active_streams") != 0:
            assert time.monotonic() < deadline, after
            time.sleep(0.1)
        assert total(after, "ponder_events_relayed_total") > total(
            during, "ponder_events_relayed_total"
        )
        assert total(after, "ponder_events_relayed_total", type="status") >= 2
        assert total(after, "ponder_added_latency_seconds_count") > 0
        assert total(after, "ponder_tokens_total", model="qwen-plus", kind="output") > 0
        assert total(after, "ponder_tokens_total", model="qwen-plus", kind="reasoning") > 0

        # The worker's port wants the same token.
        assert scrape(worker_url, token=None).status_code == 401
        assert scrape(worker_url, token="wrong").headers["WWW-Authenticate"] == "Bearer"
    finally:
        alice.close()

    time.sleep(0.5)  # the last lines reach the files
    lines = {
        name: [line for line in process.output().splitlines() if line.strip()]
        for name, process in (("worker", stack.worker), ("web", stack.web))
    }
    records = {}
    for name, process_lines in lines.items():
        for line in process_lines:
            try:
                record = json.loads(line)
            except ValueError:
                pytest.fail(f"{name} wrote a line that is not JSON: {line!r}")
            assert {"time", "level", "logger", "message", "request_id"} <= record.keys()
            assert TEST_API_KEY not in line
            assert PROMPT_MARKER not in line and ANSWER_MARKER not in line
            assert "think think" not in line
            records.setdefault(name, []).append(record)
    about_reply = [r for rs in records.values() for r in rs if reply_id in r["message"]]
    assert {r["request_id"] for r in about_reply} == {request_id}
    messages = [r["message"] for r in about_reply]
    assert f"reply {reply_id} queued" in messages  # the web process
    assert any(m.startswith(f"reply {reply_id} upstream request ") for m in messages)
    assert any(m.startswith(f"reply {reply_id} ended complete") for m in messages)


def test_a_sane_request_id_from_the_proxy_is_kept(observed):
    stack, _ = observed
    kept = httpx.get(f"{stack.base_url}/healthz", headers={"X-Request-ID": "edge-1.a_B"})
    assert kept.headers["X-Request-ID"] == "edge-1.a_B"
    for bad in ("bad id", "x" * 65, "a/b", '"}'):
        replaced = httpx.get(f"{stack.base_url}/healthz", headers={"X-Request-ID": bad})
        assert len(replaced.headers["X-Request-ID"]) == 32 != len(bad)


def test_web_metrics_need_the_token(settings, db):
    client = Client()
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret"
    for auth in (None, "Bearer wrong", "Basic s3cret", "Bearer s3cret-and-more"):
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        response = client.get("/metrics", **headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert response.status_code == 200
    assert "ponder_http_requests_total" in response.content.decode()
    assert client.post("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code in (403, 405)


def test_the_worker_port_serves_the_worker_registry_to_bearers_only():
    port = free_port()
    server = metrics.serve_worker_metrics(port, "tok", addr="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        assert scrape(url, token=None).status_code == 401
        assert scrape(url, token="nope").status_code == 401
        ok = scrape(url, token="tok")
        assert ok.status_code == 200 and "ponder_active_streams" in ok.text
        assert "ponder_websocket_connections" not in ok.text
    finally:
        server.shutdown()
        server.server_close()
