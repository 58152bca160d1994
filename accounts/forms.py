from typing import TYPE_CHECKING, Any

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
    token = forms.CharField(
        label="Set-up token",
        strip=True,
        max_length=200,
        help_text=(
            "Printed as a WARNING in the server log when this page was first opened; "
            "`manage.py setup_token` prints a new one."
        ),
    )

    field_order = ["token", "username", "email", "password1", "password2"]

    def __init__(self, *args: Any, token_required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not token_required:  # development: the friendly form, no token
            del self.fields["token"]

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
