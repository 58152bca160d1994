"""Password sign-in, which PONDER_PASSWORD_LOGIN=0 keeps for superusers only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from .models import User


def password_login_allowed(user: AbstractBaseUser) -> bool:
    """Return whether this user may sign in with a password under the current settings."""
    return bool(settings.PASSWORD_LOGIN or getattr(user, "is_superuser", False))


class PasswordBackend(ModelBackend):
    """Django's username and password check; in SSO-only mode, superusers only.

    Refusing here, not in a form, covers every password form at once: the sign-in page,
    the admin's and anything added later. Sessions already open are left alone.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and not password_login_allowed(user):
            return None
        return user
