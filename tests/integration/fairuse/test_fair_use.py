"""Fair use: the active-reply cap and the send rate (429, nothing written), and a parallel
burst that reservations keep within the monthly quota, on the real stack."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from chat.fairuse import admission
from chat.models import Conversation, Message


def send(client, conversation_id, content="One more question"):
    return client.post(
        f"/api/conversations/{conversation_id}/messages/",
        data=json.dumps({"content": content, "model": "qwen-plus"}),
        content_type="application/json",
    )


def new_conversation(user) -> Conversation:
    return Conversation.objects.create(owner=user)


def test_past_the_active_reply_cap_a_send_gets_429_and_writes_nothing(
    settings, alice, alice_client, django_capture_on_commit_callbacks
):
    settings.MAX_ACTIVE_REPLIES = 2
    with django_capture_on_commit_callbacks():
        first = send(alice_client, new_conversation(alice).id)
        second = send(alice_client, new_conversation(alice).id)
    assert (first.status_code, second.status_code) == (202, 202)
    before = Message.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        refused = send(alice_client, new_conversation(alice).id)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_active_replies"
    assert "2 replies being written" in refused.json()["error"]["message"]
    assert int(refused["Retry-After"]) > 0
    assert Message.objects.count() == before
    assert callbacks == []

    # One of them ends: there is room again.
    Message.objects.filter(id=first.json()["assistant_message"]["id"]).update(
        status=Message.Status.COMPLETE
    )
    with django_capture_on_commit_callbacks():
        assert send(alice_client, new_conversation(alice).id).status_code == 202


def test_the_cap_counts_regenerations_and_only_the_users_own_replies(
    settings, alice, bob, alice_client, bob_client, django_capture_on_commit_callbacks
):
    settings.MAX_ACTIVE_REPLIES = 1
    with django_capture_on_commit_callbacks():
        sent = send(alice_client, new_conversation(alice).id).json()
    reply_id = sent["assistant_message"]["id"]
    Message.objects.filter(id=reply_id).update(status=Message.Status.COMPLETE)
    with django_capture_on_commit_callbacks():
        assert alice_client.post(f"/api/messages/{reply_id}/regenerate/").status_code == 202
        again = alice_client.post(f"/api/messages/{reply_id}/regenerate/")
        assert again.status_code == 429  # the new version is still being written
        assert again.json()["error"]["code"] == "too_many_active_replies"
        refused = send(alice_client, new_conversation(alice).id)
        assert refused.status_code == 429
        assert send(bob_client, new_conversation(bob).id).status_code == 202


def test_sending_faster_than_the_rate_gets_429_until_the_window_moves(
    settings, alice, bob, alice_client, bob_client, django_capture_on_commit_callbacks
):
    settings.SEND_RATE = "3/minute"
    admission.reset_send_rate(alice)
    admission.reset_send_rate(bob)
    with django_capture_on_commit_callbacks():
        for _ in range(3):
            assert send(alice_client, new_conversation(alice).id).status_code == 202
    before = Message.objects.count()
    refused = send(alice_client, new_conversation(alice).id)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_sends"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert Message.objects.count() == before
    with django_capture_on_commit_callbacks():
        assert send(bob_client, new_conversation(bob).id).status_code == 202  # per user
    admission.reset_send_rate(alice)


def test_bad_input_is_a_400_before_any_limit(settings, alice, alice_client):
    settings.MAX_ACTIVE_REPLIES = 1
    Message.objects.create(
        conversation=new_conversation(alice), role="assistant", status=Message.Status.STREAMING
    )
    response = alice_client.post(
        f"/api/conversations/{new_conversation(alice).id}/messages/",
        data=json.dumps({"content": "", "model": "qwen-plus"}),
        content_type="application/json",
    )
    assert response.status_code == 400


BURST = 10


@pytest.mark.parametrize("protocol", ["openai"], indirect=True)
def test_a_parallel_burst_stays_within_the_quota(live, live_alice):
    """Ten sends at once against 3½ replies' worth of allowance: three get in, on the real
    stack (daphne answering in parallel), and what they used stays within the quota."""
    from accounts.models import User

    conversations = [live_alice.new_conversation() for _ in range(BURST)]
    content = "Burst [[sim:rate=10 answer_tokens=30]]"  # 3 s: all in flight during the burst
    reserve = admission.estimate_tokens(content) + admission.ANSWER_RESERVE_TOKENS
    quota = reserve * 3 + reserve // 2
    User.objects.filter(username="alice").update(monthly_token_quota=quota)

    def one(conversation_id: str):
        body = {"content": content, "model": "qwen-plus", "enable_thinking": False}
        return live_alice.post(f"/api/conversations/{conversation_id}/messages/", body)

    with ThreadPoolExecutor(BURST) as pool:
        responses = list(pool.map(one, conversations))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] * 3 + [429] * (BURST - 3)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 429} == {
        "quota_exceeded"
    }
    replies = Message.objects.filter(conversation__owner__username="alice", role="assistant")
    assert replies.count() == 3
    deadline = time.monotonic() + 60
    while replies.exclude(status__in=Message.FINISHED).exists():
        assert time.monotonic() < deadline, "the admitted replies never finished"
        time.sleep(0.2)
    used = sum(m.input_tokens + m.output_tokens for m in replies)
    assert 0 < used <= quota
    assert all(m.status == "complete" and m.reserved_tokens == 0 for m in replies)
