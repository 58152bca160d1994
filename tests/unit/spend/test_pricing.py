"""Cost maths of DIGEST.md §7, on prices made up for the tests (Ponder ships none)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from chat.models import ModelPrice
from chat.spend.pricing import PriceBook, compute_cost


def price(**overrides) -> ModelPrice:
    values = {
        "model": "qwen-plus",
        "currency": "USD",
        "input_per_million": Decimal("0.4"),
        "cached_input_per_million": Decimal("0.08"),
        "output_per_million": Decimal("1.2"),
        "thinking_output_per_million": Decimal("4"),
        "effective_from": datetime(2025, 1, 1, tzinfo=UTC),
    }
    return ModelPrice(**{**values, **overrides})


def cost(p: ModelPrice, **usage) -> Decimal:
    usage = {
        "input_tokens": 0,
        "output_tokens": 0,
        "reasoning_tokens": 0,
        "cached_tokens": 0,
    } | usage
    return compute_cost(p, **usage).amount


def test_reply_with_reasoning_pays_the_thinking_price_for_all_output():
    # 1000 in × 0.4 + 3000 out (2000 of them reasoning) × 4, per million.
    assert cost(price(), input_tokens=1000, output_tokens=3000, reasoning_tokens=2000) == Decimal(
        "0.012400"
    )


def test_thinking_reply_without_reasoning_pays_the_non_thinking_price():
    assert cost(price(), input_tokens=1000, output_tokens=3000, reasoning_tokens=0) == Decimal(
        "0.004000"
    )


def test_model_without_a_thinking_price_bills_reasoning_at_the_output_price():
    p = price(thinking_output_per_million=None)
    assert cost(p, output_tokens=3000, reasoning_tokens=2000) == Decimal("0.003600")


def test_cached_input_tokens_pay_the_cached_price():
    # 400 uncached × 0.4 + 600 cached × 0.08, per million.
    assert cost(price(), input_tokens=1000, cached_tokens=600) == Decimal("0.000208")


def test_cached_input_without_a_cached_price_pays_the_input_price():
    p = price(cached_input_per_million=None)
    assert cost(p, input_tokens=1000, cached_tokens=600) == Decimal("0.000400")


def test_cached_count_above_input_count_is_capped():
    assert cost(price(), input_tokens=100, cached_tokens=500) == Decimal("0.000008")


def test_cost_is_a_decimal_rounded_to_millionths_in_the_price_currency():
    result = compute_cost(
        price(currency="CNY"),
        input_tokens=1,
        output_tokens=1,
        reasoning_tokens=0,
        cached_tokens=0,
    )
    assert result.currency == "CNY"
    assert result.amount == Decimal("0.000002")  # 0.0000016 rounded
    assert result.amount.as_tuple().exponent == -6


def test_price_book_picks_the_price_in_force_at_the_time():
    january = price(effective_from=datetime(2025, 1, 1, tzinfo=UTC))
    march = price(effective_from=datetime(2025, 3, 1, tzinfo=UTC), input_per_million=Decimal(1))
    other = price(model="qwq-plus", effective_from=datetime(2024, 1, 1, tzinfo=UTC))
    book = PriceBook([march, other, january])
    assert book.in_force("qwen-plus", datetime(2024, 12, 31, 23, 59, tzinfo=UTC)) is None
    assert book.in_force("qwen-plus", datetime(2025, 1, 1, tzinfo=UTC)) is january
    assert book.in_force("qwen-plus", datetime(2025, 2, 28, 23, 59, tzinfo=UTC)) is january
    assert book.in_force("qwen-plus", datetime(2025, 3, 1, tzinfo=UTC)) is march
    assert book.in_force("qwen-max", datetime(2025, 3, 1, tzinfo=UTC)) is None
    spent = book.cost(
        "qwen-plus",
        datetime(2025, 3, 2, tzinfo=UTC),
        input_tokens=1000,
        output_tokens=0,
        reasoning_tokens=0,
        cached_tokens=0,
    )
    assert spent is not None and spent.amount == Decimal("0.001000")
