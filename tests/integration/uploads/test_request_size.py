"""Large images are stored downscaled; one request's images stay under the size cap."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chat.models import Conversation, Message, Upload
from chat.streaming.pipeline import store
from chat.streaming.pipeline.reply import Beat, stream_reply
from chat.streaming.pipeline.store import build_request
from chat.uploads import budget
from chat.uploads.images import data_url
from chat.upstream import UpstreamClient
from chat.upstream import client as client_module


def noisy(size: tuple[int, int], fmt: str = "PNG") -> bytes:
    """Return an image of random pixels: it barely compresses, so its bytes are large."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def upload(client, data: bytes, fmt: str = "PNG") -> dict:
    content_type = f"image/{fmt.lower()}"
    response = client.post(
        "/api/uploads/",
        {"file": SimpleUploadedFile(f"x.{fmt.lower()}", data, content_type=content_type)},
    )
    assert response.status_code == 201, response.content
    return response.json()


def send(client, conversation, **body):
    return client.post(
        f"/api/conversations/{conversation.id}/messages/",
        data=json.dumps({"model": "qwen3-vl-plus", **body}),
        content_type="application/json",
    )


def answer(sent) -> Message:
    """Mark a sent message's reply complete, so the next turn can be sent."""
    reply = Message.objects.get(id=sent.json()["assistant_message"]["id"])
    Message.objects.filter(id=reply.id).update(status="complete", content="seen")
    return reply


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_a_large_image_is_stored_downscaled_with_its_aspect_kept(alice_client, settings, fmt):
    settings.IMAGE_MAX_SIDE = 256
    original = noisy((1200, 300), fmt)
    body = upload(alice_client, original, fmt)
    assert (body["width"], body["height"]) == (256, 64)
    stored = Upload.objects.get(id=body["id"])
    served = b"".join(alice_client.get(body["url"]).streaming_content)
    assert body["size"] == stored.size == len(served) < len(original)
    assert stored.sha256 == hashlib.sha256(served).hexdigest()
    with Image.open(io.BytesIO(served)) as image:
        assert (image.format, image.size) == (fmt, (256, 64))


def test_a_tall_photo_is_turned_upright_before_it_is_fitted(alice_client, settings):
    settings.IMAGE_MAX_SIDE = 100
    image = Image.new("RGB", (400, 200), (10, 10, 200))
    exif = image.getexif()
    exif[0x0112] = 6  # shown rotated 90°: a 200 x 400 portrait
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    body = upload(alice_client, buffer.getvalue(), "JPEG")
    assert (body["width"], body["height"]) == (50, 100)


def test_an_image_within_the_limit_is_stored_untouched(alice_client, settings):
    settings.IMAGE_MAX_SIDE = 256
    original = noisy((256, 100))
    body = upload(alice_client, original)
    assert (body["width"], body["height"], body["size"]) == (256, 100, len(original))
    assert Upload.objects.get(id=body["id"]).sha256 == hashlib.sha256(original).hexdigest()
    assert b"".join(alice_client.get(body["url"]).streaming_content) == original


def test_a_message_whose_images_exceed_the_cap_is_400_and_writes_nothing(
    alice, alice_client, settings
):
    images = [upload(alice_client, noisy((100, 100))) for _ in range(3)]
    settings.MAX_REQUEST_IMAGE_BYTES = sum(i["size"] for i in images)  # < base64 of all three
    conversation = Conversation.objects.create(owner=alice)
    response = send(
        alice_client, conversation, content="look", attachments=[i["id"] for i in images]
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("attachments_too_large", "attachments")
    assert "MB" in error["message"]
    assert Message.objects.count() == 0
    assert not Upload.objects.filter(message__isnull=False).exists()
    # Two of them fit.
    fits = send(
        alice_client, conversation, content="look", attachments=[i["id"] for i in images[:2]]
    )
    assert fits.status_code == 202, fits.content


def test_a_long_conversation_sends_its_newest_images_and_placeholders_for_older_ones(
    alice, alice_client, settings
):
    conversation = Conversation.objects.create(owner=alice)
    turns = []  # (image ids, frame ids) per turn, oldest first
    for n in range(6):
        image = upload(alice_client, noisy((120, 120)))["id"]
        frames = [upload(alice_client, noisy((60, 60)))["id"] for _ in range(2)] if n == 1 else []
        sent = send(
            alice_client, conversation, content=f"turn {n}", attachments=[image],
            video_frames=frames,
        )  # fmt: skip
        assert sent.status_code == 202, sent.content
        turns.append(([image], frames))
        reply = answer(sent)
    one_image = len(data_url(Upload.objects.get(id=turns[-1][0][0])))
    # Room for the question's image and two earlier ones, not three.
    settings.MAX_REQUEST_IMAGE_BYTES = int(one_image * 3.5)

    request = build_request(Message.objects.select_related("reply_to").get(id=reply.id))

    users = [turn for turn in request.messages if turn.role == "user"]
    sent_bytes = sum(len(url) for t in users for url in (*t.images, *t.video_frames))
    assert sent_bytes <= settings.MAX_REQUEST_IMAGE_BYTES
    assert [len(t.images) for t in users] == [0, 0, 0, 1, 1, 1]
    assert users[-1].images == (data_url(Upload.objects.get(id=turns[-1][0][0])),)
    assert [t.content for t in users] == [
        "[image]\n\nturn 0",
        "[image] [video: 2 frames]\n\nturn 1",
        "[image]\n\nturn 2",
        "turn 3",
        "turn 4",
        "turn 5",
    ]
    assert all(not t.video_frames for t in users)


def test_the_question_s_images_go_even_over_a_lowered_cap(alice, alice_client, settings):
    conversation = Conversation.objects.create(owner=alice)
    first = upload(alice_client, noisy((50, 50)))["id"]
    answer(send(alice_client, conversation, content="one", attachments=[first]))
    second = upload(alice_client, noisy((50, 50)))["id"]
    reply = answer(send(alice_client, conversation, content="two", attachments=[second]))
    settings.MAX_REQUEST_IMAGE_BYTES = 10  # lowered after both were sent

    reply = Message.objects.select_related("reply_to").get(id=reply.id)
    old, _, new = build_request(reply).messages

    assert (old.images, old.content) == ((), "[image]\n\none")
    assert len(new.images) == 1 and new.content == "two"


def test_an_oversized_image_stored_earlier_is_downscaled_when_sent(alice, settings):
    original = noisy((900, 300))
    legacy = Upload(
        owner=alice, content_type="image/png", size=len(original), width=900, height=300,
        sha256=hashlib.sha256(original).hexdigest(),
    )  # fmt: skip
    legacy.file.save(legacy.id.hex, ContentFile(original), save=True)
    settings.IMAGE_MAX_SIDE = 300

    url = data_url(legacy)

    sent = base64.b64decode(url.removeprefix("data:image/png;base64,"))
    with Image.open(io.BytesIO(sent)) as image:
        assert image.size == (300, 100)
    with legacy.file.open("rb") as handle:
        assert handle.read() == original  # the stored file is left as it was


@pytest.mark.django_db(transaction=True)
def test_the_worker_reads_and_encodes_images_off_its_event_loop(
    alice, alice_client, simulator, settings, monkeypatch
):
    """The request is built in the DB thread pool and its body encoded in a thread."""
    settings.DASHSCOPE_BASE_URL, settings.DASHSCOPE_API_KEY = simulator, "sk-test"
    image = upload(alice_client, noisy((300, 300)))["id"]
    conversation = Conversation.objects.create(owner=alice)
    sent = send(alice_client, conversation, content="look", attachments=[image])
    reply_id = uuid.UUID(sent.json()["assistant_message"]["id"])
    threads: dict[str, set[str]] = {"data_url": set(), "encode_json": set()}

    def spy(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            threads[name].add(threading.current_thread().name)
            return real(*args)

        return wrapper

    monkeypatch.setattr(budget, "data_url", spy("data_url", budget.data_url))
    monkeypatch.setattr(client_module, "encode_json", spy("encode_json", client_module.encode_json))

    async def run() -> None:
        pool = ThreadPoolExecutor(2, thread_name_prefix="test-db")
        loop = asyncio.get_running_loop()

        async def db(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            return await loop.run_in_executor(pool, lambda: fn(*args, **kwargs))

        async with UpstreamClient(store.upstream_config()) as client:
            await stream_reply(reply_id, client, db, {}, Beat(), request_title=lambda _: None)
        pool.shutdown()

    loop_thread = threading.current_thread().name
    asyncio.run(run())

    assert Message.objects.get(id=reply_id).status == Message.Status.COMPLETE
    assert threads["data_url"] and loop_thread not in threads["data_url"]
    assert threads["encode_json"] and loop_thread not in threads["encode_json"]
