"""After the first reply, a fast model with thinking off writes the title — never fed reasoning."""

from __future__ import annotations

import json
import time

import httpx

from chat.models import Conversation
from tests.integration.scripted import scripted
from tests.live import collect_events


def wait_for_title(conversation_id: str, provisional: str, timeout: float = 20) -> Conversation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conversation = Conversation.objects.get(id=conversation_id)
        if conversation.title_is_final:
            return conversation
        time.sleep(0.2)
    raise AssertionError(f"the title stayed {provisional!r}")


def test_first_reply_gets_a_generated_title(live_alice, simulator, protocol):
    answer = f"Blue light scatters most ({protocol})."
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id,
            scripted("SECRET-REASONING-42", answer),
            enable_thinking=True,
        )
        collect_events(ws, sent["assistant_message"]["id"])
    provisional = Conversation.objects.get(id=conversation_id).title
    conversation = wait_for_title(conversation_id, provisional)
    assert conversation.title and conversation.title != provisional
    assert len(conversation.title) <= 60
    title_requests = [
        r["body"] for r in httpx.get(f"{simulator}/_sim/requests").json()
        if r["body"].get("model") == "qwen-flash" and answer in json.dumps(r["body"])
    ]  # fmt: skip
    assert len(title_requests) == 1
    body = title_requests[0]
    params = body if "messages" in body else body["parameters"]
    assert params["enable_thinking"] is False
    assert "SECRET-REASONING-42" not in json.dumps(body)


def test_a_renamed_conversation_keeps_its_name(live_alice):
    conversation_id = live_alice.new_conversation()
    assert (
        live_alice.http.patch(
            f"/api/conversations/{conversation_id}/", json={"title": "Mine"}
        ).status_code
        == 200
    )
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(conversation_id, "hello [[sim:answer_tokens=5]]")
        collect_events(ws, sent["assistant_message"]["id"])
    time.sleep(1.5)
    assert Conversation.objects.get(id=conversation_id).title == "Mine"
