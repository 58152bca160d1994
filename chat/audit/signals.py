"""Sign-ins, failed sign-ins and sign-outs, from Django's auth signals (ChatConfig.ready),
and what company sign-in announces (``accounts.oidc.signals``): refusals and group changes.

The auth signals fire for every way in: the app's login page, the admin's and
``force_login``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.models import User
from accounts.oidc.signals import company_sign_in_refused, groups_synced

from .log import Action, record

USERNAME_MAX = 150


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def record_sign_in(
    sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **_: Any
) -> None:
    record(Action.SIGN_IN, request=request, actor=user)


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def record_sign_out(
    sender: Any, request: HttpRequest | None, user: AbstractBaseUser | None, **_: Any
) -> None:
    if user is not None:  # logging out without a session signs nobody out
        record(Action.SIGN_OUT, request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def record_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    """Record the username tried (Django has already masked the password; we keep only this).

    A request refused because django-axes has locked the username or address out fails
    here too, flagged ``locked_out``: axes marks the request before this receiver runs.
    """
    username = str(credentials.get(get_user_model().USERNAME_FIELD, ""))[:USERNAME_MAX]
    record(
        Action.SIGN_IN_FAILED,
        request=request,
        target_type="user",
        target_owner=username,
        username=username,
        locked_out=bool(getattr(request, "axes_locked_out", False)),
    )


@receiver(company_sign_in_refused, dispatch_uid="audit_company_sign_in_refused")
def record_company_sign_in_refused(
    sender: Any, request: HttpRequest, reason: str, error: str, **_: Any
) -> None:
    """``error`` is the OAuth error code the issuer sent back (``access_denied``...), if any."""
    detail: dict[str, Any] = {"method": "oidc", "reason": reason}
    if error:
        detail["error"] = error[:100]
    record(Action.SIGN_IN_FAILED, request=request, target_type="user", **detail)


@receiver(groups_synced, dispatch_uid="audit_groups_synced")
def record_groups_synced(
    sender: Any,
    user: User,
    request: HttpRequest | None,
    added: list[str],
    removed: list[str],
    **_: Any,
) -> None:
    record(
        Action.GROUP_CHANGED,
        request=request,
        actor=None if request is None else user,
        target_type="user",
        target_id=user.pk,
        target_owner=user,
        added=added,
        removed=removed,
        via="oidc",
    )
