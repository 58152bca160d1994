"""Image uploads: validated by content, private to their owner, sent upstream as data URLs."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chat.models import Conversation, Message, Upload
from chat.streaming.pipeline.store import build_request
from chat.uploads import images as uploads


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(client, data: bytes, name: str = "a.png", content_type: str = "image/png"):
    return client.post(
        "/api/uploads/", {"file": SimpleUploadedFile(name, data, content_type=content_type)}
    )


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_accepted_formats_are_stored_with_their_size(alice, alice_client, fmt, content_type):
    response = upload(alice_client, image_bytes(fmt), f"x.{fmt.lower()}", content_type)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == (content_type, 40, 30)
    stored = Upload.objects.get(id=body["id"])
    assert stored.owner == alice and stored.message is None
    file_response = alice_client.get(body["url"])
    assert file_response.status_code == 200
    assert file_response["Content-Type"] == content_type
    assert b"".join(file_response.streaming_content) == image_bytes(fmt)


@pytest.mark.parametrize(
    ("data", "content_type", "code"),
    [
        (b"just some text", "text/plain", "invalid_image"),
        (image_bytes("PNG")[:60], "image/png", "invalid_image"),  # truncated
        (image_bytes("PNG"), "image/jpeg", "type_mismatch"),  # not the image it claims to be
        (image_bytes("BMP"), "image/bmp", "unsupported_type"),
    ],
)
def test_bad_files_are_400_and_nothing_is_stored(alice_client, data, content_type, code):
    response = upload(alice_client, data, "x.bin", content_type)
    assert response.status_code == 400
    assert response.json()["error"] == {**response.json()["error"], "code": code, "field": "file"}
    assert Upload.objects.count() == 0


def test_missing_file_field_is_400(alice_client):
    response = alice_client.post("/api/uploads/", {})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "file"


def test_too_large_is_413(alice_client, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 100)
    response = upload(alice_client, image_bytes("PNG", (200, 200)))
    assert response.status_code == 413
    assert Upload.objects.count() == 0


def test_other_users_cannot_fetch_an_upload(alice_client, bob_client):
    url = upload(alice_client, image_bytes()).json()["url"]
    assert bob_client.get(url).status_code == 404


def send(client, conversation, **body):
    return client.post(
        f"/api/conversations/{conversation.id}/messages/",
        data=json.dumps(body),
        content_type="application/json",
    )


def test_attachments_need_a_vision_model(alice, alice_client):
    upload_id = upload(alice_client, image_bytes()).json()["id"]
    conversation = Conversation.objects.create(owner=alice)
    response = send(
        alice_client,
        conversation,
        content="what is this?",
        model="qwen-plus",
        attachments=[upload_id],
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "attachments"
    assert Message.objects.count() == 0
    assert Upload.objects.get(id=upload_id).message is None


def test_someone_elses_upload_cannot_be_attached(alice, alice_client, bob_client):
    bobs_upload = upload(bob_client, image_bytes()).json()["id"]
    conversation = Conversation.objects.create(owner=alice)
    response = send(
        alice_client, conversation, content="look", model="qvq-max", attachments=[bobs_upload]
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_attachment"
    assert Message.objects.count() == 0


def test_attached_images_go_upstream_as_data_urls_in_every_later_turn(alice, alice_client):
    first = upload(alice_client, image_bytes()).json()["id"]
    conversation = Conversation.objects.create(owner=alice)
    sent = send(
        alice_client,
        conversation,
        content="what is this?",
        model="qwen3-vl-plus",
        attachments=[first],
    )
    assert sent.status_code == 202
    assert [a["id"] for a in sent.json()["user_message"]["attachments"]] == [first]
    reply = Message.objects.get(id=sent.json()["assistant_message"]["id"])
    Message.objects.filter(id=reply.id).update(status="complete", content="a red square")
    again = send(alice_client, conversation, content="and its colour?", model="qwen3-vl-plus")
    request = build_request(
        Message.objects.select_related("reply_to").get(id=again.json()["assistant_message"]["id"])
    )
    first_turn, answer, second_turn = request.messages
    assert first_turn.images[0].startswith("data:image/png;base64,")
    assert answer.content == "a red square" and second_turn.images == ()
    # An upload is attached once.
    reuse = send(
        alice_client, conversation, content="again", model="qwen3-vl-plus", attachments=[first]
    )
    assert reuse.status_code == 400


def test_video_frames_go_upstream_in_the_order_given(alice, alice_client):
    first, second, third = (
        upload(alice_client, image_bytes(size=(10 + i, 10))).json()["id"] for i in range(3)
    )
    photo = upload(alice_client, image_bytes("JPEG"), "p.jpg", "image/jpeg").json()["id"]
    conversation = Conversation.objects.create(owner=alice)
    sent = send(
        alice_client, conversation, content="What happens?", model="qwen3-vl-plus",
        attachments=[photo], video_frames=[third, first, second],
    )  # fmt: skip
    assert sent.status_code == 202, sent.content
    attachments = sent.json()["user_message"]["attachments"]
    assert [(a["id"], a["video_frame"]) for a in attachments] == [
        (photo, False), (third, True), (first, True), (second, True),
    ]  # fmt: skip
    reply = Message.objects.select_related("reply_to").get(
        id=sent.json()["assistant_message"]["id"]
    )
    (turn,) = build_request(reply).messages
    assert [u.startswith("data:image/jpeg") for u in turn.images] == [True]
    widths = [Upload.objects.get(id=i).width for i in (third, first, second)]
    assert widths == [12, 10, 11] and len(turn.video_frames) == 3
    assert turn.video_frames[0] == uploads.data_url(Upload.objects.get(id=third))


def test_video_frames_need_a_vision_model(alice, alice_client):
    frame = upload(alice_client, image_bytes()).json()["id"]
    conversation = Conversation.objects.create(owner=alice)
    response = send(
        alice_client, conversation, content="x", model="qwen-plus", video_frames=[frame]
    )
    assert response.status_code == 400
    assert Message.objects.count() == 0
