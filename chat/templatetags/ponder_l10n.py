"""``{% load ponder_l10n %}``: money in the page's language (``{{ amount|money:currency }}``)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from chat import l10n

register = template.Library()


@register.filter
def money(amount: int | Decimal | str | None, currency: str) -> str:
    """Return "1,234.50 USD" (English), as ``chat.l10n.money`` writes it; no amount, nothing."""
    if amount is None or amount == "":  # "": a missing variable
        return ""
    return l10n.money(Decimal(amount), currency)
