"""The policy in force for a user: their groups' policies merged, over the deployment defaults.

Each value of a group's policy that is empty falls back to the deployment default
(settings ``PONDER_*``). A user in several groups gets the most generous value of each:
the union of allowed models, the highest caps, the largest budgets ("no limit" beats any
number). A user's own ``monthly_token_quota``, when set, is their token budget whatever
their groups say. Group-wide budgets apply while *every* group of the user has one: a
user may send as long as one of those groups has room.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings

from .models import GroupPolicy, User

_N = TypeVar("_N", int, Decimal)


@dataclass(frozen=True, slots=True)
class GroupBudget:
    """The budget of one group as a whole: tokens and money per month (None: no limit)."""

    group_id: int
    name: str
    monthly_tokens: int | None
    monthly_budget: Decimal | None


@dataclass(frozen=True, slots=True)
class Policy:
    allowed_models: frozenset[str] | None  # None: every model
    max_thinking_budget: int | None  # None: the model's own maximum
    max_active_replies: int
    monthly_tokens: int | None  # per member; None: no limit
    monthly_budget: Decimal | None  # per member, in settings.BUDGET_CURRENCY
    # The group-wide budgets; empty when any group of the user has none (or no group).
    group_budgets: tuple[GroupBudget, ...] = ()
    groups: tuple[str, ...] = ()

    def allows(self, model_id: str) -> bool:
        return self.allowed_models is None or model_id in self.allowed_models


def default_policy() -> Policy:
    allowed = settings.DEFAULT_ALLOWED_MODELS
    return Policy(
        allowed_models=frozenset(allowed) if allowed else None,
        max_thinking_budget=settings.DEFAULT_MAX_THINKING_BUDGET,
        max_active_replies=settings.MAX_ACTIVE_REPLIES,
        monthly_tokens=settings.DEFAULT_MONTHLY_TOKENS,
        monthly_budget=settings.DEFAULT_MONTHLY_BUDGET,
    )


def policy_for(user: User) -> Policy:
    """Return the policy in force for ``user`` now."""
    default = default_policy()
    policies = [
        (group.name, getattr(group, "policy", None))
        for group in user.groups.select_related("policy").order_by("name")
    ]
    names = tuple(name for name, _ in policies)
    if not policies:
        return with_own_quota(user, default)
    each = [p for _, p in policies]

    def values(name: str, default: Any) -> Iterator[Any]:
        """Each group's value of ``name``; an empty one is the deployment default."""
        for policy in each:
            value = getattr(policy, name) if policy is not None else None
            yield default if value in (None, []) else value

    merged = Policy(
        allowed_models=union(
            frozenset(models) if models is not None else None
            for models in values("allowed_models", default.allowed_models)
        ),
        max_thinking_budget=most(values("max_thinking_budget", default.max_thinking_budget)),
        max_active_replies=max(values("max_active_replies", default.max_active_replies)),
        monthly_tokens=most(values("member_monthly_tokens", default.monthly_tokens)),
        monthly_budget=most(values("member_monthly_budget", default.monthly_budget)),
        group_budgets=group_budgets(policies),
        groups=names,
    )
    return with_own_quota(user, merged)


def with_own_quota(user: User, policy: Policy) -> Policy:
    if user.monthly_token_quota is None:
        return policy
    return Policy(
        allowed_models=policy.allowed_models,
        max_thinking_budget=policy.max_thinking_budget,
        max_active_replies=policy.max_active_replies,
        monthly_tokens=user.monthly_token_quota,
        monthly_budget=policy.monthly_budget,
        group_budgets=policy.group_budgets,
        groups=policy.groups,
    )


def union(values: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    """Return every allowed model of any group; None (every model) wins."""
    result: frozenset[str] = frozenset()
    for value in values:
        if value is None:
            return None
        result |= value
    return result


def most(values: Iterable[_N | None]) -> _N | None:
    """Return the largest limit; None (no limit) wins."""
    result: _N | None = None
    for value in values:
        if value is None:
            return None
        result = value if result is None else max(result, value)
    return result


def group_budgets(policies: list[tuple[str, GroupPolicy | None]]) -> tuple[GroupBudget, ...]:
    budgets = []
    for _, policy in policies:
        if policy is None or (
            policy.group_monthly_tokens is None and policy.group_monthly_budget is None
        ):
            return ()  # a group without a group-wide budget: the most generous is none
        budgets.append(
            GroupBudget(
                group_id=policy.group_id,
                name=policy.group.name,
                monthly_tokens=policy.group_monthly_tokens,
                monthly_budget=policy.group_monthly_budget,
            )
        )
    return tuple(budgets)
