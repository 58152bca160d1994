"""An admin signed in, and the audit entries of one action."""

from __future__ import annotations

import pytest

from chat.models import AuditEntry


@pytest.fixture
def admin_client(admin_user, client):
    client.force_login(admin_user)
    return client


def entries(action: str) -> list[AuditEntry]:
    """Return the entries of one action, oldest first."""
    return list(AuditEntry.objects.filter(action=action).order_by("at", "id"))


def only_entry(action: str) -> AuditEntry:
    (entry,) = entries(action)
    return entry
