from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User

if TYPE_CHECKING:  # Django's admin classes are generic only in django-stubs
    _UserAdminBase = UserAdmin[User]
else:
    _UserAdminBase = UserAdmin


@admin.register(User)
class PonderUserAdmin(_UserAdminBase):
    # Django's UserAdmin sets fieldsets; the stubs allow None for any ModelAdmin.
    assert UserAdmin.fieldsets is not None
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Quota", {"fields": ("monthly_token_quota",)}),
        ("Retention", {"fields": ("legal_hold",)}),
    )
    list_display = ("username", "email", "is_staff", "is_active", "monthly_token_quota")
    list_filter = (*UserAdmin.list_filter, "legal_hold")
