"""Prices over time: the price in force when a reply was asked, and `manage.py recost`."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from chat.models import Message, ModelPrice, TitleUsage
from chat.spend.pricing import price_in_force
from tests.integration.reply_factories import at, make_reply


def add_price(model: str, day: str, *, input_price: str, thinking: str | None = None, **extra):
    return ModelPrice.objects.create(
        model=model,
        effective_from=at(day, 0),
        input_per_million=Decimal(input_price),
        output_per_million=Decimal("2"),
        thinking_output_per_million=None if thinking is None else Decimal(thinking),
        **extra,
    )


def recost(*args: str) -> str:
    out = io.StringIO()
    call_command("recost", *args, stdout=out)
    return out.getvalue()


def cost_of(message: Message) -> tuple[Decimal | None, str]:
    message.refresh_from_db()
    return message.cost, message.cost_currency


def test_price_in_force_follows_effective_from(db):
    january = add_price("qwen-plus", "2025-01-01", input_price="1")
    march = add_price("qwen-plus", "2025-03-01", input_price="2")
    assert price_in_force("qwen-plus", at("2024-12-31", 23)) is None
    assert price_in_force("qwen-plus", at("2025-02-28", 23)) == january
    assert price_in_force("qwen-plus", at("2025-03-01", 0)) == march
    assert price_in_force("qwq-plus", at("2025-03-01")) is None


def test_recost_uses_the_price_in_force_when_each_reply_was_asked(alice):
    add_price("qwen-plus", "2025-01-01", input_price="1", thinking="8")
    add_price("qwen-plus", "2025-03-01", input_price="3", thinking="8", currency="CNY")
    february = make_reply(alice, created_at=at("2025-02-28", 23), input_tokens=1000,
                          output_tokens=500, reasoning_tokens=400)  # fmt: skip
    march = make_reply(alice, created_at=at("2025-03-01", 1), input_tokens=1000,
                       output_tokens=500)  # fmt: skip
    unpriced = make_reply(alice, model="qwq-plus", created_at=at("2025-03-02"), input_tokens=9)
    output = recost("--start", "2025-02-01", "--end", "2025-03-31")
    assert "3 finished replies" in output and "changed the cost of 2; 1 have no price" in output
    # 1000 × 1 + 500 (with reasoning) × 8, per million; then 1000 × 3 + 500 × 2 in CNY.
    assert cost_of(february) == (Decimal("0.005000"), "USD")
    assert cost_of(march) == (Decimal("0.004000"), "CNY")
    assert cost_of(unpriced) == (None, "")


def test_recost_touches_only_the_range_the_model_and_finished_replies(alice):
    add_price("qwen-plus", "2025-01-01", input_price="1")
    add_price("qwq-plus", "2025-01-01", input_price="1")
    before = make_reply(alice, created_at=at("2025-02-28", 23), input_tokens=1000)
    inside = make_reply(alice, created_at=at("2025-03-31", 23), input_tokens=1000)
    other_model = make_reply(alice, model="qwq-plus", created_at=at("2025-03-10"), input_tokens=1)
    streaming = make_reply(alice, created_at=at("2025-03-10"), input_tokens=1000,
                           status=Message.Status.STREAMING)  # fmt: skip
    recost("--start", "2025-03-01", "--end", "2025-03-31", "--model", "qwen-plus")
    assert cost_of(inside) == (Decimal("0.001000"), "USD")
    assert cost_of(before) == (None, "")
    assert cost_of(other_model) == (None, "")
    assert cost_of(streaming) == (None, "")


def test_recost_prices_generated_titles_too(alice):
    add_price("qwen-flash", "2025-01-01", input_price="1")
    reply = make_reply(alice, created_at=at("2025-03-10"), input_tokens=1000)
    title = TitleUsage.objects.create(
        conversation=reply.conversation, model="qwen-flash", created_at=at("2025-03-10"),
        input_tokens=1000, output_tokens=10, total_tokens=1010,
    )  # fmt: skip
    later = TitleUsage.objects.create(
        conversation=reply.conversation, model="qwen-flash", created_at=at("2025-04-01"),
        input_tokens=1000,
    )  # fmt: skip
    output = recost("--start", "2025-03-01", "--end", "2025-03-31")
    assert "1 generated titles: changed the cost of 1; 0 have no price." in output
    # 1000 × 1 + 10 × 2, per million.
    assert cost_of(title) == (Decimal("0.001020"), "USD")
    assert cost_of(later) == (None, "")


def test_recost_clears_a_cost_whose_price_was_deleted(alice):
    reply = make_reply(alice, created_at=at("2025-03-10"), input_tokens=5, cost="1.000000")
    recost("--start", "2025-03-10", "--end", "2025-03-10")
    assert cost_of(reply) == (None, "")


def test_dry_run_writes_nothing(alice):
    add_price("qwen-plus", "2025-01-01", input_price="1")
    reply = make_reply(alice, created_at=at("2025-03-10"), input_tokens=1000)
    assert "would change the cost of 1" in recost(
        "--start", "2025-03-01", "--end", "2025-03-31", "--dry-run"
    )
    assert cost_of(reply) == (None, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2025-03-31", "--end", "2025-03-01"], "is after end"),
        (
            ["--start", "March", "--end", "2025-03-01"],
            "The first day must be a date written YYYY-MM-DD",
        ),
    ],
)
def test_recost_refuses_a_bad_range(db, args, message):
    with pytest.raises(CommandError, match=message):
        recost(*args)
