"""Plain factory functions for tests."""

from __future__ import annotations

import functools

PASSWORD = "correct horse battery staple"


@functools.cache
def password_hash() -> str:
    """Hash the shared test password once: the real hasher is slow on purpose."""
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


def make_user(username: str, **extra):
    from accounts.models import User

    return User.objects.create(username=username, password=password_hash(), **extra)
