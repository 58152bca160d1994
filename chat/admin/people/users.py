"""Users and groups in the admin; quota, legal hold and group changes leave an audit trace."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import QuerySet
from django.forms import BaseFormSet, ModelForm
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.password.forms import SSOOnlyAdminAuthenticationForm
from chat.admin.people import policies
from chat.audit import Action, json_value, record

# PONDER_PASSWORD_LOGIN=0 refuses non-superusers' passwords here too (accounts.backends).
admin.site.login_form = SSOOnlyAdminAuthenticationForm

if TYPE_CHECKING:  # Django's admin classes are generic only in django-stubs
    _UserAdminBase = UserAdmin[User]
    _GroupAdminBase = GroupAdmin
else:
    _UserAdminBase = UserAdmin
    _GroupAdminBase = GroupAdmin

# A user's fields whose every change is audited, and the action each is recorded as.
AUDITED_USER_FIELDS = {
    "monthly_token_quota": Action.QUOTA_CHANGED,
    "legal_hold": Action.LEGAL_HOLD_CHANGED,
}


@admin.register(User)
class PonderUserAdmin(_UserAdminBase):
    # Django's UserAdmin sets fieldsets; the stubs allow None for any ModelAdmin.
    assert UserAdmin.fieldsets is not None
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Quota"), {"fields": ("monthly_token_quota",)}),
        (_("Policy in force and spend this month"), {"fields": ("policy_in_force", "spend")}),
        (_("Retention"), {"fields": ("legal_hold",)}),
    )
    readonly_fields = ("policy_in_force", "spend")
    list_display = ("username", "email", "is_staff", "is_active", "monthly_token_quota")
    list_filter = (*UserAdmin.list_filter, "legal_hold")

    @admin.display(description=_("Policy in force"))
    def policy_in_force(self, obj: User) -> SafeString:
        return policies.user_policy(obj) if obj.pk else SafeString("")

    @admin.display(description=_("This month"))
    def spend(self, obj: User) -> SafeString:
        return policies.user_spend(obj) if obj.pk else SafeString("")

    def save_model(
        self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        for name in AUDITED_USER_FIELDS.keys() & set(form.changed_data):
            record(
                AUDITED_USER_FIELDS[name],
                request=request,
                target_type="user",
                target_id=obj.pk,
                target_owner=obj,
                before=json_value(form.initial.get(name)),
                after=json_value(getattr(obj, name)),
            )

    def save_related(
        self,
        request: HttpRequest,
        form: ModelForm[User],
        formsets: list[BaseFormSet[Any]],
        change: bool,
    ) -> None:
        before = names(form.initial.get("groups", []))
        super().save_related(request, form, formsets, change)
        after = names(form.instance.groups.all())
        if before != after:
            record(
                Action.GROUP_CHANGED,
                request=request,
                target_type="user",
                target_id=form.instance.pk,
                target_owner=form.instance,
                added=sorted(after - before),
                removed=sorted(before - after),
            )


admin.site.unregister(Group)


@admin.register(Group)
class PonderGroupAdmin(_GroupAdminBase):
    inlines = (policies.GroupPolicyInline,)
    fields = ("name", "permissions", "members", "spend")
    readonly_fields = ("members", "spend")
    list_display = ("name", "member_count")

    @admin.display(description=_("Members"))
    def members(self, obj: Group) -> SafeString:
        return policies.group_members(obj) if obj.pk else SafeString("")

    @admin.display(description=_("This month"))
    def spend(self, obj: Group) -> SafeString:
        return policies.group_spend(obj) if obj.pk else SafeString("")

    @admin.display(description=_("Members"))
    def member_count(self, obj: Group) -> int:
        return obj.user_set.count()

    def save_formset(
        self, request: HttpRequest, form: ModelForm[Group], formset: Any, change: bool
    ) -> None:
        super().save_formset(request, form, formset, change)
        for policy_form in formset.forms:
            if policy_form.has_changed():
                policies.record_policy_change(request, policy_form, form.instance)

    def save_related(
        self,
        request: HttpRequest,
        form: ModelForm[Group],
        formsets: list[BaseFormSet[Any]],
        change: bool,
    ) -> None:
        # form.initial holds the group as it was before this save, permissions included.
        before = codenames(form.initial.get("permissions", []))
        super().save_related(request, form, formsets, change)
        group = form.instance
        after = codenames(group.permissions.all())
        if change and not form.changed_data:
            return
        renamed = change and "name" in form.changed_data
        policies.record_group(
            request,
            group,
            change="changed" if change else "created",
            **({"renamed_from": form.initial["name"]} if renamed else {}),
            permissions_added=sorted(after - before),
            permissions_removed=sorted(before - after),
        )

    def delete_model(self, request: HttpRequest, obj: Group) -> None:
        policies.record_group(request, obj, change="deleted")
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        for group in queryset:
            policies.record_group(request, group, change="deleted")
        super().delete_queryset(request, queryset)


def names(groups: Iterable[Group]) -> set[str]:
    return {group.name for group in groups}


def codenames(permissions: Iterable[Permission]) -> set[str]:
    return {permission.codename for permission in permissions}
