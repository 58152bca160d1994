"""The chat page views behind the browser tests, through Django's test client."""

from __future__ import annotations

import json
import re

from chat.models import Conversation, Message


def page_data(response) -> dict:
    match = re.search(
        r'<script id="conversation-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "no conversation-data"
    return json.loads(match.group(1))


def test_home_lists_the_users_conversations_newest_first(alice_client, alice, bob):
    Conversation.objects.create(owner=alice, title="older")
    Conversation.objects.create(owner=alice, title="newer")
    Conversation.objects.create(owner=bob, title="bob's")
    response = alice_client.get("/")
    assert response.status_code == 200
    data = page_data(response)
    assert data["conversation"] is None
    assert [c["title"] for c in data["conversations"]] == ["newer", "older"]
    assert "csrftoken" in response.cookies  # the ES modules send it back as X-CSRFToken


def test_conversation_page_embeds_the_conversation_as_json(alice_client, alice):
    hostile = "</script><script>alert(1)</script>"
    conversation = Conversation.objects.create(owner=alice, title=hostile)
    asked = Message.objects.create(conversation=conversation, role="user", content=hostile)
    Message.objects.create(
        conversation=conversation, role="assistant", reply_to=asked, content="<b>hi</b>"
    )
    response = alice_client.get(f"/c/{conversation.id}/")
    assert response.status_code == 200
    data = page_data(response)
    assert data["conversation"]["id"] == str(conversation.id)
    assert [m["content"] for m in data["conversation"]["messages"]] == [hostile, "<b>hi</b>"]
    assert "<script>alert(1)" not in response.content.decode()


def test_someone_elses_conversation_page_is_404(bob_client, alice):
    conversation = Conversation.objects.create(owner=alice, title="private")
    response = bob_client.get(f"/c/{conversation.id}/")
    assert response.status_code == 404
    assert b"private" not in response.content


def test_conversation_page_needs_login(client, alice):
    conversation = Conversation.objects.create(owner=alice, title="x")
    response = client.get(f"/c/{conversation.id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
