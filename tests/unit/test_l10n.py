"""Numbers, money and days are written the way the active language writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from chat import l10n
from tests.catalog import install_catalog


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "12,345,678"), ("ja", "12,345,678"), ("zh-hans", "12345678")]
)
def test_numbers_are_grouped_as_the_language_groups_them(language, expected):
    with translation.override(language):
        assert l10n.grouped(12_345_678) == expected


def test_money_keeps_every_digit_and_its_currency_code():
    with translation.override("en"):
        assert l10n.money(Decimal("1234.500000"), "USD") == "1,234.500000 USD"
        assert l10n.money(Decimal("0.002500"), "CNY") == "0.002500 CNY"


def test_money_follows_the_order_the_translation_gives(settings, tmp_path):
    install_catalog(
        settings, tmp_path, "ja", {"money\x04%(amount)s %(currency)s": "%(currency)s %(amount)s"}
    )
    with translation.override("ja"):
        assert l10n.money(Decimal("1234.50"), "JPY") == "JPY 1,234.50"


def test_the_money_filter_writes_amounts_in_the_page_language():
    template = Template("{% load ponder_l10n %}{{ amount|money:'USD' }}|{{ nothing|money:'USD' }}")
    with translation.override("zh-hans"):
        assert template.render(Context({"amount": Decimal("98765.43")})) == "98765.43 USD|"


def test_a_long_day_is_written_day_first_in_english_and_as_the_translation_says(settings, tmp_path):
    day = datetime(2027, 1, 1, tzinfo=UTC)
    with translation.override("en"):
        assert l10n.long_day(day) == "1 January 2027"
    install_catalog(settings, tmp_path, "ja", {"date format\x04j F Y": "Y年n月j日"})
    with translation.override("ja"):
        assert l10n.long_day(day) == "2027年1月1日"
