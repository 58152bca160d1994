"""PONDER_RETENTION_DAYS: a positive whole number of days, or off."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import envdays


@pytest.mark.parametrize(("value", "days"), [("", None), ("0", None), (" 30 ", 30), ("365", 365)])
def test_days_or_off(monkeypatch, value, days):
    monkeypatch.setenv("PONDER_RETENTION_DAYS", value)
    assert envdays("PONDER_RETENTION_DAYS") == days


def test_unset_is_off(monkeypatch):
    monkeypatch.delenv("PONDER_RETENTION_DAYS", raising=False)
    assert envdays("PONDER_RETENTION_DAYS") is None


@pytest.mark.parametrize("value", ["-1", "1.5", "30d", "forever", "٣"])
def test_anything_else_fails_loudly(monkeypatch, value):
    monkeypatch.setenv("PONDER_RETENTION_DAYS", value)
    with pytest.raises(ImproperlyConfigured, match="PONDER_RETENTION_DAYS"):
        envdays("PONDER_RETENTION_DAYS")
