"""Accounts' reactions to Django's auth signals (AccountsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .choices import adopt_sign_in_pick


@receiver(user_logged_in, dispatch_uid="adopt_sign_in_language")
def adopt_language(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if request is not None:
        adopt_sign_in_pick(request, user)
