"""Share links: a snapshot behind a secret token, for the owner to make and revoke only."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chat.models import Conversation, Message, ShareLink
from chat.sharing import services as sharing

COMPLETE = Message.Status.COMPLETE
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The page's only scripts: its own static files (KaTeX, highlight.js, typeset-page.js) and
# the translation catalog.
SCRIPT_TAG = re.compile(r"<script\b[^>]*>")
STATIC_SCRIPT = re.compile(
    r'<script (?:type="module" )?src="(?:/static/[\w./-]+\.js|/jsi18n/\?l=[\w-]+)"(?: defer)?>'
)


def assert_only_static_scripts(html: str) -> None:
    tags = SCRIPT_TAG.findall(html)
    assert tags, "the page loads its typesetting scripts"
    assert all(STATIC_SCRIPT.fullmatch(tag) for tag in tags), tags
    assert html.count("<script") == len(tags)


def make_conversation(owner, title="Primes"):
    return Conversation.objects.create(owner=owner, title=title)


def add_message(conversation, role, content, *, reply_to=None, **fields):
    """Add a message one millisecond after the conversation's last one."""
    last = conversation.messages.order_by("-created_at").first()
    at = (last.created_at if last else timezone.now()) + timedelta(milliseconds=1)
    return Message.objects.create(
        conversation=conversation, role=role, content=content, reply_to=reply_to,
        created_at=at, **{"status": COMPLETE, **fields},
    )  # fmt: skip


def add_turn(conversation, question, answer, **fields):
    """Add a user question and its assistant answer; return the answer."""
    asked = add_message(conversation, "user", question)
    return add_message(
        conversation, "assistant", answer, reply_to=asked, model="qwen-plus", **fields
    )


def share(client, conversation, **body):
    return client.post(
        f"/api/conversations/{conversation.id}/shares/",
        data=json.dumps({"include_reasoning": False, **body}),
        content_type="application/json",
    )


def token_of(response):
    assert response.status_code == 201, response.content
    return response.json()["token"]


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def conversation(alice):
    conversation = make_conversation(alice)
    add_turn(
        conversation, "Is 3599 prime?", "No: **3599 = 59 × 61**.",
        reasoning="Try the difference of squares: 3600 - 1.", reasoning_tokens=1532,
    )  # fmt: skip
    return conversation


# --- making a link -------------------------------------------------------------------------


def test_create_answers_token_url_and_settings(alice_client, conversation):
    response = share(alice_client, conversation, include_reasoning=True, expires_in_days=7)
    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert body["url"] == f"http://testserver/s/{token}/"
    assert body["include_reasoning"] is True
    link = ShareLink.objects.get()
    assert link.expires_at - link.created_at == timedelta(days=7)
    assert body["expires_at"] == link.expires_at.isoformat().replace("+00:00", "Z")
    assert body["id"] == str(link.id)


def test_link_without_expiry_never_expires(alice_client, conversation):
    body = share(alice_client, conversation).json()
    assert body["expires_at"] is None
    assert body["include_reasoning"] is False


def test_token_is_url_safe_with_at_least_128_bits(alice_client, conversation):
    tokens = {token_of(share(alice_client, conversation)) for _ in range(5)}
    assert len(tokens) == 5
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert len(token) * 6 >= 128  # six bits per base64url character
    assert sharing.TOKEN_BYTES * 8 >= 128


def test_database_holds_only_the_hash_of_the_token(alice_client, conversation):
    token = token_of(share(alice_client, conversation))
    link = ShareLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = json.dumps(list(ShareLink.objects.values())[0], default=str)
    assert token not in row
    assert not ShareLink.objects.filter(token_hash=token).exists()


def test_bad_input_is_400_and_writes_nothing(alice_client, conversation):
    for body, field in (
        ({"include_reasoning": "yes"}, "include_reasoning"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 366}, "expires_in_days"),
        ({"expires_in_days": "7"}, "expires_in_days"),
    ):
        response = share(alice_client, conversation, **body)
        assert response.status_code == 400, body
        assert response.json()["error"]["field"] == field
    assert not ShareLink.objects.exists()


def test_nothing_finished_to_share_is_400(alice, alice_client):
    conversation = make_conversation(alice)
    add_message(conversation, "user", "hello", status=Message.Status.PENDING)
    response = share(alice_client, conversation)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "nothing_to_share"


def test_anonymous_cannot_create_a_link(anonymous, conversation):
    assert share(anonymous, conversation).status_code in (401, 403)
    assert not ShareLink.objects.exists()


# --- someone else's conversation ---------------------------------------------------------------


def test_other_user_cannot_create_a_link_on_my_conversation(bob_client, conversation):
    response = share(bob_client, conversation, expires_in_days=0)  # 404 wins over 400
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not ShareLink.objects.exists()


def test_other_user_cannot_list_or_revoke_my_links(alice, bob, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    bob_client = Client()
    bob_client.force_login(bob)
    url = f"/api/conversations/{conversation.id}/shares/"
    assert bob_client.get(url).status_code == 404
    assert bob_client.delete(f"/api/shares/{created.token}/").status_code == 404
    assert bob_client.delete(f"/api/share-links/{created.link.id}/").status_code == 404
    created.link.refresh_from_db()
    assert created.link.revoked_at is None
    assert Client().get(f"/s/{created.token}/").status_code == 200


# --- revoking, expiry and the one 404 ------------------------------------------------------


def test_revoke_by_token_kills_the_link_at_once(alice_client, anonymous, conversation):
    token = token_of(share(alice_client, conversation))
    assert anonymous.get(f"/s/{token}/").status_code == 200
    assert alice_client.delete(f"/api/shares/{token}/").status_code == 204
    assert anonymous.get(f"/s/{token}/").status_code == 404
    assert ShareLink.objects.get().revoked_at is not None
    assert alice_client.delete(f"/api/shares/{token}/").status_code == 204  # idempotent


def test_revoke_by_id_for_the_list(alice_client, anonymous, conversation):
    body = share(alice_client, conversation).json()
    assert alice_client.delete(f"/api/share-links/{body['id']}/").status_code == 204
    assert anonymous.get(f"/s/{body['token']}/").status_code == 404


def test_unknown_revoked_and_expired_links_give_the_same_404(alice, anonymous, conversation):
    revoked = sharing.create_share(alice, conversation.id, include_reasoning=False)
    sharing.revoke_share(alice, revoked.token)
    expired = sharing.create_share(
        alice, conversation.id, include_reasoning=False, expires_in_days=1
    )
    ShareLink.objects.filter(id=expired.link.id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    unknown = sharing.new_token()
    pages = [anonymous.get(f"/s/{token}/") for token in (unknown, revoked.token, expired.token)]
    pages.append(anonymous.get("/s/not%20a%20token/"))
    assert {page.status_code for page in pages} == {404}
    assert len({page.content for page in pages}) == 1
    assert b"not available" in pages[0].content
    assert ShareLink.objects.filter(view_count__gt=0).count() == 0


def test_link_expires_after_its_days(alice, anonymous, conversation):
    created = sharing.create_share(
        alice, conversation.id, include_reasoning=False, expires_in_days=1
    )
    assert anonymous.get(f"/s/{created.token}/").status_code == 200
    ShareLink.objects.filter(id=created.link.id).update(
        expires_at=timezone.now() - timedelta(microseconds=1)
    )
    assert anonymous.get(f"/s/{created.token}/").status_code == 404


def test_deleting_the_conversation_kills_its_links(alice, anonymous, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    conversation.delete()
    assert anonymous.get(f"/s/{created.token}/").status_code == 404


def test_deactivated_owner_links_are_404(alice, anonymous, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    alice.is_active = False
    alice.save()
    assert anonymous.get(f"/s/{created.token}/").status_code == 404


# --- the owner's list and the view counter ------------------------------------------------------


def test_list_shows_live_links_with_view_counts_and_no_token(alice, alice_client, conversation):
    live = sharing.create_share(alice, conversation.id, include_reasoning=True, expires_in_days=3)
    forever = sharing.create_share(alice, conversation.id, include_reasoning=False)
    revoked = sharing.create_share(alice, conversation.id, include_reasoning=False)
    sharing.revoke_share(alice, revoked.token)
    expired = sharing.create_share(
        alice, conversation.id, include_reasoning=False, expires_in_days=1
    )
    ShareLink.objects.filter(id=expired.link.id).update(expires_at=timezone.now())
    viewer = Client()
    for _ in range(3):
        assert viewer.get(f"/s/{live.token}/").status_code == 200
    response = alice_client.get(f"/api/conversations/{conversation.id}/shares/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [str(forever.link.id), str(live.link.id)]
    assert [r["view_count"] for r in results] == [0, 3]
    assert results[1]["include_reasoning"] is True
    assert results[1]["short_id"] == str(live.link.id)[:8]
    assert results[1]["message_count"] == 2
    assert results[1]["expires_at"] is not None
    # The URL is rebuilt from the id (an HMAC under SECRET_KEY); the token is not a field.
    assert results[1]["url"] == f"http://testserver/s/{live.token}/"
    assert "token" not in results[0]


def test_a_link_with_a_random_token_lists_no_url(alice, alice_client, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    ShareLink.objects.filter(id=created.link.id).update(
        token_hash=sharing.hash_token(sharing.new_token())
    )  # as made before tokens were derived
    response = alice_client.get(f"/api/conversations/{conversation.id}/shares/")
    assert response.json()["results"][0]["url"] is None


def test_each_page_view_counts_once(alice, anonymous, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    for _ in range(2):
        anonymous.get(f"/s/{created.token}/")
    created.link.refresh_from_db()
    assert created.link.view_count == 2


# --- the page -----------------------------------------------------------------------------------


def test_page_needs_no_login_and_shows_the_conversation(alice, anonymous, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    response = anonymous.get(f"/s/{created.token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Primes</h1>" in html
    assert "Is 3599 prime?" in html
    assert "<strong>3599 = 59 × 61</strong>" in html
    assert_only_static_scripts(html)
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize("path", ["/s/{token}/", "/s/unknown-token-aaaaaaaaaaaaaaaa/"])
def test_page_headers_forbid_indexing_referrers_and_scripts(alice, anonymous, conversation, path):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    response = anonymous.get(path.format(token=created.token))
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_reasoning_is_absent_from_the_page_when_excluded(alice, anonymous, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    html = anonymous.get(f"/s/{created.token}/").content.decode()
    assert "difference of squares" not in html
    assert 'data-testid="thinking"' not in html
    assert "1,532" not in html
    assert "reasoning not included" in html


def test_reasoning_is_in_a_thinking_pane_when_included(alice, anonymous, conversation):
    reply = conversation.messages.get(role="assistant")
    reply.first_token_at = reply.created_at
    reply.answer_started_at = reply.created_at + timedelta(seconds=12.4)
    reply.save()
    created = sharing.create_share(alice, conversation.id, include_reasoning=True)
    html = anonymous.get(f"/s/{created.token}/").content.decode()
    pane = re.search(
        r'<details class="thinking" data-testid="thinking">(.*?)</details>', html, re.S
    )
    assert pane is not None
    assert "<summary>Thought for 12.4 s · 1,532 reasoning tokens</summary>" in pane.group(1)
    assert "Try the difference of squares: 3600 - 1." in pane.group(1)


def test_snapshot_leaves_out_messages_finished_or_added_later(alice, anonymous, conversation):
    streaming = add_turn(conversation, "And 3601?", "partial", status=Message.Status.STREAMING)
    created = sharing.create_share(alice, conversation.id, include_reasoning=True)
    streaming.content = "3601 is prime, the late answer"
    streaming.status = COMPLETE
    streaming.save()
    add_turn(conversation, "A question asked later", "An answer given later")
    html = anonymous.get(f"/s/{created.token}/").content.decode()
    assert "Is 3599 prime?" in html
    assert "And 3601?" in html  # the question was complete; its answer was not
    assert "late answer" not in html
    assert "partial" not in html
    assert "asked later" not in html
    assert "given later" not in html
    assert html.count('data-testid="message"') == 3


def test_snapshot_keeps_the_version_active_when_shared(alice, anonymous, conversation):
    first = conversation.messages.get(role="assistant")
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    Message.objects.filter(id=first.id).update(is_active_version=False)
    add_message(
        conversation,
        "assistant",
        "A regenerated answer",
        reply_to=first.reply_to,
        model="qwen-plus",
    )
    html = anonymous.get(f"/s/{created.token}/").content.decode()
    assert "59 × 61" in html
    assert "regenerated" not in html
    later = sharing.create_share(alice, conversation.id, include_reasoning=False)
    html = anonymous.get(f"/s/{later.token}/").content.decode()
    assert "regenerated" in html
    assert "59 × 61" not in html


def test_failed_and_stopped_replies_are_not_shared(alice, anonymous):
    conversation = make_conversation(alice)
    add_turn(conversation, "q1", "stopped half-way", status=Message.Status.CANCELLED)
    add_turn(conversation, "q2", "broken", status=Message.Status.FAILED)
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    html = anonymous.get(f"/s/{created.token}/").content.decode()
    assert "q1" in html and "q2" in html
    assert "half-way" not in html and "broken" not in html


def test_model_markup_is_escaped_or_removed(alice, anonymous):
    conversation = make_conversation(alice, title="<b>bold title</b>")
    add_turn(
        conversation, "<script>alert('q')</script>",
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        "[click](javascript:alert(3)) [ok](https://example.com/)\n\n![pic](https://example.com/p.png)",
        reasoning="<script>alert(4)</script>",
    )  # fmt: skip
    created = sharing.create_share(alice, conversation.id, include_reasoning=True)
    html = anonymous.get(f"/s/{created.token}/").content.decode()
    assert_only_static_scripts(html)
    assert "<img" not in html
    assert "<b>" not in html
    assert 'href="javascript' not in html
    assert "onerror=" not in html.replace("onerror=alert(2)&gt;", "")
    assert (
        '<a href="https://example.com/" target="_blank" rel="nofollow noopener noreferrer">ok</a>'
        in html
    )
    assert '<a href="https://example.com/p.png"' in html
