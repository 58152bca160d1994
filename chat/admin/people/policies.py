"""Group policies in the admin: the form on each group, and what is in force this month.

Every change of a policy is audited (``policy_changed``, with the values before and after).
The summaries (members, policy in force, spend against budget) are read-only fields of
the group and user change pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import GroupPolicy, User
from accounts.policy import GroupBudget, Policy, policy_for
from chat import l10n
from chat.audit import Action, json_value, record
from chat.fairuse.quota import Allowance, get_quota, group_usage, month_bounds
from chat.upstream.catalog import MODELS

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
        help_text=_(
            "Models the members may use. None selected: every model. Ctrl/⌘-click to pick several."
        ),
    )

    class Meta:
        model = GroupPolicy
        fields = POLICY_FIELDS


class GroupPolicyInline(_InlineBase):
    model = GroupPolicy
    form = GroupPolicyForm
    can_delete = True
    verbose_name = _("policy")
    verbose_name_plural = _("policy (empty fields: the deployment default)")


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
    models = ", ".join(sorted(policy.allowed_models)) if policy.allowed_models else gettext("all")
    money = policy.monthly_budget
    rows = [
        (gettext("Groups"), ", ".join(policy.groups) or gettext("none (deployment defaults)")),
        (gettext("Models"), models),
        (gettext("Thinking budget cap"), tokens_text(policy.max_thinking_budget)),
        (gettext("Replies at once"), str(policy.max_active_replies)),
        (gettext("Tokens per month"), tokens_text(policy.monthly_tokens)),
        (
            gettext("Money per month"),
            gettext("no limit") if money is None else l10n.money(money, settings.BUDGET_CURRENCY),
        ),
    ]
    return table(rows)


def tokens_text(value: int | None) -> str:
    if value is None:
        return gettext("no limit")
    return ngettext("%(count)s token", "%(count)s tokens", value) % {"count": l10n.grouped(value)}


def allowance_text(allowance: Allowance[Any], currency: str | None = None) -> str:
    """Return "1,000 of 9,000 tokens (8,000 left)", or in money with ``currency``."""
    values = {
        "used": l10n.grouped(allowance.used + allowance.reserved),
        "limit": l10n.grouped(allowance.limit or 0),
        "left": l10n.grouped(allowance.remaining or 0),
        "currency": currency,
    }
    if currency is None and allowance.limit is None:
        return gettext("%(used)s tokens (no limit)") % values
    if currency is None:
        return gettext("%(used)s of %(limit)s tokens (%(left)s left)") % values
    if allowance.limit is None:
        return gettext("%(used)s %(currency)s (no limit)") % values
    return gettext("%(used)s of %(limit)s %(currency)s (%(left)s left)") % values


def resets_text(resets_at: datetime) -> str:
    return gettext("%(day)s (UTC)") % {"day": f"{resets_at:%Y-%m-%d}"}


def user_spend(user: User) -> SafeString:
    quota = get_quota(user)
    return table(
        [
            (gettext("Tokens"), allowance_text(quota.tokens)),
            (gettext("Money"), allowance_text(quota.money, settings.BUDGET_CURRENCY)),
            (gettext("Resets"), resets_text(quota.resets_at)),
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
            (gettext("Tokens (all members)"), allowance_text(usage.tokens)),
            (
                gettext("Money (all members)"),
                allowance_text(usage.money, settings.BUDGET_CURRENCY),
            ),
            (gettext("Resets"), resets_text(resets_at)),
        ]
    )


def group_members(group: Group) -> SafeString:
    members = User.objects.filter(groups=group).order_by("username")
    if not members.exists():
        return format_html("{}", gettext("no members"))
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
