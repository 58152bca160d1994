"""Group policies in the admin: the form on each group, and what is in force this month.

Every change of a policy is audited (``policy_changed``, with the values before and after).
The summaries (members, policy in force, spend against budget) are read-only fields of
the group and user change pages.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from chat.audit import Action, json_value, record
from chat.conversations.quota import Allowance, get_quota, group_usage, month_bounds
from chat.upstream.catalog import MODELS

from .models import GroupPolicy, User
from .policy import GroupBudget, Policy, policy_for

if TYPE_CHECKING:  # generic only in django-stubs
    _InlineBase = admin.StackedInline[GroupPolicy, Group]
    _PolicyFormBase = forms.ModelForm[GroupPolicy]
else:
    _InlineBase = admin.StackedInline
    _PolicyFormBase = forms.ModelForm

POLICY_FIELDS = (
    "allowed_models",
    "max_thinking_budget",
    "max_active_replies",
    "member_monthly_tokens",
    "member_monthly_budget",
    "group_monthly_tokens",
    "group_monthly_budget",
)


class GroupPolicyForm(_PolicyFormBase):
    allowed_models = forms.MultipleChoiceField(
        choices=[(model.id, f"{model.label} ({model.id})") for model in MODELS],
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 14}),
        help_text="Models the members may use. None selected: every model. "
        "Ctrl/⌘-click to pick several.",
    )

    class Meta:
        model = GroupPolicy
        fields = POLICY_FIELDS


class GroupPolicyInline(_InlineBase):
    model = GroupPolicy
    form = GroupPolicyForm
    can_delete = True
    verbose_name = "policy"
    verbose_name_plural = "policy (empty fields: the deployment default)"


def record_policy_change(request: HttpRequest, form: forms.ModelForm[Any], group: Group) -> None:
    """Audit one saved or deleted policy form, with the changed values before and after."""
    deleted = bool(form.cleaned_data.get("DELETE"))
    changed = [name for name in form.changed_data if name in POLICY_FIELDS]
    if not deleted and not changed:
        return
    names = POLICY_FIELDS if deleted else changed
    record_group(
        request,
        group,
        Action.POLICY_CHANGED,
        change="deleted" if deleted else ("changed" if form.initial else "created"),
        before={name: value_of(form.initial.get(name)) for name in names},
        after={} if deleted else {name: value_of(form.cleaned_data.get(name)) for name in names},
    )


def record_group(
    request: HttpRequest, group: Group, action: Action = Action.GROUP_CHANGED, **detail: Any
) -> None:
    record(
        action,
        request=request,
        target_type="group",
        target_id=group.pk,
        group=group.name,
        **detail,
    )


def value_of(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else json_value(value)


# --- read-only summaries ---------------------------------------------------------------------


def describe_policy(policy: Policy) -> SafeString:
    currency = settings.BUDGET_CURRENCY
    rows = [
        ("Groups", ", ".join(policy.groups) or "none (deployment defaults)"),
        ("Models", ", ".join(sorted(policy.allowed_models)) if policy.allowed_models else "all"),
        ("Thinking budget cap", limit_text(policy.max_thinking_budget, "tokens")),
        ("Replies at once", str(policy.max_active_replies)),
        ("Tokens per month", limit_text(policy.monthly_tokens, "tokens")),
        ("Money per month", limit_text(policy.monthly_budget, currency)),
    ]
    return table(rows)


def limit_text(value: int | Decimal | None, unit: str) -> str:
    if value is None:
        return "no limit"
    return f"{value:,} {unit}"


def allowance_text(allowance: Allowance[Any], unit: str) -> str:
    used = allowance.used + allowance.reserved
    if allowance.limit is None:
        return f"{used:,} {unit} (no limit)"
    return f"{used:,} of {allowance.limit:,} {unit} ({allowance.remaining:,} left)"


def user_spend(user: User) -> SafeString:
    quota = get_quota(user)
    return table(
        [
            ("Tokens", allowance_text(quota.tokens, "tokens")),
            ("Money", allowance_text(quota.money, settings.BUDGET_CURRENCY)),
            ("Resets", f"{quota.resets_at:%Y-%m-%d} (UTC)"),
        ]
    )


def group_spend(group: Group) -> SafeString:
    policy = getattr(group, "policy", None)
    budget = GroupBudget(
        group_id=group.pk,
        name=group.name,
        monthly_tokens=policy.group_monthly_tokens if policy else None,
        monthly_budget=policy.group_monthly_budget if policy else None,
    )
    start, resets_at = month_bounds(timezone.now())
    usage = group_usage(budget, start)
    return table(
        [
            ("Tokens (all members)", allowance_text(usage.tokens, "tokens")),
            ("Money (all members)", allowance_text(usage.money, settings.BUDGET_CURRENCY)),
            ("Resets", f"{resets_at:%Y-%m-%d} (UTC)"),
        ]
    )


def group_members(group: Group) -> SafeString:
    members = User.objects.filter(groups=group).order_by("username")
    if not members.exists():
        return format_html("{}", "no members")
    return format_html_join(
        ", ",
        '<a href="../../../accounts/user/{}/change/">{}</a>',
        ((user.pk, user.get_username()) for user in members[:500]),
    )


def user_policy(user: User) -> SafeString:
    return describe_policy(policy_for(user))


def table(rows: list[tuple[str, str]]) -> SafeString:
    return format_html(
        '<table class="policy-summary">{}</table>',
        format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
    )
