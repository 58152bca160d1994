"""Cost of a reply, by the seeds' billing rules (DIGEST.md §7), in Decimal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .models import ModelPrice

MICRO = Decimal("0.000001")
MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class Cost:
    amount: Decimal
    currency: str


def price_in_force(model: str, at: datetime) -> ModelPrice | None:
    """Return the price of ``model`` that was in force at ``at``, if any."""
    return (
        ModelPrice.objects.filter(model=model, effective_from__lte=at)
        .order_by("-effective_from")
        .first()
    )


def compute_cost(
    price: ModelPrice,
    *,
    input_tokens: int,
    output_tokens: int,
    reasoning_tokens: int,
    cached_tokens: int,
) -> Cost:
    """Return the cost of one reply.

    Reasoning tokens are already inside ``output_tokens`` and are billed as output. The
    thinking-mode output price applies only when the reply actually contains reasoning:
    a thinking-mode reply without reasoning is billed at the non-thinking price.
    """
    cached = min(cached_tokens, input_tokens)
    cached_price = price.cached_input_per_million
    if cached_price is None:
        cached_price = price.input_per_million
    output_price = price.output_per_million
    if reasoning_tokens > 0 and price.thinking_output_per_million is not None:
        output_price = price.thinking_output_per_million
    amount = (
        Decimal(input_tokens - cached) * price.input_per_million
        + Decimal(cached) * cached_price
        + Decimal(output_tokens) * output_price
    ) / MILLION
    return Cost(amount.quantize(MICRO), price.currency)
