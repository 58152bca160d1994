"""An attached image the storage cannot give back fails the reply before it is claimed."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chat.models import Conversation, Message, Upload
from chat.streaming.pipeline import store
from chat.uploads.images import AttachmentUnavailable
from tests.live import collect_events

TEXT = "An attached image could not be read; send it again."


@pytest.fixture
def in_test_transaction(monkeypatch):
    """Let store functions run inside the test's transaction (they drop old connections)."""
    monkeypatch.setattr(store, "close_old_connections", lambda: None)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (250, 120, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def send_with_image(client, owner) -> tuple[Message, Upload]:
    uploaded = client.post(
        "/api/uploads/", {"file": SimpleUploadedFile("o.png", png(), content_type="image/png")}
    ).json()
    conversation = Conversation.objects.create(owner=owner)
    sent = client.post(
        f"/api/conversations/{conversation.id}/messages/",
        data=json.dumps({"content": "look", "model": "qvq-max", "attachments": [uploaded["id"]]}),
        content_type="application/json",
    )
    assert sent.status_code == 202, sent.content
    return (
        Message.objects.get(id=sent.json()["assistant_message"]["id"]),
        Upload.objects.get(id=uploaded["id"]),
    )


def test_claim_reads_the_images_first_and_leaves_the_reply_pending_when_it_cannot(
    alice, alice_client, in_test_transaction
):
    reply, upload = send_with_image(alice_client, alice)
    upload.file.storage.delete(upload.file.name)
    with pytest.raises(AttachmentUnavailable):
        store.claim(reply.id)
    reply.refresh_from_db()
    assert reply.status == Message.Status.PENDING and not reply.lease

    failed = store.fail_unclaimed(reply.id, store.ATTACHMENT_UNAVAILABLE, TEXT)
    assert failed is not None
    assert (failed.status, failed.stream_seq) == (Message.Status.FAILED, 1)
    assert (failed.error_code, failed.error_message) == ("attachment_unavailable", TEXT)
    assert failed.completed_at is not None
    # A second delivery finds nothing to claim and nothing to fail.
    assert store.claim(reply.id) is None
    assert store.fail_unclaimed(reply.id, store.ATTACHMENT_UNAVAILABLE, TEXT) is None


def test_claim_with_readable_images_carries_them_in_the_request(
    alice, alice_client, in_test_transaction
):
    reply, _ = send_with_image(alice_client, alice)
    job = store.claim(reply.id)
    assert job is not None and job.lease
    assert job.claimed.status == Message.Status.STREAMING and job.claimed.lease == job.lease
    (turn,) = job.request.messages
    assert turn.images[0].startswith("data:image/png;base64,")
    assert store.claim(reply.id) is None  # the lease is taken once


def test_a_missing_image_fails_the_reply_live(live_alice, protocol):
    uploaded = live_alice.http.post("/api/uploads/", files={"file": ("o.png", png(), "image/png")})
    assert uploaded.status_code == 201, uploaded.text
    upload = Upload.objects.get(id=uploaded.json()["id"])
    upload.file.storage.delete(upload.file.name)  # the worker's store lost it
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id, f"Describe ({protocol})", model="qvq-max",
            attachments=[uploaded.json()["id"]],
        )  # fmt: skip
        events = collect_events(ws, sent["assistant_message"]["id"])
    (event,) = events
    assert (event["type"], event["seq"], event["status"]) == ("status", 1, "failed")
    assert event["error"] == {"code": "attachment_unavailable", "message": TEXT}
    reply = Message.objects.get(id=sent["assistant_message"]["id"])
    assert (reply.status, reply.stream_seq, reply.error_code) == (
        "failed", 1, "attachment_unavailable",
    )  # fmt: skip
    # The conversation's JSON shows the readable error too.
    shown = live_alice.get(f"/api/conversations/{conversation_id}/").json()["messages"][-1]
    assert shown["error"] == {"code": "attachment_unavailable", "message": TEXT}
