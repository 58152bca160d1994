"""What a re-cost run reports: the change of the total cost, per currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chat.spend.recost import RecostResult, Tally


def test_a_cost_moving_currency_counts_in_both_and_zeros_are_left_out():
    replies, titles = Tally(), Tally()
    replies.count((Decimal("1.5"), "USD"), (Decimal("10"), "CNY"))  # repriced in CNY
    replies.count((None, ""), (Decimal("0.5"), "USD"))  # newly priced
    titles.count((Decimal("2"), "EUR"), (None, ""))  # its price was deleted
    titles.count((Decimal("1"), "EUR"), (Decimal("3"), "EUR"))
    result = RecostResult(date(2025, 3, 1), date(2025, 3, 31), None, True, replies, titles)
    assert result.changed == 4
    assert result.difference == {"CNY": Decimal("10"), "USD": Decimal("-1.0")}
