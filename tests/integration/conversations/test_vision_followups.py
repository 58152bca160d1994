"""A conversation that showed images goes on with a text model; replies switch models."""

from __future__ import annotations

import json

from django.utils import timezone

from chat.models import Conversation, Message
from chat.streaming.pipeline.store import build_request
from tests.integration.uploads.test_request_size import answer, noisy, send, upload


def post(client, path, body=None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def test_a_text_model_follows_up_on_images_as_placeholders(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)
    picture = upload(alice_client, noisy((32, 32)))
    first = send(alice_client, conversation, content="What is this?", attachments=[picture["id"]])
    answer(first)

    follow_up = send(alice_client, conversation, content="And now?", model="qwen-plus")

    assert follow_up.status_code == 202, follow_up.content
    reply = Message.objects.get(id=follow_up.json()["assistant_message"]["id"])
    turns = build_request(reply).messages
    assert [turn.images for turn in turns] == [(), (), ()]
    assert turns[0].content == "[image]\n\nWhat is this?"
    assert turns[-1].content == "And now?"


def test_a_text_model_still_refuses_the_new_messages_own_images(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)
    picture = upload(alice_client, noisy((32, 32)))
    response = send(
        alice_client, conversation, content="Look", model="qwen-plus", attachments=[picture["id"]]
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "attachments"


def test_regenerate_with_another_model_checks_it_like_a_send(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)
    picture = upload(alice_client, noisy((32, 32)))
    sent = send(alice_client, conversation, content="What is this?", attachments=[picture["id"]])
    original = answer(sent)
    path = f"/api/messages/{original.id}/regenerate/"

    bad = post(alice_client, path, {"model": "qwq-plus", "enable_thinking": False})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "enable_thinking"
    assert Message.objects.filter(reply_to=original.reply_to).count() == 1

    response = post(
        alice_client, path, {"model": "qwen-plus", "enable_thinking": True, "thinking_budget": 500}
    )

    assert response.status_code == 202, response.content
    body = response.json()["assistant_message"]
    assert (body["model"], body["enable_thinking"], body["thinking_budget"]) == (
        "qwen-plus", True, 500,
    )  # fmt: skip
    reply = Message.objects.get(id=body["id"])
    assert reply.reply_to_id == original.reply_to_id and reply.is_active_version
    turns = build_request(reply).messages
    assert turns[-1].images == () and turns[-1].content == "[image]\n\nWhat is this?"


def test_regenerate_without_a_body_keeps_the_replys_model(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)
    question = Message.objects.create(conversation=conversation, role="user", content="Hi")
    original = Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, model="qwq-plus",
        enable_thinking=True, status="failed", completed_at=timezone.now(),
    )  # fmt: skip
    response = alice_client.post(f"/api/messages/{original.id}/regenerate/")
    assert response.status_code == 202, response.content
    assert response.json()["assistant_message"]["model"] == "qwq-plus"
