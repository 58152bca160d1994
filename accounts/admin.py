from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class PonderUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Quota", {"fields": ("monthly_token_quota",)}))
    list_display = ("username", "email", "is_staff", "is_active", "monthly_token_quota")
