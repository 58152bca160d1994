from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import BaseUserCreationForm
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from ..models import User

if TYPE_CHECKING:  # Django's form classes are generic only in django-stubs
    _UserCreationFormBase = BaseUserCreationForm[User]
else:
    _UserCreationFormBase = BaseUserCreationForm


class FirstAdminForm(_UserCreationFormBase):
    """Create the very first account, as a superuser."""

    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    token = forms.CharField(
        label=gettext_lazy("Set-up token"),
        strip=True,
        max_length=200,
        help_text=gettext_lazy(
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


# Marked here, translated where shown (a plain str: the pages and tests compare with it).
SSO_ONLY_MESSAGE = gettext_noop(
    "Password sign-in is for administrators only here: use company sign-in. "
    "(Administrators: check your username and password.)"
)


class SSOOnlyAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form, saying why a password was refused in SSO-only mode."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not settings.PASSWORD_LOGIN:
            invalid_login = gettext(SSO_ONLY_MESSAGE)
            self.error_messages = {**self.error_messages, "invalid_login": invalid_login}
