"""Per-user monthly token quotas: input + output tokens of replies asked this month (UTC).

A reply counts with its stored usage once it ended (0 for one the model never served),
and with the tokens it *reserved* at send while it is pending or streaming; so a burst of
parallel sends is refused once their reservations fill the allowance (fairuse.py).
Title generation is the system's spending, reported in the spend report but not here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Q, Sum
from django.utils import timezone

from accounts.models import User
from chat.errors import QuotaExceeded
from chat.http import iso
from chat.models import Message


@dataclass(frozen=True, slots=True)
class Quota:
    monthly_tokens: int | None
    used_tokens: int  # by replies that ended
    resets_at: datetime
    reserved_tokens: int = 0  # held by replies still pending or streaming

    @property
    def remaining_tokens(self) -> int | None:
        if self.monthly_tokens is None:
            return None
        return max(self.monthly_tokens - self.used_tokens - self.reserved_tokens, 0)

    @property
    def is_exhausted(self) -> bool:
        return self.remaining_tokens == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "monthly_tokens": self.monthly_tokens,
            "used_tokens": self.used_tokens,
            "reserved_tokens": self.reserved_tokens,
            "remaining_tokens": self.remaining_tokens,
            "resets_at": iso(self.resets_at),
        }


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Return the first instant of ``now``'s calendar month (UTC) and of the next one."""
    now = now.astimezone(UTC)
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    if now.month == 12:
        return start, datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return start, datetime(now.year, now.month + 1, 1, tzinfo=UTC)


IN_FLIGHT = (Message.Status.PENDING, Message.Status.STREAMING)
IN_FLIGHT_RETRY_AFTER_SECONDS = 30


def tokens_used(user: User, since: datetime) -> tuple[int, int]:
    """Return the tokens of the user's replies asked since ``since``: used, and reserved."""
    totals = Message.objects.filter(
        conversation__owner=user, role=Message.Role.ASSISTANT, created_at__gte=since
    ).aggregate(
        used=Sum(F("input_tokens") + F("output_tokens")),
        reserved=Sum("reserved_tokens", filter=Q(status__in=IN_FLIGHT)),
    )
    return totals["used"] or 0, totals["reserved"] or 0


def get_quota(user: User, now: datetime | None = None) -> Quota:
    start, resets_at = month_bounds(now or timezone.now())
    used, reserved = tokens_used(user, start)
    return Quota(user.monthly_token_quota, used, resets_at, reserved)


def check_quota(user: User, *, reserve: int = 0) -> None:
    """Raise QuotaExceeded unless ``reserve`` more tokens fit in this month's allowance."""
    if user.monthly_token_quota is None:
        return
    now = timezone.now()
    quota = get_quota(user, now)
    remaining = quota.remaining_tokens or 0
    if quota.is_exhausted:
        raise QuotaExceeded(
            f"You have used {quota.used_tokens + quota.reserved_tokens:,} of your "
            f"{quota.monthly_tokens:,} tokens this month. {resets(quota)}",
            retry_after=math.ceil((quota.resets_at - now).total_seconds()),
        )
    if reserve > remaining:
        in_flight = quota.reserved_tokens > 0
        raise QuotaExceeded(
            f"This message may use about {reserve:,} tokens and you have {remaining:,} left "
            "this month"
            + (", counting replies still being written" if in_flight else "")
            + f". Try a shorter conversation or a smaller thinking budget. {resets(quota)}",
            retry_after=IN_FLIGHT_RETRY_AFTER_SECONDS
            if in_flight
            else math.ceil((quota.resets_at - now).total_seconds()),
        )


def resets(quota: Quota) -> str:
    return (
        f"Your allowance resets on {quota.resets_at.day} {quota.resets_at:%B %Y} (UTC); "
        "ask an administrator if you need more before then."
    )
