"""A vision model sees the attached image through the real stack, in both protocols."""

from __future__ import annotations

import io

from PIL import Image

from chat.models import Message
from tests.integration.scripted import sim_requests
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
    request = [r for r in sim_requests(simulator) if "Solve this" in str(r["body"])][-1]
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


def test_video_frames_reach_the_model_as_one_video(live_alice, simulator, protocol):
    frames = [
        live_alice.http.post(
            "/api/uploads/", files={"file": (f"f{i}.png", png(), "image/png")}
        ).json()["id"]
        for i in range(3)
    ]
    conversation_id = live_alice.new_conversation()
    prompt = f"What moves? ({protocol}) [[sim:answer_tokens=5]]"
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id,
            prompt,
            model="qwen3-vl-plus",
            enable_thinking=True,
            video_frames=frames,
        )
        events = collect_events(ws, sent["assistant_message"]["id"])
    assert events[-1]["status"] == "complete"
    request = [r for r in sim_requests(simulator) if prompt in str(r["body"])][-1]
    if protocol == "openai":
        parts = request["body"]["messages"][0]["content"]
        assert parts[0]["type"] == "video" and len(parts[0]["video"]) == 3
        assert all(frame.startswith("data:image/png;base64,") for frame in parts[0]["video"])
        assert parts[1] == {"type": "text", "text": prompt}
    else:
        parts = request["body"]["input"]["messages"][0]["content"]
        assert len(parts[0]["video"]) == 3 and parts[1] == {"text": prompt}
