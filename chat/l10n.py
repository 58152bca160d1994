"""Numbers, money and days written the way the active language writes them.

Django's locale formats decide the digit grouping (12,345 in English and Japanese,
12345 in Chinese); a money amount keeps every digit it has (prices are stored to the
micro-unit) and sits beside its ISO currency code in the order the translation gives.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.translation import pgettext


def grouped(value: int | Decimal) -> str:
    """Return a number with the active language's digit grouping ("12,345" in English)."""
    return number_format(value, force_grouping=True)


def money(amount: int | Decimal, currency: str) -> str:
    """Return an amount and its currency code, e.g. "1,234.50 USD" in English."""
    # Translators: an amount of money ("1,234.50") and its ISO 4217 code ("USD").
    text = pgettext("money", "%(amount)s %(currency)s")
    return (text % {"amount": grouped(amount), "currency": currency}).strip()


def long_day(value: date) -> str:
    """Return a day with its month's name, e.g. "1 January 2027" in English."""
    # Translators: a date format in Django's date-filter syntax, e.g. "Y年n月j日".
    return date_format(value, pgettext("date format", "j F Y"))
