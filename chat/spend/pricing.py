"""Cost of a reply, by the seeds' billing rules (DIGEST.md §7), in Decimal."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from chat.models import ModelPrice

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


class PriceBook:
    """Every price of some models, loaded once, to cost many messages without a query each."""

    def __init__(self, prices: list[ModelPrice]) -> None:
        self._by_model: dict[str, list[ModelPrice]] = {}
        for price in sorted(prices, key=lambda p: (p.model, p.effective_from)):
            self._by_model.setdefault(price.model, []).append(price)
        self._starts = {
            model: [p.effective_from for p in prices] for model, prices in self._by_model.items()
        }

    @classmethod
    def load(cls, models: list[str] | None = None) -> PriceBook:
        prices = ModelPrice.objects.all()
        if models is not None:
            prices = prices.filter(model__in=models)
        return cls(list(prices))

    def in_force(self, model: str, at: datetime) -> ModelPrice | None:
        """Return the price of ``model`` in force at ``at`` (as ``price_in_force`` does)."""
        starts = self._starts.get(model)
        if not starts:
            return None
        index = bisect.bisect_right(starts, at)
        return self._by_model[model][index - 1] if index else None

    def cost(
        self,
        model: str,
        at: datetime,
        *,
        input_tokens: int,
        output_tokens: int,
        reasoning_tokens: int,
        cached_tokens: int,
    ) -> Cost | None:
        """Return the cost of a reply by the price in force when it was asked; None if unpriced."""
        price = self.in_force(model, at)
        if price is None:
            return None
        return compute_cost(
            price,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            reasoning_tokens=reasoning_tokens,
            cached_tokens=cached_tokens,
        )
