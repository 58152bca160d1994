"""Custom instructions: a conversation's system prompt, the user's default, what goes upstream."""

from __future__ import annotations

import json

import pytest

from chat.models import Conversation, Message
from chat.streaming.pipeline.store import build_request
from chat.upstream.protocols import dashscope, openai_compat
from tests.integration.uploads.test_uploads import image_bytes, upload


def patch(client, path, body):
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def send(client, conversation_id, content, model="qwen-plus", **extra):
    response = client.post(
        f"/api/conversations/{conversation_id}/messages/",
        data=json.dumps({"content": content, "model": model, **extra}),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    return Message.objects.select_related("reply_to", "conversation").get(
        id=response.json()["assistant_message"]["id"]
    )


def wire_messages(request, protocol: str) -> list[dict]:
    if protocol == "openai":
        return openai_compat.build_body(request)["messages"]
    return dashscope.build_body(request)["input"]["messages"]


def test_patch_sets_the_system_prompt_and_keeps_the_title(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice, title="Mine")
    path = f"/api/conversations/{conversation.id}/"
    response = patch(alice_client, path, {"system_prompt": "  Answer in French.  "})
    assert response.status_code == 200
    assert response.json()["system_prompt"] == "Answer in French."
    assert response.json()["title"] == "Mine"
    assert patch(alice_client, path, {"title": "Renamed"}).json()["system_prompt"] == (
        "Answer in French."
    )
    assert alice_client.get(path).json()["system_prompt"] == "Answer in French."


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "title"), ({"system_prompt": 3}, "system_prompt"), ({"title": " "}, "title")],
)
def test_a_bad_patch_is_400_and_changes_nothing(alice, alice_client, body, field):
    conversation = Conversation.objects.create(owner=alice, title="Mine")
    response = patch(alice_client, f"/api/conversations/{conversation.id}/", body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    conversation.refresh_from_db()
    assert (conversation.title, conversation.system_prompt) == ("Mine", "")


def test_a_too_long_system_prompt_is_400(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)
    body = {"system_prompt": "x" * 8001}
    response = patch(alice_client, f"/api/conversations/{conversation.id}/", body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_long"


def test_other_users_conversation_is_404(alice, bob_client):
    conversation = Conversation.objects.create(owner=alice)
    body = {"system_prompt": "x"}
    assert patch(bob_client, f"/api/conversations/{conversation.id}/", body).status_code == 404


@pytest.mark.parametrize("protocol", ["openai", "dashscope"])
def test_the_system_prompt_is_the_first_message_in_both_protocols(alice, alice_client, protocol):
    conversation = Conversation.objects.create(owner=alice, system_prompt="Be brief.")
    reply = send(alice_client, conversation.id, "Why is the sky blue?")
    messages = wire_messages(build_request(reply), protocol)
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert [m["role"] for m in messages] == ["system", "user"]


def test_no_system_prompt_sends_no_system_message(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)
    reply = send(alice_client, conversation.id, "Hi")
    assert [turn.role for turn in build_request(reply).messages] == ["user"]


@pytest.mark.parametrize("protocol", ["openai", "dashscope"])
def test_single_turn_visual_reasoning_gets_its_instructions_in_the_user_message(
    alice, alice_client, protocol
):
    """The seeds: no system message for single-turn visual reasoning."""
    conversation = Conversation.objects.create(owner=alice, system_prompt="Answer in French.")
    image = upload(alice_client, image_bytes()).json()["id"]
    reply = send(alice_client, conversation.id, "What is this?", "qvq-max", attachments=[image])
    request = build_request(reply)
    assert [turn.role for turn in request.messages] == ["user"]
    assert request.messages[0].content == "Answer in French.\n\nWhat is this?"
    assert '"system"' not in json.dumps(wire_messages(request, protocol))
    # From the second turn on, it is a system message again.
    Message.objects.filter(id=reply.id).update(status="complete", content="Un carré.")
    later = send(alice_client, conversation.id, "And now?", "qvq-max")
    assert [turn.role for turn in build_request(later).messages][0] == "system"


def test_the_users_default_is_copied_into_new_conversations(alice, alice_client):
    response = patch(alice_client, "/api/settings/", {"default_system_prompt": "Use SI units."})
    assert response.status_code == 200
    assert response.json() == {"default_system_prompt": "Use SI units.", "language": ""}
    assert alice_client.get("/api/settings/").json() == {
        "default_system_prompt": "Use SI units.",
        "language": "",
    }
    created = alice_client.post("/api/conversations/", data={}, content_type="application/json")
    assert created.json()["system_prompt"] == "Use SI units."
    # Changing the default later leaves that conversation as it was.
    patch(alice_client, "/api/settings/", {"default_system_prompt": ""})
    conversation = Conversation.objects.get(id=created.json()["id"])
    assert conversation.system_prompt == "Use SI units."
    # A merge patch naming no field changes nothing.
    assert patch(alice_client, "/api/settings/", {}).json()["default_system_prompt"] == ""
