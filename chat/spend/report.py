"""Token spend per user, model or day, aggregated in the database (docs/api.md).

A *request* is one finished assistant reply (complete, cancelled, failed or
interrupted) that the model served, i.e. that used tokens: a reply refused before it
reached the model (a bad key, a rate limit, a connection refused) used none and is not
one. Replies still pending or streaming have no final usage yet and are left out. A
reply belongs to the day it was asked (``created_at``, UTC), the same instant its price
is chosen by. Costs are summed per currency, and replies whose model had no price when
they were asked (``cost`` is null) are counted as *unpriced*. Usage the upstream never
reported (a stopped or interrupted reply) was estimated from the text: such requests
are counted as *estimated*.

Generated conversation titles are requests too, made by Ponder for the user: grouped
by user or model they are lines of their own (``alice (titles)``, ``qwen-flash
(titles)``); grouped by day they are part of the day.

Every query groups in SQL; Python only folds the grouped rows (one per group and
currency) into one row per group.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any, Literal, cast

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext

from chat.errors import BadRequest
from chat.http import field_name
from chat.models import Message, TitleUsage

GroupBy = Literal["user", "model", "day"]
GROUPS: tuple[GroupBy, ...] = ("user", "model", "day")
DEFAULT_DAYS = 30
MAX_DAYS = 3660
CSV_HEADER = (
    "group",
    "requests",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cached_tokens",
    "cost",
    "estimated_requests",
)
TITLES_SUFFIX = " (titles)"
MICRO = Decimal("0.000001")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class SpendQuery:
    """A date range (both ends included, UTC days) and how to group it."""

    start: date
    end: date
    group_by: GroupBy = "day"

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the range."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def as_params(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "group_by": self.group_by,
        }


@dataclass(slots=True)
class SpendRow:
    """Usage of one group; ``costs`` maps a currency to the summed cost of priced requests."""

    key: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    unpriced_requests: int = 0
    estimated_requests: int = 0
    costs: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def is_fully_unpriced(self) -> bool:
        return self.requests > 0 and self.unpriced_requests == self.requests

    def add(self, other: SpendRow) -> None:
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.cached_tokens += other.cached_tokens
        self.unpriced_requests += other.unpriced_requests
        self.estimated_requests += other.estimated_requests
        for currency, amount in other.costs.items():
            self.costs[currency] = self.costs.get(currency, Decimal(0)) + amount

    def cost_text(self) -> str:
        """Return the cost for a CSV cell: a plain decimal, one per currency when mixed."""
        if len(self.costs) == 1:
            return str(next(iter(self.costs.values())))
        return "; ".join(f"{amount} {currency}" for currency, amount in sorted(self.costs.items()))


def parse_spend_query(params: Mapping[str, str], *, today: date) -> SpendQuery:
    """Return the query asked for by ``start``, ``end`` and ``group_by``; raise BadRequest.

    Missing values default to the last 30 days (ending today, UTC), grouped by day.
    """
    group_by = params.get("group_by") or "day"
    if group_by not in GROUPS:
        message = gettext("group_by must be one of %(choices)s; got %(value)s.") % {
            "choices": ", ".join(GROUPS),
            "value": repr(group_by),
        }
        raise BadRequest(message, field="group_by")
    end = parse_day(params, "end") or today
    start = parse_day(params, "start") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        message = gettext("start (%(start)s) is after end (%(end)s).") % {
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        raise BadRequest(message, field="start")
    if (end - start).days >= MAX_DAYS:
        message = gettext("The range is longer than %(limit)s days.") % {"limit": MAX_DAYS}
        raise BadRequest(message, field="start")
    return SpendQuery(start, end, group_by)


def parse_day(params: Mapping[str, str], name: str) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        if not ISO_DAY.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        message = gettext("%(field)s must be a date written YYYY-MM-DD; got %(value)s.") % {
            "field": field_name(name),
            "value": repr(value),
        }
        raise BadRequest(message, field=name) from None


SERVED = Q(input_tokens__gt=0) | Q(output_tokens__gt=0)


def finished_replies(query: SpendQuery) -> QuerySet[Message]:
    """Return the finished assistant replies asked within the range."""
    return Message.objects.filter(
        role=Message.Role.ASSISTANT,
        created_at__gte=query.since,
        created_at__lt=query.until,
        status__in=Message.FINISHED,
    )


def served_replies(query: SpendQuery) -> QuerySet[Message]:
    """Return the requests of the range: finished replies that used tokens."""
    return finished_replies(query).filter(SERVED)


def title_requests(query: SpendQuery) -> QuerySet[TitleUsage]:
    return TitleUsage.objects.filter(created_at__gte=query.since, created_at__lt=query.until)


GROUP_KEYS = {
    "user": F("conversation__owner__username"),
    "model": F("model"),
    "day": TruncDate("created_at", tzinfo=UTC),
}


def spend_rows(query: SpendQuery, group_by: GroupBy | None = None) -> list[SpendRow]:
    """Return one row per group: days in order, users and models by tokens, most first."""
    group_by = group_by or query.group_by
    rows: dict[str, SpendRow] = {}
    titles_suffix = "" if group_by == "day" else TITLES_SUFFIX
    for requests, suffix in (
        (served_replies(query), ""),
        (title_requests(query), titles_suffix),
    ):
        for part in grouped_usage(requests, group_by):
            key = part["key"].isoformat() if group_by == "day" else part["key"]
            key += suffix
            rows.setdefault(key, SpendRow(key)).add(spend_row(key, part))
    if group_by == "day":
        return sorted(rows.values(), key=lambda row: row.key)
    return sorted(rows.values(), key=lambda row: (-row.total_tokens, row.key))


def grouped_usage(
    requests: QuerySet[Message] | QuerySet[TitleUsage], group_by: GroupBy
) -> Iterable[dict[str, Any]]:
    """Sum usage in SQL, one row per group and currency."""
    grouped = (
        requests.annotate(key=GROUP_KEYS[group_by])
        .values("key", "cost_currency")
        .annotate(
            requests=Count("pk"),
            input=Sum("input_tokens"),
            output=Sum("output_tokens"),
            reasoning=Sum("reasoning_tokens"),
            cached=Sum("cached_tokens"),
            cost_sum=Sum("cost"),
            unpriced=Count("pk", filter=Q(cost__isnull=True)),
            estimated=Count("pk", filter=Q(usage_estimated=True)),
        )
        .order_by()
    )
    return cast(Iterable[dict[str, Any]], grouped)


def spend_row(key: str, part: dict[str, Any]) -> SpendRow:
    return SpendRow(
        key,
        requests=part["requests"],
        input_tokens=part["input"] or 0,
        output_tokens=part["output"] or 0,
        reasoning_tokens=part["reasoning"] or 0,
        cached_tokens=part["cached"] or 0,
        unpriced_requests=part["unpriced"],
        estimated_requests=part["estimated"],
        costs=money(part["cost_currency"], part["cost_sum"]),
    )


def money(currency: str, amount: Decimal | None) -> dict[str, Decimal]:
    """Return ``{currency: amount}`` to the micro-unit; SQLite sums decimals as floats."""
    return {} if amount is None else {currency: Decimal(amount).quantize(MICRO)}


def total(rows: Iterable[SpendRow]) -> SpendRow:
    """Return the sum of grouped rows (each request is in exactly one group)."""
    result = SpendRow("total")
    for row in rows:
        result.add(row)
    return result


def write_csv(rows: Iterable[SpendRow], out: IO[str]) -> None:
    """Write the CSV of docs/api.md: the header, then one line per group."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            [
                csv_safe(row.key),
                row.requests,
                row.input_tokens,
                row.output_tokens,
                row.reasoning_tokens,
                row.cached_tokens,
                row.cost_text(),
                row.estimated_requests,
            ]
        )


def csv_safe(text: str) -> str:
    """Return text a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
