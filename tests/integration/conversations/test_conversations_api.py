"""Conversations: list, search, create, rename, delete — and only your own."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from chat.models import Conversation, Message


def patch(client, path, body):
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def test_list_is_newest_first_and_only_mine(alice, bob, alice_client):
    now = timezone.now()
    old = Conversation.objects.create(owner=alice, title="old", updated_at=now - timedelta(days=2))
    new = Conversation.objects.create(owner=alice, title="new", updated_at=now)
    Conversation.objects.create(owner=bob, title="bob's")
    response = alice_client.get("/api/conversations/")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [str(new.id), str(old.id)]


def test_search_matches_titles_and_message_text(alice, bob, alice_client):
    by_title = Conversation.objects.create(owner=alice, title="Rust lifetimes")
    by_text = Conversation.objects.create(owner=alice, title="Untitled")
    Message.objects.create(conversation=by_text, role="user", content="explain LIFETIMES please")
    other = Conversation.objects.create(owner=alice, title="Cooking")
    Message.objects.create(conversation=other, role="user", content="pasta")
    bobs = Conversation.objects.create(owner=bob, title="lifetimes too")
    response = alice_client.get("/api/conversations/?q=lifetimes")
    ids = {c["id"] for c in response.json()["results"]}
    assert ids == {str(by_title.id), str(by_text.id)}
    assert str(bobs.id) not in ids


def test_create_get_rename_delete(alice, alice_client):
    response = alice_client.post("/api/conversations/", data="{}", content_type="application/json")
    assert response.status_code == 201
    conversation_id = response.json()["id"]
    response = patch(alice_client, f"/api/conversations/{conversation_id}/", {"title": "Renamed"})
    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    detail = alice_client.get(f"/api/conversations/{conversation_id}/").json()
    assert detail["title"] == "Renamed"
    assert detail["messages"] == []
    assert alice_client.delete(f"/api/conversations/{conversation_id}/").status_code == 204
    assert alice_client.get(f"/api/conversations/{conversation_id}/").status_code == 404
    assert alice_client.get("/api/conversations/").json()["results"] == []


def test_deleted_conversations_keep_their_messages_for_spend_and_quota(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice, title="gone")
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        status="complete",
        input_tokens=7,
        output_tokens=9,
    )
    assert alice_client.delete(f"/api/conversations/{conversation.id}/").status_code == 204
    conversation.refresh_from_db()
    assert conversation.deleted_at is not None
    assert conversation.messages.get().output_tokens == 9  # the admin and the quota still count it
    message_id = conversation.messages.get().id
    assert alice_client.post(f"/api/messages/{message_id}/regenerate/").status_code == 404
    assert alice_client.delete(f"/api/conversations/{conversation.id}/").status_code == 404


def test_rename_rejects_empty_and_wrong_type(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice, title="Keep")
    for body in ({"title": "  "}, {"title": 5}, {}):
        response = patch(alice_client, f"/api/conversations/{conversation.id}/", body)
        assert response.status_code == 400
        assert response.json()["error"]["field"] == "title"
    conversation.refresh_from_db()
    assert conversation.title == "Keep"


def test_other_users_conversation_is_404_everywhere(alice, bob_client):
    conversation = Conversation.objects.create(owner=alice, title="private")
    path = f"/api/conversations/{conversation.id}/"
    assert bob_client.get(path).status_code == 404
    assert patch(bob_client, path, {"title": "mine now"}).status_code == 404
    assert bob_client.delete(path).status_code == 404
    conversation.refresh_from_db()
    assert conversation.title == "private"


def test_messages_come_in_order_with_contract_fields(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)
    question = Message.objects.create(conversation=conversation, role="user", content="Q")
    Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, content="A",
        reasoning="R", status="complete", model="qwen-plus", input_tokens=3, output_tokens=5,
    )  # fmt: skip
    messages = alice_client.get(f"/api/conversations/{conversation.id}/").json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    answer = messages[1]
    assert answer["content"] == "A" and answer["reasoning"] == "R"
    assert answer["usage"]["input_tokens"] == 3 and answer["usage"]["output_tokens"] == 5
    assert answer["attachments"] == [] and answer["error"] is None and answer["cost"] is None


def test_models_endpoint_lists_the_catalog(alice_client):
    models = alice_client.get("/api/models/").json()["models"]
    by_id = {m["id"]: m for m in models}
    assert by_id["qwen-plus"]["thinking"] == "hybrid"
    assert by_id["qwq-plus"]["thinking"] == "always"
    assert by_id["deepseek-r1"]["regions"] == ["beijing"]
    assert set(by_id["qwen-plus"]) == {
        "id", "label", "family", "thinking", "thinking_default", "supports_budget",
        "max_budget", "vision", "regions", "snapshot_of",
    }  # fmt: skip
