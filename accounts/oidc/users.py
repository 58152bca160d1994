"""The Ponder user behind a set of OpenID Connect claims: found by ``sub``, made on first sign-in.

Users are matched by the issuer's ``sub`` (``User.oidc_subject``), never by email: an
address can be reassigned to someone else, ``sub`` cannot. Names and email follow the
claims at every sign-in, and so do groups: the user's groups become exactly the groups
claim's values (missing groups are created). ``is_staff`` and ``is_superuser`` are
never touched: administrators grant those in the admin.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest

from ..models import User
from .signals import groups_synced

logger = logging.getLogger(__name__)

NAME_MAX = 150  # User.username, first_name, last_name and Group.name
EMAIL_MAX = 254
_NOT_USERNAME = re.compile(r"[^\w.@+-]")


def sign_in_user(
    claims: Mapping[str, Any], *, groups_claim: str, request: HttpRequest | None = None
) -> User:
    """Return the user for these claims, created or brought up to date, groups synced."""
    subject = str(claims["sub"])
    with transaction.atomic():
        user = User.objects.select_for_update().filter(oidc_subject=subject).first()
        if user is None:
            user = User(username=unique_username(claims), oidc_subject=subject)
            user.set_unusable_password()  # company accounts sign in at the issuer only
            logger.info("Creating user %s for OIDC subject %s", user.username, subject)
        copy_profile(user, claims)
        user.save()
        added, removed = sync_groups(user, group_names(claims.get(groups_claim)))
    if added or removed:
        groups_synced.send(User, user=user, request=request, added=added, removed=removed)
    return user


def copy_profile(user: User, claims: Mapping[str, Any]) -> None:
    """Set names and email from the claims that are present (absent ones keep their value)."""
    given, family, full = (text(claims.get(k)) for k in ("given_name", "family_name", "name"))
    if given or family:
        user.first_name, user.last_name = given[:NAME_MAX], family[:NAME_MAX]
    elif full:
        user.first_name, user.last_name = full[:NAME_MAX], ""
    email = text(claims.get("email"))
    if email:
        user.email = email[:EMAIL_MAX]


def unique_username(claims: Mapping[str, Any]) -> str:
    """Return a free username from preferred_username, else the email's local part."""
    wanted = text(claims.get("preferred_username")) or text(claims.get("email")).split("@")[0]
    base = _NOT_USERNAME.sub("", wanted)[: NAME_MAX - 6] or "user"
    candidate, suffix = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        suffix += 1
        candidate = f"{base}-{suffix}"
    return candidate


def group_names(value: Any) -> list[str]:
    """Return the group names a claim holds: a list of names, or one name as a string."""
    items: Iterable[Any] = [value] if isinstance(value, str) else value or []
    if not isinstance(items, list | tuple):
        logger.warning("Ignoring a groups claim of type %s", type(value).__name__)
        return []
    names = (text(item)[:NAME_MAX] for item in items if isinstance(item, str | int))
    return sorted({name for name in names if name})


def sync_groups(user: User, names: list[str]) -> tuple[list[str], list[str]]:
    """Make the user's groups exactly ``names``; return the names added and removed."""
    before = set(user.groups.values_list("name", flat=True))
    groups = [Group.objects.get_or_create(name=name)[0] for name in names]
    user.groups.set(groups)
    after = set(names)
    return sorted(after - before), sorted(before - after)


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else str(value) if isinstance(value, int) else ""
