"""Writing audit entries. Every feature that must leave a trace calls ``record``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from django.http import HttpRequest

from chat.models import AuditEntry

Action = AuditEntry.Action


def record(
    action: AuditEntry.Action,
    *,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    target_type: str = "",
    target_id: object = "",
    target_owner: AbstractBaseUser | str | None = None,
    **detail: Any,
) -> AuditEntry:
    """Write one entry. The actor is ``actor``, else the request's user; none: the system.

    ``detail`` must be JSON-serialisable: names and values, never a secret.
    """
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    known = actor is not None and actor.is_authenticated
    owner = (
        target_owner.get_username() if isinstance(target_owner, AbstractBaseUser) else target_owner
    )
    return AuditEntry.objects.create(
        action=action,
        actor_user_id=actor.pk if known and actor is not None else None,
        actor=actor.get_username() if known and actor is not None else "",
        ip=request.META.get("REMOTE_ADDR") or None if request is not None else None,
        target_type=target_type,
        target_id=str(target_id)[:64],
        target_owner=owner or "",
        detail=detail,
    )


def field_values(instance: Model, names: Iterable[str]) -> dict[str, Any]:
    """Return the named fields' values as JSON holds them, for an entry's before and after."""
    return {name: json_value(getattr(instance, name)) for name in names}


def json_value(value: Any) -> Any:
    """Keep numbers, text, booleans and null; dates become ISO 8601, the rest (Decimal) text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return value.isoformat() if isinstance(value, date) else str(value)
