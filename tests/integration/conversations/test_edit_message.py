"""POST /api/messages/<id>/edit/: a new version of a user turn, a branch from there on."""

from __future__ import annotations

import json

import pytest

from chat.models import Conversation, Message
from chat.streaming.pipeline.store import build_request
from chat.upstream.protocols import dashscope, openai_compat


def post(client, path, body=None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def send(client, conversation_id, content):
    response = post(
        client,
        f"/api/conversations/{conversation_id}/messages/",
        {"content": content, "model": "qwen-plus"},
    )
    assert response.status_code == 202, response.content
    return response.json()


def finish(reply_id, content):
    Message.objects.filter(id=reply_id).update(status=Message.Status.COMPLETE, content=content)


def edit(client, message_id, content="Edited question", model="qwen-plus", **extra):
    body = {"content": content, "model": model, **extra}
    return post(client, f"/api/messages/{message_id}/edit/", body)


def upstream_texts(reply_id) -> list[tuple[str, str]]:
    reply = Message.objects.select_related("reply_to", "conversation").get(id=reply_id)
    return [(turn.role, turn.content) for turn in build_request(reply).messages]


def shown(client, conversation_id) -> list[tuple[str, str]]:
    body = client.get(f"/api/conversations/{conversation_id}/").json()
    return [(m["role"], m["content"]) for m in body["messages"]]


@pytest.fixture
def two_turns(alice, alice_client):
    """A finished two-turn conversation: Q1 → A1, Q2 → A2."""
    conversation = Conversation.objects.create(owner=alice)
    first = send(alice_client, conversation.id, "Q1")
    finish(first["assistant_message"]["id"], "A1")
    second = send(alice_client, conversation.id, "Q2")
    finish(second["assistant_message"]["id"], "A2")
    return conversation, first["user_message"]["id"], second["user_message"]["id"]


def test_editing_a_turn_starts_a_branch_that_upstream_and_the_page_follow(
    alice_client, two_turns, django_capture_on_commit_callbacks
):
    conversation, q1, _ = two_turns
    with django_capture_on_commit_callbacks() as callbacks:
        response = edit(alice_client, q1, "Q1 edited")
    assert response.status_code == 202
    body = response.json()
    assert body["user_message"]["content"] == "Q1 edited"
    assert body["assistant_message"]["status"] == "pending"
    assert body["assistant_message"]["reply_to"] == body["user_message"]["id"]
    assert len(callbacks) == 1  # the reply is queued once committed
    assert upstream_texts(body["assistant_message"]["id"]) == [("user", "Q1 edited")]
    assert shown(alice_client, conversation.id) == [("user", "Q1 edited"), ("assistant", "")]
    versions = alice_client.get(f"/api/conversations/{conversation.id}/").json()["messages"][0]
    assert versions["versions"] == [q1, body["user_message"]["id"]]

    # A follow-up on the new branch sees the edited turn, never the old one.
    finish(body["assistant_message"]["id"], "A1'")
    follow = send(alice_client, conversation.id, "Q3")
    assert upstream_texts(follow["assistant_message"]["id"]) == [
        ("user", "Q1 edited"), ("assistant", "A1'"), ("user", "Q3"),
    ]  # fmt: skip


def test_switching_the_turn_back_restores_the_old_branch(alice_client, two_turns):
    conversation, q1, _ = two_turns
    edited = edit(alice_client, q1, "Q1 edited").json()
    finish(edited["assistant_message"]["id"], "A1'")
    assert post(alice_client, f"/api/messages/{q1}/select/").status_code == 200
    assert shown(alice_client, conversation.id) == [
        ("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("assistant", "A2"),
    ]  # fmt: skip
    follow = send(alice_client, conversation.id, "Q3")
    assert [text for _, text in upstream_texts(follow["assistant_message"]["id"])] == [
        "Q1", "A1", "Q2", "A2", "Q3",
    ]  # fmt: skip
    select = post(alice_client, f"/api/messages/{edited['user_message']['id']}/select/")
    assert select.status_code == 200
    assert shown(alice_client, conversation.id) == [("user", "Q1 edited"), ("assistant", "A1'")]


def test_editing_a_later_turn_keeps_the_turns_before_it(alice_client, two_turns):
    conversation, _, q2 = two_turns
    edited = edit(alice_client, q2, "Q2 edited").json()
    assert upstream_texts(edited["assistant_message"]["id"]) == [
        ("user", "Q1"), ("assistant", "A1"), ("user", "Q2 edited"),
    ]  # fmt: skip
    listed = alice_client.get(f"/api/conversations/{conversation.id}/").json()["messages"]
    assert [m["versions"] for m in listed if m["role"] == "user"][1] == [
        q2, edited["user_message"]["id"],
    ]  # fmt: skip


def test_the_edited_branch_goes_upstream_in_both_protocols(alice_client, two_turns):
    _, _, q2 = two_turns
    edited = edit(alice_client, q2, "Q2 edited").json()
    reply = Message.objects.select_related("reply_to", "conversation").get(
        id=edited["assistant_message"]["id"]
    )
    request = build_request(reply)
    for body in (openai_compat.build_body(request), dashscope.build_body(request)):
        text = json.dumps(body)
        assert "Q2 edited" in text and '"Q2"' not in text and "A2" not in text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": "  ", "model": "qwen-plus"}, "content"),
        ({"content": "x", "model": "no-such-model"}, "model"),
        ({"model": "qwen-plus"}, "content"),
    ],
)
def test_bad_input_is_400_and_writes_nothing(alice_client, two_turns, body, field):
    _, q1, _ = two_turns
    before = Message.objects.count()
    response = post(alice_client, f"/api/messages/{q1}/edit/", body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert Message.objects.count() == before


def test_an_assistant_message_cannot_be_edited(alice_client, two_turns):
    conversation, q1, _ = two_turns
    reply = Message.objects.get(reply_to_id=q1)
    response = edit(alice_client, reply.id)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_user_message"


def test_other_users_message_is_404(bob_client, two_turns):
    _, q1, _ = two_turns
    assert edit(bob_client, q1).status_code == 404
    assert post(bob_client, f"/api/messages/{q1}/select/").status_code == 404


def test_editing_while_a_reply_streams_is_409(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)
    sent = send(alice_client, conversation.id, "Q1")  # its reply is still pending
    before = Message.objects.count()
    response = edit(alice_client, sent["user_message"]["id"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "still_streaming"
    assert Message.objects.count() == before


def test_an_edit_passes_the_active_reply_cap(settings, alice, alice_client, two_turns):
    _, q1, _ = two_turns
    settings.MAX_ACTIVE_REPLIES = 1
    send(alice_client, Conversation.objects.create(owner=alice).id, "elsewhere")
    before = Message.objects.count()
    response = edit(alice_client, q1)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_active_replies"
    assert int(response["Retry-After"]) > 0
    assert Message.objects.count() == before


def test_a_conversation_written_before_branches_reads_as_one_branch(alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)
    for text in ("old 1", "old 2"):  # no parent: as rows written before migration 0010
        Message.objects.create(conversation=conversation, role="user", content=text)
    assert shown(alice_client, conversation.id) == [("user", "old 1"), ("user", "old 2")]
    follow = send(alice_client, conversation.id, "new")
    assert [text for _, text in upstream_texts(follow["assistant_message"]["id"])] == [
        "old 1", "old 2", "new",
    ]  # fmt: skip
