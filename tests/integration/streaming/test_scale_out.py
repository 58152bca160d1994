"""Two web processes and two workers sharing one Redis and one database, as in production."""

from __future__ import annotations

import json

import pytest

from chat.models import Message
from tests.live import Session, collect_events, joined, start_daphne, start_worker


@pytest.fixture
def second_web_and_worker(live):
    worker = start_worker(live.env, name="worker-2")
    web, base_url = start_daphne(live.env, name="daphne-2")
    yield base_url
    web.stop()
    worker.stop()


def test_stream_started_on_one_web_process_resumes_on_the_other(live_alice, second_web_and_worker):
    other = Session(second_web_and_worker, "alice")
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id,
            "Spread out [[sim:rate=60 reasoning_tokens=60 answer_tokens=40]]",
            enable_thinking=True,
        )
        reply_id = sent["assistant_message"]["id"]
        first = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
    with other.websocket(conversation_id) as ws:
        ws.send(
            json.dumps({"type": "resume", "message_id": reply_id, "after_seq": first[-1]["seq"]})
        )
        rest = collect_events(ws, reply_id)
    events = first + rest
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    message = Message.objects.get(id=reply_id)
    assert message.status == "complete"
    assert joined(events, "reasoning") == message.reasoning
    assert joined(events, "content") == message.content
    other.close()


@pytest.mark.parametrize("stop_via", ["first", "second"])
def test_stop_sent_to_either_web_process_reaches_the_worker(
    live_alice, second_web_and_worker, stop_via
):
    other = Session(second_web_and_worker, "alice")
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id,
            "Long [[sim:rate=30 reasoning_tokens=300 answer_tokens=300]]",
            enable_thinking=True,
        )
        reply_id = sent["assistant_message"]["id"]
        events = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
        stopper = live_alice if stop_via == "first" else other
        assert stopper.post(f"/api/messages/{reply_id}/stop/").status_code == 202
        events += collect_events(ws, reply_id, timeout=5)
    assert events[-1]["status"] == "cancelled"
    assert Message.objects.get(id=reply_id).status == "cancelled"
    other.close()
