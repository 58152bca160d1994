from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm

from .models import User

if TYPE_CHECKING:  # Django's form classes are generic only in django-stubs
    _UserCreationFormBase = BaseUserCreationForm[User]
else:
    _UserCreationFormBase = BaseUserCreationForm


class FirstAdminForm(_UserCreationFormBase):
    """Create the very first account, as a superuser."""

    email = forms.EmailField(required=False)

    class Meta:
        model = User
        fields = ("username", "email")

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.is_staff = True
        user.is_superuser = True
        if commit:
            user.save()
        return user
