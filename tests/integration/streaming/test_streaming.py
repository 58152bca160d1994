"""The pipeline end to end: HTTP send → Celery worker → simulator → Redis → daphne → websocket.

Runs once per upstream protocol (the ``protocol`` fixture), on real processes.
"""

from __future__ import annotations

import json
import random
import socket
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from chat.models import Message
from tests.integration.scripted import ANSWER, REASONING, scripted, sim_requests
from tests.live import collect_events, joined

# Words of a reasoning trace, for text that compresses as prose does (not a repeated word).
WORDS = (
    "the user asks whether we should consider a careful answer because first second then "
    "check assume value result error case example therefore however maybe likely number "
    "function model reply step time data 42 x y equation prove means wait actually"
).split()


class CountingSocket(socket.socket):
    """A TCP socket that counts the bytes it receives: the websocket's wire bytes."""

    received = 0

    def recv(self, size: int, flags: int = 0) -> bytes:
        data = super().recv(size, flags)
        self.received += len(data)
        return data


def assert_contiguous(events: list[dict]) -> None:
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def upstream_body_for(simulator: str, needle: str) -> dict:
    bodies = [
        r["body"]
        for r in sim_requests(simulator)
        if needle in json.dumps(r["body"], ensure_ascii=False)
    ]
    assert bodies, f"no upstream request contained {needle!r}"
    return bodies[-1]


def upstream_messages(body: dict) -> list[dict]:
    return body["messages"] if "messages" in body else body["input"]["messages"]


def thinking_params(body: dict) -> dict:
    return body if "messages" in body else body.get("parameters", {})


def test_reply_is_byte_exact_from_upstream_to_socket_to_database(live_alice):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(conversation_id, scripted(), enable_thinking=True)
        reply_id = sent["assistant_message"]["id"]
        events = collect_events(ws, reply_id)
    assert_contiguous(events)
    assert events[0] == {**events[0], "type": "status", "status": "streaming"}
    assert joined(events, "reasoning") == REASONING
    assert joined(events, "content") == ANSWER
    final = events[-1]
    assert final["status"] == "complete" and final["finish_reason"] == "stop"
    assert final["usage"]["output_tokens"] > 0 and final["usage"]["reasoning_tokens"] > 0
    assert (
        final["timings"]["first_token_at"]
        <= final["timings"]["answer_started_at"]
        <= final["timings"]["completed_at"]
    )
    message = Message.objects.get(id=reply_id)
    assert message.reasoning == REASONING and message.content == ANSWER
    assert message.status == "complete" and message.cost is None  # no price set: unpriced
    # Reasoning arrives first; the switch to the answer is its own event boundary.
    kinds = ["r" if e["reasoning"] else "c" for e in events if e["type"] == "delta"]
    assert kinds == sorted(kinds, key=lambda k: k == "c")
    assert not any(e["reasoning"] and e["content"] for e in events if e["type"] == "delta")


def test_websocket_bytes_stay_close_to_text_bytes(live_alice):
    answer = "word " * 2000
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        live_alice.send(conversation_id, scripted("thinking " * 500, answer))
        frames: list[str] = []
        while True:
            frame = ws.recv(timeout=30)
            frames.append(frame)
            event = json.loads(frame)
            if event["type"] == "status" and event["status"] == "complete":
                break
    text_bytes = len(("thinking " * 500 + answer).encode())
    wire_bytes = sum(len(f.encode()) for f in frames)
    assert wire_bytes < 2 * text_bytes  # each event carries only new text
    assert all(len(f) < 9000 for f in frames)  # events are capped


def test_websocket_frames_are_compressed_to_near_the_text(live_alice):
    # 50 pieces a second, as a thinking model streams: each event carries a few words in a
    # JSON envelope; permessage-deflate sends the envelope's repeats as back-references.
    rng = random.Random(7)
    reasoning = " ".join(rng.choice(WORDS) for _ in range(220))
    answer = " ".join(rng.choice(WORDS) for _ in range(80))
    conversation_id = live_alice.new_conversation()
    port = int(live_alice.base_url.rsplit(":", 1)[1])
    sock = CountingSocket(socket.AF_INET, socket.SOCK_STREAM)
    sock.connect(("127.0.0.1", port))
    with live_alice.websocket(conversation_id, sock=sock) as ws:
        extensions = ws.response.headers["Sec-WebSocket-Extensions"]
        handshake = sock.received
        sent = live_alice.send(
            conversation_id, scripted(reasoning, answer, "rate=50"), enable_thinking=True
        )
        events = collect_events(ws, sent["assistant_message"]["id"])
        wire = sock.received - handshake
    assert extensions.startswith("permessage-deflate")
    assert joined(events, "reasoning") == reasoning and joined(events, "content") == answer
    text = len((reasoning + answer).encode())
    payload = sum(len(json.dumps(e)) for e in events)
    assert payload > 3 * text  # what the wire would carry without compression
    assert wire <= 1.5 * text, (wire, text, len(events))


@pytest.mark.parametrize(
    ("offer", "extension"),
    [
        ([ClientPerMessageDeflateFactory(client_max_window_bits=10)], "permessage-deflate"),
        ([], None),  # a client that offers nothing gets plain frames
    ],
)
def test_any_compression_offer_or_none_gets_a_working_socket(live_alice, offer, extension):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id, compression=None, extensions=offer) as ws:
        assert ws.response.headers.get("Sec-WebSocket-Extensions", "").split(";")[0] == (
            extension or ""
        )
        sent = live_alice.send(conversation_id, scripted())
        events = collect_events(ws, sent["assistant_message"]["id"])
    assert joined(events, "content") == ANSWER


def test_history_sends_earlier_answers_without_reasoning(live_alice, simulator):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        first = live_alice.send(
            conversation_id, scripted("secret reasoning one", "first answer"), enable_thinking=True
        )
        collect_events(ws, first["assistant_message"]["id"])
        second = live_alice.send(
            conversation_id, "And now? [[sim:answer_tokens=5]]", enable_thinking=True
        )
        collect_events(ws, second["assistant_message"]["id"])
    body = upstream_body_for(simulator, "And now?")
    messages = upstream_messages(body)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert "first answer" in json.dumps(messages[1], ensure_ascii=False)
    assert "secret reasoning one" not in json.dumps(body, ensure_ascii=False)
    assert "reasoning_content" not in messages[1]


def test_thinking_off_sends_false_and_streams_no_reasoning(live_alice, simulator):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id, "Quick one [[sim:answer_tokens=8]]", enable_thinking=False
        )
        events = collect_events(ws, sent["assistant_message"]["id"])
    assert thinking_params(upstream_body_for(simulator, "Quick one"))["enable_thinking"] is False
    assert joined(events, "reasoning") == ""
    assert joined(events, "content")
    assert Message.objects.get(id=sent["assistant_message"]["id"]).reasoning == ""


def test_thinking_budget_reaches_upstream_and_caps_reasoning(live_alice, simulator):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id, "Budgeted [[sim:reasoning_tokens=200 answer_tokens=5]]",
            enable_thinking=True, thinking_budget=20,
        )  # fmt: skip
        events = collect_events(ws, sent["assistant_message"]["id"])
    params = thinking_params(upstream_body_for(simulator, "Budgeted"))
    assert params["enable_thinking"] is True and params["thinking_budget"] == 20
    assert events[-1]["usage"]["reasoning_tokens"] == 20


def test_stop_ends_cancelled_with_partial_text_and_usage(live_alice, protocol):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id,
            "Long one [[sim:rate=40 reasoning_tokens=400 answer_tokens=400]]",
            enable_thinking=True,
        )
        reply_id = sent["assistant_message"]["id"]
        events = []
        while len([e for e in events if e["type"] == "delta"]) < 5:
            events.append(json.loads(ws.recv(timeout=10)))
        stopped_at = time.monotonic()
        assert live_alice.post(f"/api/messages/{reply_id}/stop/").status_code == 202
        events += collect_events(ws, reply_id, timeout=5)
    assert events[-1]["status"] == "cancelled"
    assert time.monotonic() - stopped_at < 5  # the full reply would take 20 s
    assert_contiguous(events)
    message = Message.objects.get(id=reply_id)
    assert message.status == "cancelled"
    assert message.reasoning == joined(events, "reasoning") and message.reasoning
    assert message.output_tokens > 0 and message.output_tokens < 800
    # DashScope reports cumulative usage on every chunk; OpenAI only at the end, so estimate.
    assert message.usage_estimated is (protocol == "openai")


def test_stop_before_a_worker_claims_it(live_alice):
    """A stop that wins the race against the worker ends the reply at once."""
    conversation_id = live_alice.new_conversation()
    sent = live_alice.send(conversation_id, "hi [[sim:answer_tokens=3]]")
    reply_id = sent["assistant_message"]["id"]
    assert live_alice.post(f"/api/messages/{reply_id}/stop/").status_code == 202
    deadline = time.monotonic() + 10
    while Message.objects.get(id=reply_id).status in ("pending", "streaming"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert Message.objects.get(id=reply_id).status in ("cancelled", "complete")


def test_resume_after_disconnect_loses_nothing_and_doubles_nothing(live_alice):
    reasoning, answer = "r" * 50 + " 思考 " + "s" * 50, "a" * 60 + " 答え 🎌 " + "b" * 60
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id, scripted(reasoning, answer, "rate=60"), enable_thinking=True
        )
        reply_id = sent["assistant_message"]["id"]
        first_part = [json.loads(ws.recv(timeout=10)) for _ in range(4)]
    time.sleep(0.5)  # events keep flowing while nobody listens
    with live_alice.websocket(conversation_id) as ws:
        ws.send(
            json.dumps(
                {"type": "resume", "message_id": reply_id, "after_seq": first_part[-1]["seq"]}
            )
        )
        rest = collect_events(ws, reply_id)
    events = first_part + rest
    assert_contiguous(events)
    assert joined(events, "reasoning") == reasoning
    assert joined(events, "content") == answer


@pytest.mark.parametrize(
    ("directive", "code_prefix"),
    [
        ("fault=500", ""),
        ("fault=429", ""),
        ("fault=disconnect after=10", ""),
        ("fault=error_body", ""),
    ],
)
def test_upstream_failure_ends_failed_with_readable_error(live_alice, directive, code_prefix):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id, f"Try [[sim:{directive} answer_tokens=40]]", enable_thinking=True
        )
        reply_id = sent["assistant_message"]["id"]
        events = collect_events(ws, reply_id, timeout=60)
    final = events[-1]
    assert final["status"] == "failed"
    assert final["error"]["code"] and len(final["error"]["message"]) > 10
    assert "sk-" not in final["error"]["message"]
    message = Message.objects.get(id=reply_id)
    assert message.status == "failed" and message.error_message == final["error"]["message"]
    assert message.reasoning == joined(events, "reasoning")
    assert message.content == joined(events, "content")
    if "disconnect" in directive:
        assert message.reasoning or message.content  # what arrived is kept
    assert Message.objects.filter(conversation_id=conversation_id, role="user").count() == 1


def test_a_second_delivery_of_the_task_does_nothing(live, live_alice):
    from chat.tasks import generate_reply

    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        reply_id = live_alice.send(conversation_id, "Once [[sim:answer_tokens=5]]")[
            "assistant_message"
        ]["id"]
        events = collect_events(ws, reply_id)
        before = Message.objects.get(id=reply_id)
        generate_reply.apply_async([reply_id], queue=live.queue)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=2)
    after = Message.objects.get(id=reply_id)
    assert (after.status, after.content, after.completed_at) == (
        before.status,
        before.content,
        before.completed_at,
    )
    assert events[-1]["status"] == "complete"


def test_other_users_and_foreign_origins_are_refused(live_alice, live_bob):
    conversation_id = live_alice.new_conversation()
    with pytest.raises(InvalidStatus):
        live_bob.websocket(conversation_id)
    with pytest.raises(InvalidStatus):
        live_alice.websocket(conversation_id, origin="http://evil.example")
    with live_alice.websocket(conversation_id) as ws:  # the owner from our origin is fine
        ws.send(json.dumps({"type": "resume", "message_id": "not-a-uuid", "after_seq": 0}))
        assert json.loads(ws.recv(timeout=5))["code"] == "unknown_message"


def test_resume_of_another_conversations_message_is_refused(live_alice, live_bob):
    bobs = live_bob.new_conversation()
    with live_bob.websocket(bobs) as ws:
        reply_id = live_bob.send(bobs, "mine [[sim:answer_tokens=3]]")["assistant_message"]["id"]
        collect_events(ws, reply_id)
    alices = live_alice.new_conversation()
    with live_alice.websocket(alices) as ws:
        ws.send(json.dumps({"type": "resume", "message_id": reply_id, "after_seq": 0}))
        assert json.loads(ws.recv(timeout=5)) == {
            "type": "error",
            "code": "unknown_message",
            "message_id": reply_id,
        }


def test_worker_killed_mid_stream_ends_interrupted(live, live_alice):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id,
            "Slow [[sim:rate=20 reasoning_tokens=400 answer_tokens=50]]",
            enable_thinking=True,
        )
        reply_id = sent["assistant_message"]["id"]
        events = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
        time.sleep(1.5)  # let a heartbeat store some text
        live.worker.kill()
        live.restart_worker()  # its reaper finds the stale heartbeat
        events += collect_events(ws, reply_id, timeout=30)
    assert events[-1]["status"] == "interrupted"
    assert events[-1]["error"]["code"] == "worker_lost"
    message = Message.objects.get(id=reply_id)
    assert message.status == "interrupted"
    assert message.reasoning  # partial text is kept
    assert joined(events, "reasoning").startswith(message.reasoning)


def test_worker_shutdown_mid_stream_ends_interrupted_at_once(live, live_alice):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id, "Slow [[sim:rate=20 reasoning_tokens=400]]", enable_thinking=True
        )
        reply_id = sent["assistant_message"]["id"]
        events = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
        live.worker.proc.terminate()  # SIGTERM: Celery's warm shutdown
        events += collect_events(ws, reply_id, timeout=10)
    live.restart_worker()
    assert events[-1]["status"] == "interrupted"
    assert events[-1]["error"]["code"] == "worker_shutdown"
    message = Message.objects.get(id=reply_id)
    assert message.status == "interrupted"
    assert message.reasoning == joined(events, "reasoning") and message.reasoning


def test_events_whose_live_send_was_dropped_arrive_from_the_buffer(live_alice):
    """A dropped *final* event has no later event to reveal the gap; the refill finds it."""
    import redis as redis_client
    from django.conf import settings

    from chat.models import Conversation
    from chat.streaming import bus

    conversation_id = live_alice.new_conversation()
    conversation = Conversation.objects.get(id=conversation_id)
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    reply = Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, status="streaming"
    )
    with live_alice.websocket(conversation_id) as ws:
        ws.send(json.dumps({"type": "resume", "message_id": str(reply.id), "after_seq": 0}))
        time.sleep(0.3)
        buffer = redis_client.Redis.from_url(settings.REDIS_URL)
        for event in (
            {
                "type": "delta",
                "message_id": str(reply.id),
                "seq": 1,
                "reasoning": "",
                "content": "late",
            },
            {"type": "status", "message_id": str(reply.id), "seq": 2, "status": "complete"},
        ):  # written to the buffer only, as if every live send had been dropped
            buffer.xadd(bus.replay_key(reply.id), {"e": bus.encode(event)}, id=f"0-{event['seq']}")
        received = [json.loads(ws.recv(timeout=8)) for _ in range(2)]
    assert [(e["seq"], e["type"]) for e in received] == [(1, "delta"), (2, "status")]
    assert received[0]["content"] == "late"
