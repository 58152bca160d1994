"""Honest accounting, on the real stack in both protocols: a reply the model never served
costs nothing and uses no quota; title tokens are recorded and reported."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.utils import timezone

from chat.fairuse.quota import get_quota
from chat.models import Message, ModelPrice, TitleUsage
from chat.spend.report import SpendQuery, spend_rows
from tests.integration.streaming.pipeline.test_titles_live import wait_for_title
from tests.live import Session, collect_events, free_port, start_stack


@pytest.fixture
def priced(transactional_db):
    """Every model the tests use has a price: a refused reply must cost 0, not be unpriced."""
    for model in ("qwen-plus", "qwen-flash"):
        ModelPrice.objects.create(
            model=model,
            input_per_million=Decimal("0.4"),
            output_per_million=Decimal("1.2"),
            effective_from=timezone.now().replace(year=2020),
        )


def today_by(group_by: str):
    today = timezone.now().date()
    return {row.key: row for row in spend_rows(SpendQuery(today, today, group_by))}


@pytest.mark.parametrize(
    "fault",
    [
        "401",  # the key refused
        "429",  # rate-limited, still after every retry
        "error_body",  # 400: the input inspection refused it
        "500",  # the service failed before answering
    ],
)
def test_a_refused_reply_costs_nothing_and_uses_no_quota(live_alice, priced, fault):
    from accounts.models import User

    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id, f"Refuse me [[sim:fault={fault}]] " + "long prompt " * 200
        )
        reply_id = sent["assistant_message"]["id"]
        events = collect_events(ws, reply_id, timeout=60)
    assert events[-1]["status"] == "failed"
    assert events[-1]["usage"]["total_tokens"] == 0
    reply = Message.objects.get(id=reply_id)
    assert (reply.input_tokens, reply.output_tokens, reply.total_tokens) == (0, 0, 0)
    assert reply.cost == Decimal("0") and not reply.usage_estimated
    assert reply.reserved_tokens == 0
    assert "alice" not in today_by("user")  # not a request in the spend report
    alice = User.objects.get(username="alice")
    quota = get_quota(alice)
    assert (quota.used_tokens, quota.reserved_tokens) == (0, 0)


@pytest.fixture
def dead_upstream_session(django_db_blocker, transactional_db, protocol):
    """A stack whose upstream refuses every connection (nothing listens on its port)."""
    from tests.factories import make_user

    with django_db_blocker.unblock():
        stack = start_stack(f"http://127.0.0.1:{free_port()}", protocol)
    make_user("dora")
    session = Session(stack.base_url, "dora")
    yield session
    session.close()
    stack.stop()


def test_a_reply_whose_upstream_refuses_the_connection_costs_nothing(dead_upstream_session, priced):
    conversation_id = dead_upstream_session.new_conversation()
    with dead_upstream_session.websocket(conversation_id) as ws:
        sent = dead_upstream_session.send(conversation_id, "Anyone there? " * 50)
        events = collect_events(ws, sent["assistant_message"]["id"], timeout=60)
    assert events[-1]["status"] == "failed"
    assert events[-1]["error"]["code"] == "connect_failed"
    reply = Message.objects.get(id=sent["assistant_message"]["id"])
    assert (reply.total_tokens, reply.cost, reply.usage_estimated) == (0, Decimal("0"), False)
    assert "dora" not in today_by("user")


def test_a_reply_cut_mid_stream_is_billed_for_what_was_served(live_alice, priced, protocol):
    """OpenAI's protocol reports usage only at the end: the text is counted, and marked
    estimated. DashScope's reports it with every chunk: the last report stands."""
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(
            conversation_id, "Cut [[sim:fault=disconnect after=10 answer_tokens=40]]"
        )
        collect_events(ws, sent["assistant_message"]["id"], timeout=60)
    reply = Message.objects.get(id=sent["assistant_message"]["id"])
    assert reply.status == "failed" and reply.content
    assert reply.output_tokens > 0 and reply.cost > 0
    estimated = protocol == "openai"
    assert reply.usage_estimated is estimated
    assert today_by("user")["alice"].estimated_requests == int(estimated)


def test_title_tokens_are_recorded_and_reported(live_alice, priced):
    conversation_id = live_alice.new_conversation()
    with live_alice.websocket(conversation_id) as ws:
        sent = live_alice.send(conversation_id, "Why is the sky blue? [[sim:answer_tokens=8]]")
        collect_events(ws, sent["assistant_message"]["id"])
    wait_for_title(conversation_id, "")
    deadline = time.monotonic() + 10
    while not TitleUsage.objects.filter(conversation_id=conversation_id).exists():
        assert time.monotonic() < deadline, "the title's tokens were never recorded"
        time.sleep(0.1)
    usage = TitleUsage.objects.get(conversation_id=conversation_id)
    assert usage.model == "qwen-flash"
    assert usage.input_tokens > 0 and usage.output_tokens > 0 and usage.cost > 0

    by_user, by_model, by_day = today_by("user"), today_by("model"), today_by("day")
    titles = by_user["alice (titles)"]
    assert (titles.requests, titles.input_tokens) == (1, usage.input_tokens)
    assert by_model["qwen-flash (titles)"].output_tokens == usage.output_tokens
    assert by_user["alice"].requests == 1  # the reply itself
    day = next(iter(by_day.values()))
    assert day.requests == 2  # the reply and its title
    totals = [sum(r.input_tokens for r in rows.values()) for rows in (by_user, by_model, by_day)]
    assert len(set(totals)) == 1  # every grouping adds up to the same spend
