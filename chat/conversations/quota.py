"""Per-user monthly token quotas: input + output tokens of replies asked this month (UTC).

The quota is checked before a message is sent, against replies already written; a
reply still streaming counts with the tokens it has reported so far (none, until it
finishes), so a burst of parallel sends can go a little over a quota, never far.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import User
from chat.errors import QuotaExceeded
from chat.http import iso
from chat.models import Message


@dataclass(frozen=True, slots=True)
class Quota:
    monthly_tokens: int | None
    used_tokens: int
    resets_at: datetime

    @property
    def remaining_tokens(self) -> int | None:
        if self.monthly_tokens is None:
            return None
        return max(self.monthly_tokens - self.used_tokens, 0)

    @property
    def is_exhausted(self) -> bool:
        return self.remaining_tokens == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "monthly_tokens": self.monthly_tokens,
            "used_tokens": self.used_tokens,
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


def tokens_used(user: User, since: datetime) -> int:
    """Return the input + output tokens of the user's replies asked since ``since``."""
    used = Message.objects.filter(
        conversation__owner=user, role=Message.Role.ASSISTANT, created_at__gte=since
    ).aggregate(tokens=Sum(F("input_tokens") + F("output_tokens")))["tokens"]
    return used or 0


def get_quota(user: User, now: datetime | None = None) -> Quota:
    start, resets_at = month_bounds(now or timezone.now())
    return Quota(user.monthly_token_quota, tokens_used(user, start), resets_at)


def check_quota(user: User) -> None:
    """Raise QuotaExceeded when the user has used up this month's tokens."""
    if user.monthly_token_quota is None:
        return
    quota = get_quota(user)
    if quota.is_exhausted:
        raise QuotaExceeded(
            f"You have used {quota.used_tokens:,} of your {quota.monthly_tokens:,} tokens "
            f"this month. Your allowance resets on {quota.resets_at.day} "
            f"{quota.resets_at:%B %Y} (UTC); "
            "ask an administrator if you need more before then."
        )
