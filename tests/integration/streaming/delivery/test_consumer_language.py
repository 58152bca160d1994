"""The websocket says a reply's error in its reader's language; the code stays as it is.

The events are built once, in English, for every subscriber; the consumer translates an
error's message on its way out, in the language of its socket (the user's pick, else
the language cookie, else the handshake's Accept-Language).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from chat.models import Conversation, Message
from chat.routing import websocket_urlpatterns
from chat.streaming import bus
from chat.streaming.events import status_event
from chat.upstream.errors import UpstreamTimeout
from tests.catalog import install_catalog
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

STORED = UpstreamTimeout.build("timeout", "no data for 60 s").message
JAPANESE = "Model Studio が応答しなくなりました。（no data for 60 s）"


@pytest.fixture(autouse=True)
def japanese(settings, tmp_path):
    install_catalog(
        settings,
        tmp_path,
        "ja",
        {
            UpstreamTimeout.summary: "Model Studio が応答しなくなりました。",
            "%(summary)s (%(detail)s)": "%(summary)s（%(detail)s）",
        },
    )


@sync_to_async
def failed_reply(language: str) -> tuple[Any, str, Message]:
    owner = make_user("alice", language=language)
    conversation = Conversation.objects.create(owner=owner)
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    reply = Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, status="failed",
        error_code="timeout", error_message=STORED, stream_seq=3,
    )  # fmt: skip
    return owner, str(conversation.id), reply


@contextlib.asynccontextmanager
async def socket(user: Any, conversation_id: str, headers: list[tuple[bytes, bytes]]):
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/ws/conversations/{conversation_id}/", headers
    )
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    try:
        yield communicator
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await communicator.disconnect()


@pytest.mark.parametrize(
    ("picked", "headers"),
    [
        ("ja", [(b"accept-language", b"en")]),  # the user's pick wins
        ("", [(b"accept-language", b"ja,en;q=0.5")]),  # else the browser's
        # A signed-in socket ignores the cookie (it carries picks to signed-out pages).
        ("ja", [(b"cookie", b"django_language=zh-hans"), (b"accept-language", b"en")]),
    ],
)
async def test_a_stored_error_comes_in_the_sockets_language(picked, headers):
    owner, conversation_id, reply = await failed_reply(picked)
    async with socket(owner, conversation_id, headers) as communicator:
        await communicator.send_json_to(
            {"type": "resume", "message_id": str(reply.id), "after_seq": 0}
        )
        snapshot = await communicator.receive_json_from(timeout=3)
    assert snapshot["type"] == "snapshot"
    assert snapshot["error"] == {"code": "timeout", "message": JAPANESE}


async def test_a_live_status_is_translated_for_each_reader_and_left_english_for_others():
    owner, conversation_id, reply = await failed_reply("")
    event = await sync_to_async(status_event)(reply, 4)
    assert event["error"]["message"] == STORED  # as the worker publishes it
    async with (
        socket(owner, conversation_id, [(b"accept-language", b"ja")]) as japanese_reader,
        socket(owner, conversation_id, [(b"accept-language", b"en")]) as english_reader,
    ):
        await bus.async_redis().xadd(bus.live_key(conversation_id), {"e": bus.encode(event)})
        seen_in_japanese = await japanese_reader.receive_json_from(timeout=3)
        seen_in_english = await english_reader.receive_json_from(timeout=3)
    assert seen_in_japanese["error"] == {"code": "timeout", "message": JAPANESE}
    assert seen_in_english["error"] == {"code": "timeout", "message": STORED}
    assert seen_in_japanese["seq"] == seen_in_english["seq"] == 4
    await bus.async_redis().delete(bus.live_key(conversation_id))
