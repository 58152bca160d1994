"""Re-cost stored usage in a date range with the prices in force when each was asked.

Nothing else ever changes a stored cost: a price saved in the admin applies to
requests asked from then on. ``recost`` is the one way to apply it to the past, run
from the admin ("Re-cost a range") or by ``python manage.py recost`` for scripts.
Both finished replies and generated titles are re-costed (both are billed requests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import QuerySet

from chat.models import Message, TitleUsage

from .pricing import PriceBook
from .report import SpendQuery, finished_replies, title_requests

BATCH = 2000
COST_FIELDS = ("cost", "cost_currency")
LOADED_FIELDS = (
    "id", "model", "created_at", "input_tokens", "output_tokens",
    "reasoning_tokens", "cached_tokens", "cost", "cost_currency",
)  # fmt: skip

Usage = TypeVar("Usage", Message, TitleUsage)


@dataclass(slots=True)
class Tally:
    """What re-costing one kind of request found: how many, changed, unpriced, by how much."""

    seen: int = 0
    changed: int = 0
    unpriced: int = 0
    # Per currency, the new costs minus the old ones (a cost moving currency counts in both).
    difference: dict[str, Decimal] = field(default_factory=dict)

    def count(self, old: tuple[Decimal | None, str], new: tuple[Decimal | None, str]) -> None:
        self.changed += 1
        for (amount, currency), sign in ((old, -1), (new, 1)):
            if amount is not None:
                self.difference[currency] = self.difference.get(currency, Decimal(0)) + (
                    sign * amount
                )


@dataclass(frozen=True, slots=True)
class RecostResult:
    """The outcome of one run; with ``dry_run`` nothing was written."""

    start: date
    end: date
    model: str | None
    dry_run: bool
    replies: Tally
    titles: Tally

    @property
    def changed(self) -> int:
        return self.replies.changed + self.titles.changed

    @property
    def difference(self) -> dict[str, Decimal]:
        """Return the change of the range's total cost, per currency, zeros left out."""
        total: dict[str, Decimal] = {}
        for tally in (self.replies, self.titles):
            for currency, amount in tally.difference.items():
                total[currency] = total.get(currency, Decimal(0)) + amount
        return {currency: amount for currency, amount in sorted(total.items()) if amount}

    def as_detail(self) -> dict[str, Any]:
        """Return the audit entry's detail: the range, the model and what changed."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "model": self.model or "",
            "changed": {"replies": self.replies.changed, "titles": self.titles.changed},
            "difference": {currency: str(amount) for currency, amount in self.difference.items()},
        }


def recost(
    start: date, end: date, model: str | None = None, *, dry_run: bool = False
) -> RecostResult:
    """Re-cost the finished replies and titles asked from ``start`` to ``end`` (UTC, both in).

    Each is costed by the price of its model in force when it was asked; one with no
    price loses its cost (it is unpriced). With ``model``, only that model's requests.
    """
    if start > end:
        raise ValueError(f"start ({start}) is after end ({end})")
    query = SpendQuery(start, end)
    replies, titles = finished_replies(query), title_requests(query)
    if model:
        replies, titles = replies.filter(model=model), titles.filter(model=model)
    book = PriceBook.load([model] if model else None)
    return RecostResult(
        start,
        end,
        model or None,
        dry_run,
        replies=recost_queryset(replies, book, dry_run=dry_run),
        titles=recost_queryset(titles, book, dry_run=dry_run),
    )


def recost_queryset(requests: QuerySet[Usage], book: PriceBook, *, dry_run: bool) -> Tally:
    """Re-cost every request of the queryset, saving changed costs in batches."""
    tally = Tally()
    pending: list[Usage] = []
    rows = requests.only(*LOADED_FIELDS).order_by("created_at", "id").iterator(chunk_size=BATCH)
    for usage in rows:
        tally.seen += 1
        cost = book.cost(
            usage.model,
            usage.created_at.astimezone(UTC),
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            cached_tokens=usage.cached_tokens,
        )
        new = (cost.amount, cost.currency) if cost else (None, "")
        tally.unpriced += cost is None
        old = (usage.cost, usage.cost_currency)
        if old == new:
            continue
        tally.count(old, new)
        if dry_run:
            continue
        usage.cost, usage.cost_currency = new
        pending.append(usage)
        if len(pending) >= BATCH:
            save_costs(pending)
            pending = []
    save_costs(pending)
    return tally


def save_costs(requests: list[Usage]) -> None:
    if not requests:
        return
    with transaction.atomic():
        type(requests[0]).objects.bulk_update(requests, COST_FIELDS, batch_size=500)
