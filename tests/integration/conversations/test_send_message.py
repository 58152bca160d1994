"""POST /api/conversations/<id>/messages/: validation, ownership, what is written."""

from __future__ import annotations

import json

import pytest

from chat.models import Conversation, Message


def make_conversation(owner, title: str = "") -> Conversation:
    return Conversation.objects.create(owner=owner, title=title)


def send(client, conversation_id, body, **extra):
    return client.post(
        f"/api/conversations/{conversation_id}/messages/",
        data=json.dumps(body) if not isinstance(body, (bytes, str)) else body,
        content_type="application/json",
        **extra,
    )


def test_send_writes_user_message_and_pending_reply(
    alice, alice_client, django_capture_on_commit_callbacks
):
    conversation = make_conversation(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(
            alice_client,
            conversation.id,
            {
                "content": "Why is the sky blue?",
                "model": "qwen-plus",
                "enable_thinking": True,
                "thinking_budget": 500,
            },
        )
    assert response.status_code == 202
    body = response.json()
    assert body["user_message"]["role"] == "user"
    assert body["user_message"]["content"] == "Why is the sky blue?"
    reply = body["assistant_message"]
    assert reply["status"] == "pending"
    assert reply["model"] == "qwen-plus"
    assert reply["enable_thinking"] is True
    assert reply["thinking_budget"] == 500
    assert reply["cost"] is None
    assert set(reply["usage"]) >= {
        "input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cached_tokens",
        "total_tokens",
    }
    assert set(reply["timings"]) == {
        "created_at",
        "first_token_at",
        "answer_started_at",
        "completed_at",
    }
    stored = list(conversation.messages.order_by("created_at").values_list("role", "status"))
    assert stored == [("user", "complete"), ("assistant", "pending")]
    assert len(callbacks) == 1  # generate_reply is queued only once the rows are committed
    conversation.refresh_from_db()
    assert conversation.title == "Why is the sky blue?"
    assert conversation.model == "qwen-plus"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"model": "qwen-plus"}, "content", "required"),
        ({"content": "   ", "model": "qwen-plus"}, "content", "required"),
        ({"content": "x" * 32_001, "model": "qwen-plus"}, "content", "too_long"),
        ({"content": 42, "model": "qwen-plus"}, "content", "invalid_type"),
        ({"content": "hi"}, "model", "required"),
        ({"content": "hi", "model": "gpt-17"}, "model", "unknown_model"),
        (
            {"content": "hi", "model": "qwen-plus", "enable_thinking": "yes"},
            "enable_thinking",
            "invalid_type",
        ),
        (
            {
                "content": "hi",
                "model": "qwen-plus",
                "enable_thinking": True,
                "thinking_budget": "100",
            },
            "thinking_budget",
            "invalid_type",
        ),
        (
            {
                "content": "hi",
                "model": "qwen-plus",
                "enable_thinking": True,
                "thinking_budget": True,
            },
            "thinking_budget",
            "invalid_type",
        ),
        (
            {"content": "hi", "model": "qwen-plus", "enable_thinking": True, "thinking_budget": 0},
            "thinking_budget",
            "out_of_range",
        ),
        (
            {"content": "hi", "model": "qwen-plus", "enable_thinking": True, "thinking_budget": -5},
            "thinking_budget",
            "out_of_range",
        ),
        (
            {
                "content": "hi",
                "model": "qwen-plus",
                "enable_thinking": False,
                "thinking_budget": 100,
            },
            "thinking_budget",
            None,
        ),
        (
            {"content": "hi", "model": "deepseek-r1", "thinking_budget": 100},
            "thinking_budget",
            None,
        ),
        ({"content": "hi", "model": "qwq-plus", "enable_thinking": False}, "enable_thinking", None),
        (
            {"content": "hi", "model": "qwen-plus", "attachments": "nope"},
            "attachments",
            "invalid_type",
        ),
    ],
)
def test_bad_input_is_400_and_writes_nothing(alice, alice_client, body, field, code):
    conversation = make_conversation(alice)
    response = send(alice_client, conversation.id, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    assert Message.objects.count() == 0
    conversation.refresh_from_db()
    assert conversation.title == ""


def test_body_that_is_not_json_is_400(alice, alice_client):
    conversation = make_conversation(alice)
    response = send(alice_client, conversation.id, "{not json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert Message.objects.count() == 0


def test_other_users_conversation_is_404(alice, bob_client):
    conversation = make_conversation(alice)
    response = send(bob_client, conversation.id, {"content": "hi", "model": "qwen-plus"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Message.objects.count() == 0


def test_thinking_only_model_records_thinking_on(alice, alice_client):
    conversation = make_conversation(alice)
    response = send(alice_client, conversation.id, {"content": "hi", "model": "qwq-plus"})
    assert response.status_code == 202
    assert response.json()["assistant_message"]["enable_thinking"] is True


def test_anonymous_send_is_refused_in_json(alice, client):
    conversation = make_conversation(alice)
    response = send(client, conversation.id, {"content": "hi", "model": "qwen-plus"})
    assert response.status_code in (401, 403)
    assert "error" in response.json()
    assert Message.objects.count() == 0


def test_send_without_csrf_token_is_403(alice):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    conversation = make_conversation(alice)
    response = send(csrf_client, conversation.id, {"content": "hi", "model": "qwen-plus"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert Message.objects.count() == 0
