"""A vision model sees the attached image through the real stack, in both protocols."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from chat.models import Message
from tests.live import collect_events, joined


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 120, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_qvq_thinks_about_an_attached_image(live_alice, simulator, protocol):
    uploaded = live_alice.http.post(
        "/api/uploads/", files={"file": ("blue.png", png(), "image/png")}
    )
    assert uploaded.status_code == 201, uploaded.text
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id,
            "Solve this [[sim:answer_tokens=10]]",
            model="qvq-max",
            attachments=[uploaded.json()["id"]],
        )
        events = collect_events(ws, sent["assistant_message"]["id"])
    assert events[-1]["status"] == "complete"
    assert joined(events, "reasoning") and joined(events, "content")
    assert Message.objects.get(id=sent["assistant_message"]["id"]).reasoning == joined(
        events, "reasoning"
    )
    request = [
        r for r in httpx.get(f"{simulator}/_sim/requests").json() if "Solve this" in str(r["body"])
    ][-1]
    if protocol == "openai":
        assert request["path"] == "/compatible-mode/v1/chat/completions"
        parts = request["body"]["messages"][0]["content"]
        assert parts[0]["type"] == "image_url"
        assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
        assert parts[1] == {"type": "text", "text": "Solve this [[sim:answer_tokens=10]]"}
    else:
        assert request["path"] == "/api/v1/services/aigc/multimodal-generation/generation"
        parts = request["body"]["input"]["messages"][0]["content"]
        assert parts[0]["image"].startswith("data:image/png;base64,")
        assert parts[1] == {"text": "Solve this [[sim:answer_tokens=10]]"}
