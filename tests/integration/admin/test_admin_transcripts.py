"""The admin's conversation list, transcript view and messages."""

from __future__ import annotations

import pytest

from chat.models import Conversation, Message
from tests.integration.reply_factories import at, make_reply

CHANGELIST = "/admin/chat/conversation/"


@pytest.fixture
def admin_client(admin_user, client):
    client.force_login(admin_user)
    return client


@pytest.fixture
def thoughtful(alice) -> Message:
    """A conversation of Alice's: one reply with reasoning, regenerated once."""
    first = make_reply(
        alice, model="qwq-plus", created_at=at("2025-03-01"), input_tokens=120,
        output_tokens=900, reasoning_tokens=800, cached_tokens=20, cost="0.004200",
        content="The sky scatters <b>blue</b> light.", reasoning="Rayleigh scattering goes as λ⁻⁴",
    )  # fmt: skip
    first.conversation.title = "Why is the sky blue?"
    first.conversation.save()
    Message.objects.filter(id=first.id).update(is_active_version=False)
    return Message.objects.create(
        conversation=first.conversation, role=Message.Role.ASSISTANT, reply_to=first.reply_to,
        model="qwq-plus", status=Message.Status.FAILED, error_code="rate_limited",
        error_message="Too many requests.", content="Partial", input_tokens=120,
        output_tokens=3, total_tokens=123, created_at=at("2025-03-01", 13),
    )  # fmt: skip


def test_admin_index_links_to_the_spend_report(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert 'href="/admin/spend/"' in page


def test_conversation_list_shows_owner_messages_tokens_and_cost(admin_client, thoughtful):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    (row,) = response.context["cl"].result_list
    assert row.owner.username == "alice"
    assert row.message_count == 3
    assert row.token_total == 1020 + 123
    page = response.content.decode()
    assert "Why is the sky blue?" in page
    assert "0.004200 USD + 1 unpriced" in page


def test_conversation_list_costs_the_same_queries_for_many_rows(
    admin_client, alice, django_assert_max_num_queries
):
    for n in range(30):
        make_reply(alice, created_at=at("2025-03-02"), cost="0.1", input_tokens=n)
    with django_assert_max_num_queries(8):
        response = admin_client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 30


def test_search_finds_conversations_by_message_text_and_reasoning(admin_client, alice, bob):
    wanted = make_reply(alice, created_at=at("2025-03-01"), content="Tell me about penguins")
    thought = make_reply(bob, created_at=at("2025-03-01"), reasoning="penguins live south")
    make_reply(bob, created_at=at("2025-03-01"), content="Tell me about owls")
    found = admin_client.get(CHANGELIST, {"q": "PENGUIN"}).context["cl"].result_list
    assert {c.id for c in found} == {wanted.conversation_id, thought.conversation_id}


def test_filters_by_owner_model_and_reply_status(admin_client, alice, bob, thoughtful):
    other = make_reply(bob, model="qwen-plus", created_at=at("2025-03-01"))

    def ids(**params):
        return {c.id for c in admin_client.get(CHANGELIST, params).context["cl"].result_list}

    assert ids(owner__id__exact=bob.id) == {other.conversation_id}
    assert ids(model="qwq-plus") == {thoughtful.conversation_id}
    assert ids(reply_status="failed") == {thoughtful.conversation_id}
    assert ids(reply_status="complete") == {thoughtful.conversation_id, other.conversation_id}


def test_transcript_shows_every_turn_with_reasoning_usage_and_status(admin_client, thoughtful):
    response = admin_client.get(f"{CHANGELIST}{thoughtful.conversation_id}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="transcript-message"') == 3
    assert '<details class="turn-reasoning" data-testid="transcript-reasoning">' in page
    assert "Rayleigh scattering goes as λ⁻⁴" in page
    assert "The sky scatters &lt;b&gt;blue&lt;/b&gt; light." in page  # model text is escaped
    assert "version 1 of 2, not shown" in page
    assert "version 2 of 2, shown" in page
    assert "rate_limited" in page and "Too many requests." in page
    assert "0.004200 USD" in page and ">unpriced<" in page
    assert "<form" not in page.split('id="content-main"')[1]  # nothing to edit


def test_transcript_cannot_be_edited(admin_client, thoughtful):
    conversation = thoughtful.conversation
    response = admin_client.post(
        f"{CHANGELIST}{conversation.id}/change/",
        {"title": "Rewritten", "owner": conversation.owner_id},
    )
    assert response.status_code == 405
    assert Conversation.objects.get(id=conversation.id).title == "Why is the sky blue?"
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_unknown_conversation_redirects_to_the_list(admin_client):
    response = admin_client.get(f"{CHANGELIST}00000000-0000-0000-0000-000000000000/change/")
    assert response.status_code == 302


def test_messages_are_read_only(admin_client, thoughtful):
    url = f"/admin/chat/message/{thoughtful.id}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="_save"' not in page
    assert (
        f"/admin/chat/conversation/{thoughtful.conversation_id}/change/#message-{thoughtful.id}"
        in page
    )
    admin_client.post(url, {"content": "edited"})
    assert Message.objects.get(id=thoughtful.id).content == "Partial"
    assert admin_client.get(f"/admin/chat/message/{thoughtful.id}/delete/").status_code == 403
    listing = admin_client.get("/admin/chat/message/", {"q": "rayleigh"})
    assert [m.model for m in listing.context["cl"].result_list] == ["qwq-plus"]


def test_message_list_marks_only_replies_without_a_price_unpriced(admin_client, thoughtful):
    page = admin_client.get("/admin/chat/message/").content.decode()
    assert "0.004200 USD" in page
    assert "0.004200 USD + 1 unpriced" not in page  # priced: no "unpriced" tail
    assert ">unpriced<" in page  # the failed reply has no cost


def test_non_staff_cannot_open_the_admin(alice_client, thoughtful):
    response = alice_client.get(f"{CHANGELIST}{thoughtful.conversation_id}/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
