"""Group policies: merged most-generously, enforced by the API, the picker and the worker,
with budgets in tokens and money for each member and for a group as a whole."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import GroupPolicy
from accounts.policy import policy_for
from chat.models import AuditEntry, Conversation, Message, ModelPrice
from chat.streaming.pipeline import store
from tests.integration.reply_factories import make_reply


def group(name: str, members=(), **policy) -> Group:
    created = Group.objects.create(name=name)
    if policy:
        GroupPolicy.objects.create(group=created, **policy)
    for user in members:
        user.groups.add(created)
    return created


def send(client, body: dict, conversation_id=None):
    conversation_id = conversation_id or Conversation.objects.create(owner=client.user_for_test).id
    return client.post(
        f"/api/conversations/{conversation_id}/messages/",
        data=json.dumps({"content": "Hello there", "model": "qwen-plus", **body}),
        content_type="application/json",
    )


@pytest.fixture
def alice_api(alice, alice_client):
    alice_client.user_for_test = alice
    return alice_client


@pytest.fixture
def priced(db):
    ModelPrice.objects.create(
        model="qwen-plus",
        input_per_million=Decimal("1000"),  # 0.001 per token: easy sums
        output_per_million=Decimal("2000"),
        effective_from=timezone.now().replace(year=2020),
    )


# --- merging ----------------------------------------------------------------------------------


def test_a_user_in_no_group_gets_the_deployment_defaults(settings, alice):
    settings.DEFAULT_ALLOWED_MODELS = ["qwen-plus"]
    settings.DEFAULT_MAX_THINKING_BUDGET = 2048
    settings.DEFAULT_MONTHLY_BUDGET = Decimal("5.00")
    policy = policy_for(alice)
    assert policy.allowed_models == {"qwen-plus"}
    assert policy.max_thinking_budget == 2048
    assert policy.monthly_budget == Decimal("5.00")
    assert policy.group_budgets == ()


def test_a_user_in_two_groups_gets_the_most_generous_value_of_each(settings, alice):
    settings.DEFAULT_MAX_THINKING_BUDGET = 1000
    settings.MAX_ACTIVE_REPLIES = 2
    group("Support", [alice], allowed_models=["qwen-plus"], max_thinking_budget=4000,
          member_monthly_budget=Decimal("10"), group_monthly_tokens=1_000_000)  # fmt: skip
    group("Research", [alice], allowed_models=["qwq-plus"], max_active_replies=5,
          member_monthly_budget=Decimal("25"), group_monthly_budget=Decimal("500"))  # fmt: skip
    policy = policy_for(alice)
    assert policy.allowed_models == {"qwen-plus", "qwq-plus"}
    assert policy.max_thinking_budget == 4000  # Research's empty cap is the default, 1000
    assert policy.max_active_replies == 5
    assert policy.monthly_budget == Decimal("25")
    assert {b.name for b in policy.group_budgets} == {"Support", "Research"}


def test_no_limit_beats_any_limit(settings, alice):
    settings.DEFAULT_MONTHLY_TOKENS = None
    group("Capped", [alice], member_monthly_tokens=1000, group_monthly_tokens=5000)
    group("Open", [alice], allowed_models=["qwen-plus"])
    policy = policy_for(alice)
    assert policy.monthly_tokens is None  # Open's empty field: the default, no limit
    assert policy.group_budgets == ()  # Open has no group-wide budget
    assert policy.allowed_models is None  # Capped names none: every model, the default


def test_a_users_own_quota_is_their_token_budget(alice):
    group("Big", [alice], member_monthly_tokens=1_000_000)
    alice.monthly_token_quota = 5000
    alice.save()
    assert policy_for(alice).monthly_tokens == 5000


# --- the API and the picker -----------------------------------------------------------------


def test_a_model_outside_the_policy_is_refused_with_403_and_nothing_written(alice, alice_api):
    group("Support", [alice], allowed_models=["qwen-flash"])
    before = Message.objects.count()
    response = send(alice_api, {"model": "qwen-plus"})
    assert response.status_code == 403
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("model_not_allowed", "model")
    assert "Qwen-Plus" in error["message"] or "qwen-plus" in error["message"].lower()
    assert Message.objects.count() == before


def test_the_picker_lists_only_allowed_models_with_budgets_capped(alice, alice_api):
    group("Support", [alice], allowed_models=["qwen-plus", "qwq-plus"], max_thinking_budget=3000)
    models = {m["id"]: m for m in alice_api.get("/api/models/").json()["models"]}
    assert set(models) == {"qwen-plus", "qwq-plus"}
    assert models["qwen-plus"]["max_budget"] == 3000


def test_a_thinking_budget_over_the_cap_is_a_400_and_none_gets_the_cap(
    alice, alice_api, django_capture_on_commit_callbacks
):
    group("Support", [alice], max_thinking_budget=3000)
    refused = send(alice_api, {"enable_thinking": True, "thinking_budget": 5000})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "thinking_budget_too_high"
    assert refused.json()["error"]["field"] == "thinking_budget"
    with django_capture_on_commit_callbacks():
        sent = send(alice_api, {"enable_thinking": True})
    assert sent.status_code == 202
    assert sent.json()["assistant_message"]["thinking_budget"] == 3000


def test_the_active_reply_cap_comes_from_the_policy(
    settings, alice, alice_api, django_capture_on_commit_callbacks
):
    settings.MAX_ACTIVE_REPLIES = 1
    group("Busy", [alice], max_active_replies=2)
    with django_capture_on_commit_callbacks():
        assert send(alice_api, {}).status_code == 202
        assert send(alice_api, {}).status_code == 202
        refused = send(alice_api, {})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_active_replies"


# --- budgets ------------------------------------------------------------------------------------


def test_a_member_money_budget_is_a_hard_stop_with_the_reset_date(
    alice, alice_api, priced, django_capture_on_commit_callbacks
):
    group("Support", [alice], member_monthly_budget=Decimal("5.00"))
    make_reply(alice, created_at=timezone.now(), input_tokens=10, output_tokens=10,
               cost="5.000000")  # fmt: skip
    before = Message.objects.count()
    response = send(alice_api, {})
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "budget_exceeded"
    assert (
        "spent 5.00 USD of your 5.00 USD" in error["message"] and "resets on 1 " in error["message"]
    )
    assert int(response["Retry-After"]) > 0
    assert Message.objects.count() == before


def test_a_send_reserves_its_expected_cost_and_me_shows_what_is_left(
    alice, alice_api, priced, django_capture_on_commit_callbacks
):
    group("Support", [alice], member_monthly_budget=Decimal("100"))
    with django_capture_on_commit_callbacks():
        sent = send(alice_api, {"enable_thinking": False})
    pending = Message.objects.get(id=sent.json()["assistant_message"]["id"])
    # 3 prompt tokens at 0.001 + 2,000 answer tokens at 0.002.
    assert pending.reserved_cost == Decimal("4.003000")
    budget = alice_api.get("/api/me/").json()["budget"]
    assert budget == {
        "currency": "USD",
        "monthly": "100.00",
        "spent": "0.00",
        "reserved": "4.00",
        "remaining": "96.00",
        "resets_at": budget["resets_at"],
    }


def test_a_reservation_that_does_not_fit_the_money_budget_is_refused(alice, alice_api, priced):
    group("Support", [alice], member_monthly_budget=Decimal("3.00"))
    response = send(alice_api, {"enable_thinking": False})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "budget_exceeded"
    assert "may cost about 4.00 USD" in response.json()["error"]["message"]


def test_a_group_budget_counts_every_member_and_the_most_generous_group_wins(
    alice, bob, alice_api, django_capture_on_commit_callbacks
):
    support = group("Support", [alice, bob], group_monthly_tokens=10_000)
    make_reply(bob, created_at=timezone.now(), input_tokens=5000, output_tokens=4000)
    refused = send(alice_api, {"enable_thinking": False})  # 1,000 left; she needs ~2,003
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "group_budget_exceeded"
    assert "Support" in refused.json()["error"]["message"]

    group("Research", [alice], group_monthly_tokens=100_000)
    with django_capture_on_commit_callbacks():
        assert send(alice_api, {"enable_thinking": False}).status_code == 202
    support.policy.delete()  # a group without a group budget: no group limit at all
    assert policy_for(alice).group_budgets == ()


# --- the worker ------------------------------------------------------------------------------


def pending_reply(owner, **fields) -> Message:
    conversation = Conversation.objects.create(owner=owner)
    question = Message.objects.create(conversation=conversation, role="user", content="Hi")
    return Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question,
        status=Message.Status.PENDING, model="qwen-plus", **fields,
    )  # fmt: skip


def test_the_worker_refuses_a_model_the_policy_no_longer_allows(transactional_db, alice):
    reply = pending_reply(alice)
    group("Support", [alice], allowed_models=["qwen-flash"])  # changed after the send
    with pytest.raises(store.Unclaimable) as refused:
        store.claim(reply.id)
    assert refused.value.code == "model_not_allowed"
    reply.refresh_from_db()
    assert reply.status == Message.Status.PENDING  # unclaimed: fail_unclaimed ends it


def test_the_worker_caps_the_thinking_budget_at_the_policy_in_force(transactional_db, alice):
    reply = pending_reply(alice, enable_thinking=True, thinking_budget=8000)
    group("Support", [alice], max_thinking_budget=1024)
    job = store.claim(reply.id)
    assert job is not None
    assert job.request.thinking_budget == 1024


# --- the admin --------------------------------------------------------------------------------


def test_the_group_page_shows_members_and_spend_and_audits_policy_changes(admin_client, alice, bob):
    support = group("Support", [alice, bob])
    make_reply(alice, created_at=timezone.now(), input_tokens=700, output_tokens=300)
    page = admin_client.get(f"/admin/auth/group/{support.pk}/change/").content.decode()
    assert "alice" in page and "bob" in page
    assert "1,000 tokens (no limit)" in page

    response = admin_client.post(
        f"/admin/auth/group/{support.pk}/change/",
        {
            "name": "Support",
            "policy-TOTAL_FORMS": "1",
            "policy-INITIAL_FORMS": "0",
            "policy-MIN_NUM_FORMS": "0",
            "policy-MAX_NUM_FORMS": "1",
            "policy-0-allowed_models": ["qwen-plus", "qwq-plus"],
            "policy-0-group_monthly_tokens": "50000",
            "policy-0-member_monthly_budget": "12.50",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = GroupPolicy.objects.get(group=support)
    assert policy.allowed_models == ["qwen-plus", "qwq-plus"]
    assert policy.member_monthly_budget == Decimal("12.50")
    entry = AuditEntry.objects.get(action="policy_changed")
    assert entry.detail["group"] == "Support" and entry.detail["change"] == "created"
    assert entry.detail["after"]["group_monthly_tokens"] == 50000
    assert entry.detail["after"]["allowed_models"] == ["qwen-plus", "qwq-plus"]
    page = admin_client.get(f"/admin/auth/group/{support.pk}/change/").content.decode()
    assert "1,000 of 50,000 tokens (49,000 left)" in page


def test_the_user_page_shows_the_policy_in_force_and_this_months_spend(admin_client, alice):
    group("Support", [alice], allowed_models=["qwen-plus"], member_monthly_tokens=9000)
    make_reply(alice, created_at=timezone.now(), input_tokens=600, output_tokens=400)
    page = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()
    assert "Support" in page and "qwen-plus" in page
    assert "1,000 of 9,000 tokens (8,000 left)" in page


BURST = 10


@pytest.mark.parametrize("protocol", ["openai"], indirect=True)
def test_a_parallel_burst_stays_within_a_money_budget(live, live_alice, priced):
    """Ten sends at once against 3½ replies' worth of money: three get in, and what
    they cost stays within the budget (real daphne answering in parallel)."""
    from concurrent.futures import ThreadPoolExecutor

    from accounts.models import User
    from chat.fairuse import admission

    alice = User.objects.get(username="alice")
    content = "Burst [[sim:rate=10 answer_tokens=30]]"  # 3 s: all in flight during the burst
    expected = Decimal(admission.estimate_tokens(content)) * Decimal("0.001") + Decimal("4")
    group("Support", [alice], member_monthly_budget=(expected * 7 / 2).quantize(Decimal("0.01")))
    conversations = [live_alice.new_conversation() for _ in range(BURST)]

    def one(conversation_id: str):
        body = {"content": content, "model": "qwen-plus", "enable_thinking": False}
        return live_alice.post(f"/api/conversations/{conversation_id}/messages/", body)

    with ThreadPoolExecutor(BURST) as pool:
        responses = list(pool.map(one, conversations))
    assert sorted(r.status_code for r in responses) == [202] * 3 + [429] * (BURST - 3)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 429} == {
        "budget_exceeded"
    }
    replies = Message.objects.filter(conversation__owner=alice, role="assistant")

    deadline = time.monotonic() + 60
    while replies.exclude(status__in=Message.FINISHED).exists():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    spent = sum(reply.cost for reply in replies)
    assert Decimal(0) < spent <= alice.groups.get().policy.member_monthly_budget
