"""Plain factory functions for tests."""

from __future__ import annotations

PASSWORD = "correct horse battery staple"


def make_user(username: str, **extra):
    from accounts.models import User

    return User.objects.create_user(username=username, password=PASSWORD, **extra)
