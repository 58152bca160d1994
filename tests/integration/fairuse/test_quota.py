"""Monthly token quotas: refused sends and regenerations (429), and GET /api/me/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from django.test import override_settings
from django.utils import timezone

from chat.fairuse.admission import ANSWER_RESERVE_TOKENS
from chat.fairuse.quota import month_bounds
from chat.models import Conversation, Message
from tests.integration.reply_factories import make_reply


def send(client, conversation_id):
    return client.post(
        f"/api/conversations/{conversation_id}/messages/",
        data=json.dumps({"content": "One more question", "model": "qwen-plus"}),
        content_type="application/json",
    )


def use_tokens(user, tokens: int, *, when: datetime | None = None) -> Message:
    return make_reply(
        user,
        created_at=when or timezone.now(),
        input_tokens=tokens // 2,
        output_tokens=tokens - tokens // 2,
    )


def set_quota(user, tokens: int | None) -> None:
    user.monthly_token_quota = tokens
    user.save(update_fields=["monthly_token_quota"])


def test_send_over_quota_is_refused_and_writes_nothing(
    alice, alice_client, django_capture_on_commit_callbacks
):
    set_quota(alice, 1000)
    reply = use_tokens(alice, 1000)
    before = Message.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(alice_client, reply.conversation_id)
    assert response.status_code == 429
    _, resets_at = month_bounds(timezone.now())
    assert 0 < int(response["Retry-After"]) <= (resets_at - timezone.now()).total_seconds() + 1
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "used 1,000 of your 1,000 tokens this month" in error["message"]
    assert "resets on 1 " in error["message"]
    assert Message.objects.count() == before
    assert callbacks == []


def test_regenerate_over_quota_is_refused_and_writes_nothing(
    alice, alice_client, django_capture_on_commit_callbacks
):
    set_quota(alice, 500)
    reply = use_tokens(alice, 800)
    before = list(Message.objects.values_list("id", "is_active_version"))
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(f"/api/messages/{reply.id}/regenerate/")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert list(Message.objects.values_list("id", "is_active_version")) == before
    assert callbacks == []


def test_send_under_quota_goes_through_and_reserves_its_estimate(
    alice, alice_client, django_capture_on_commit_callbacks
):
    set_quota(alice, 10_000)
    reply = use_tokens(alice, 999)
    with django_capture_on_commit_callbacks():
        response = send(alice_client, reply.conversation_id)
    assert response.status_code == 202
    pending = Message.objects.get(id=response.json()["assistant_message"]["id"])
    # The conversation so far (the last reply's 999 tokens), the question (5), an answer.
    assert pending.reserved_tokens == 999 + 5 + ANSWER_RESERVE_TOKENS
    quota = alice_client.get("/api/me/").json()["quota"]
    assert quota["used_tokens"] == 999
    assert quota["reserved_tokens"] == pending.reserved_tokens
    assert quota["remaining_tokens"] == 10_000 - 999 - pending.reserved_tokens


def test_send_whose_estimate_does_not_fit_is_refused(
    alice, alice_client, django_capture_on_commit_callbacks
):
    set_quota(alice, 3_000)
    reply = use_tokens(alice, 999)
    before = Message.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(alice_client, reply.conversation_id)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"])
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "may use about 3,004 tokens and you have 2,001 left" in error["message"]
    assert Message.objects.count() == before
    assert callbacks == []


def test_a_finished_reply_releases_its_reservation(alice, alice_client):
    set_quota(alice, 100_000)
    reply = use_tokens(alice, 500)
    Message.objects.filter(id=reply.id).update(reserved_tokens=5_000)  # ended: no longer held
    quota = alice_client.get("/api/me/").json()["quota"]
    assert (quota["used_tokens"], quota["reserved_tokens"]) == (500, 0)


def test_last_months_tokens_and_other_users_tokens_do_not_count(
    alice, bob, alice_client, django_capture_on_commit_callbacks
):
    set_quota(alice, 10_000)
    start, _ = month_bounds(timezone.now())
    use_tokens(alice, 5000, when=start - timedelta(microseconds=1))
    use_tokens(bob, 5000)
    conversation = Conversation.objects.create(owner=alice)
    with django_capture_on_commit_callbacks():
        assert send(alice_client, conversation.id).status_code == 202


def test_no_quota_means_no_limit(alice, alice_client, django_capture_on_commit_callbacks):
    reply = use_tokens(alice, 10_000_000)
    with django_capture_on_commit_callbacks():
        assert send(alice_client, reply.conversation_id).status_code == 202


@override_settings(RETENTION_DAYS=None)
def test_me_reports_the_remaining_allowance(alice, alice_client):
    set_quota(alice, 1000)
    use_tokens(alice, 300)
    use_tokens(alice, 100)
    response = alice_client.get("/api/me/")
    assert response.status_code == 200
    body = response.json()
    _, resets_at = month_bounds(timezone.now())
    assert body == {
        "username": "alice",
        "is_staff": False,
        "quota": {
            "monthly_tokens": 1000,
            "used_tokens": 400,
            "reserved_tokens": 0,
            "remaining_tokens": 600,
            "resets_at": resets_at.isoformat().replace("+00:00", "Z"),
        },
        "groups": [],
        "budget": {
            "currency": "USD",
            "monthly": None,
            "spent": "0.00",
            "reserved": "0.00",
            "remaining": None,
            "resets_at": resets_at.isoformat().replace("+00:00", "Z"),
        },
        "retention_days": None,
    }


def test_me_without_a_quota_has_no_remaining_figure(alice, alice_client):
    use_tokens(alice, 300)
    quota = alice_client.get("/api/me/").json()["quota"]
    assert quota["monthly_tokens"] is None
    assert quota["remaining_tokens"] is None
    assert quota["used_tokens"] == 300


def test_me_needs_a_login(client, db):
    assert client.get("/api/me/").status_code in (401, 403)


def test_month_bounds_roll_over_the_year():
    start, end = month_bounds(datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    assert (start, end) == (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
