"""Monthly allowances: tokens and money, of each user and of groups as a whole (UTC months).

The limits come from the policy in force (accounts/policy.py). A reply counts with its
stored usage and cost once it ended (0 for one the model never served), and with what it
*reserved* at send while it is pending or streaming; so a burst of parallel sends is
refused once their reservations fill an allowance (admission.py). Money counts the costs
in the budget currency (``PONDER_BUDGET_CURRENCY``); a model without a price costs
nothing against a money budget. Title generation is Ponder's own spending, reported in
the spend report but not counted here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from accounts.models import User
from accounts.policy import GroupBudget, Policy, policy_for
from chat import l10n
from chat.errors import QuotaExceeded
from chat.http import iso
from chat.models import Message

IN_FLIGHT = (Message.Status.PENDING, Message.Status.STREAMING)
IN_FLIGHT_RETRY_AFTER_SECONDS = 30
CENT = Decimal("0.01")

_N = TypeVar("_N", int, Decimal)


@dataclass(frozen=True, slots=True)
class Allowance(Generic[_N]):
    """One monthly limit (None: no limit), what ended replies used, what others reserve."""

    limit: _N | None
    used: _N
    reserved: _N

    @property
    def remaining(self) -> _N | None:
        if self.limit is None:
            return None
        left = self.limit - self.used - self.reserved
        return left if left > 0 else self.limit * 0

    @property
    def is_exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def holds(self, more: _N) -> bool:
        return self.remaining is None or more <= self.remaining


@dataclass(frozen=True, slots=True)
class MonthUsage:
    tokens: Allowance[int]
    money: Allowance[Decimal]


@dataclass(frozen=True, slots=True)
class Quota:
    """A user's own allowances this month, for ``GET /api/me/`` and the checks."""

    tokens: Allowance[int]
    money: Allowance[Decimal]
    resets_at: datetime

    # The token figures under the names the API has always used.
    @property
    def monthly_tokens(self) -> int | None:
        return self.tokens.limit

    @property
    def used_tokens(self) -> int:
        return self.tokens.used

    @property
    def reserved_tokens(self) -> int:
        return self.tokens.reserved

    @property
    def remaining_tokens(self) -> int | None:
        return self.tokens.remaining

    def as_json(self) -> dict[str, Any]:
        return {
            "monthly_tokens": self.tokens.limit,
            "used_tokens": self.tokens.used,
            "reserved_tokens": self.tokens.reserved,
            "remaining_tokens": self.tokens.remaining,
            "resets_at": iso(self.resets_at),
        }

    def budget_json(self) -> dict[str, Any]:
        """The money side: amounts as decimal strings, in the budget currency."""

        def text(amount: Decimal | None) -> str | None:
            return None if amount is None else str(amount.quantize(CENT))

        return {
            "currency": settings.BUDGET_CURRENCY,
            "monthly": text(self.money.limit),
            "spent": text(self.money.used),
            "reserved": text(self.money.reserved),
            "remaining": text(self.money.remaining),
            "resets_at": iso(self.resets_at),
        }


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Return the first instant of ``now``'s calendar month (UTC) and of the next one."""
    now = now.astimezone(UTC)
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    if now.month == 12:
        return start, datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return start, datetime(now.year, now.month + 1, 1, tzinfo=UTC)


def month_usage(
    replies: QuerySet[Message], token_limit: int | None, money_limit: Decimal | None
) -> MonthUsage:
    """Sum tokens and money of ``replies`` (this month's, of some owners) in one query."""
    in_flight = Q(status__in=IN_FLIGHT)
    totals = replies.aggregate(
        tokens=Sum(F("input_tokens") + F("output_tokens")),
        reserved_tokens=Sum("reserved_tokens", filter=in_flight),
        cost=Sum("cost", filter=Q(cost_currency=settings.BUDGET_CURRENCY)),
        reserved_cost=Sum("reserved_cost", filter=in_flight),
    )
    return MonthUsage(
        tokens=Allowance(token_limit, totals["tokens"] or 0, totals["reserved_tokens"] or 0),
        money=Allowance(money_limit, money(totals["cost"]), money(totals["reserved_cost"])),
    )


def money(amount: Decimal | float | None) -> Decimal:
    """Return an amount to the micro-unit; SQLite sums decimals as floats."""
    return Decimal(str(amount or 0)).quantize(Decimal("0.000001"))


def replies_since(since: datetime) -> QuerySet[Message]:
    return Message.objects.filter(role=Message.Role.ASSISTANT, created_at__gte=since)


def get_quota(user: User, now: datetime | None = None, policy: Policy | None = None) -> Quota:
    policy = policy or policy_for(user)
    start, resets_at = month_bounds(now or timezone.now())
    usage = month_usage(
        replies_since(start).filter(conversation__owner=user),
        policy.monthly_tokens,
        policy.monthly_budget,
    )
    return Quota(usage.tokens, usage.money, resets_at)


def group_usage(budget: GroupBudget, since: datetime) -> MonthUsage:
    """What the group's current members used this month, against the group's budget."""
    return month_usage(
        replies_since(since).filter(conversation__owner__groups=budget.group_id),
        budget.monthly_tokens,
        budget.monthly_budget,
    )


def check_quota(
    user: User,
    *,
    reserve: int = 0,
    reserve_cost: Decimal | None = None,
    policy: Policy | None = None,
) -> None:
    """Raise QuotaExceeded unless a reply reserving this much fits every allowance."""
    policy = policy or policy_for(user)
    now = timezone.now()
    quota = get_quota(user, now, policy)
    cost = reserve_cost or Decimal(0)
    until_reset = math.ceil((quota.resets_at - now).total_seconds())
    if quota.tokens.is_exhausted:
        raise QuotaExceeded(
            gettext("You have used %(used)s of your %(limit)s tokens this month. %(resets)s")
            % refusal_values(quota, reserve, cost),
            retry_after=until_reset,
        )
    if quota.money.is_exhausted:
        raise QuotaExceeded(
            gettext("You have spent %(spent)s of your %(budget)s this month. %(resets)s")
            % refusal_values(quota, reserve, cost),
            code="budget_exceeded",
            retry_after=until_reset,
        )
    retry = IN_FLIGHT_RETRY_AFTER_SECONDS if quota.tokens.reserved else until_reset
    if not quota.tokens.holds(reserve):
        if quota.tokens.reserved:
            message = gettext(
                "This message may use about %(tokens)s tokens and you have %(tokens_left)s "
                "left this month, counting replies still being written. Try a shorter "
                "conversation or a smaller thinking budget. %(resets)s"
            )
        else:
            message = gettext(
                "This message may use about %(tokens)s tokens and you have %(tokens_left)s "
                "left this month. Try a shorter conversation or a smaller thinking budget. "
                "%(resets)s"
            )
        raise QuotaExceeded(message % refusal_values(quota, reserve, cost), retry_after=retry)
    if not quota.money.holds(cost):
        raise QuotaExceeded(
            gettext(
                "This message may cost about %(cost)s and you have %(money_left)s left this "
                "month. Try a shorter conversation, a smaller thinking budget or a cheaper "
                "model. %(resets)s"
            )
            % refusal_values(quota, reserve, cost),
            code="budget_exceeded",
            retry_after=retry,
        )
    check_group_budgets(policy, reserve, cost, quota.resets_at, until_reset)


def refusal_values(quota: Quota, reserve: int, cost: Decimal) -> dict[str, str]:
    """Return what a refusal's message says, written in the active language."""
    return {
        "used": l10n.grouped(quota.tokens.used + quota.tokens.reserved),
        "limit": l10n.grouped(quota.tokens.limit or 0),
        "spent": amount(quota.money.used + quota.money.reserved),
        "budget": amount(quota.money.limit),
        "tokens": l10n.grouped(reserve),
        "tokens_left": l10n.grouped(quota.tokens.remaining or 0),
        "cost": amount(cost),
        "money_left": amount(quota.money.remaining),
        "resets": resets(quota.resets_at),
    }


def check_group_budgets(
    policy: Policy, reserve: int, cost: Decimal, resets_at: datetime, retry_after: int
) -> None:
    """Pass when one of the user's groups has room (the most generous group wins)."""
    if not policy.group_budgets:
        return
    start, _ = month_bounds(timezone.now())
    full = []
    for budget in policy.group_budgets:
        usage = group_usage(budget, start)
        if usage.tokens.holds(reserve) and usage.money.holds(cost):
            return
        full.append(budget.name)
    message = ngettext(
        "Your group %(groups)s has used this month's budget. %(resets)s",
        "Your groups %(groups)s have used this month's budget. %(resets)s",
        len(full),
    )
    raise QuotaExceeded(
        message % {"groups": ", ".join(full), "resets": resets(resets_at)},
        code="group_budget_exceeded",
        retry_after=retry_after,
    )


def amount(value: Decimal | None) -> str:
    return l10n.money((value or Decimal(0)).quantize(CENT), settings.BUDGET_CURRENCY)


def resets(resets_at: datetime) -> str:
    message = gettext(
        "Your allowance resets on %(day)s (UTC); ask an administrator if you need more before then."
    )
    return message % {"day": l10n.long_day(resets_at)}
