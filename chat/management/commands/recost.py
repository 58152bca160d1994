"""``python manage.py recost --start YYYY-MM-DD --end YYYY-MM-DD [--model M]``.

Re-cost the finished replies asked in a date range (UTC, both days included) with
the price that was in force when each was asked. Nothing else ever changes a stored
cost: saving a price in the admin applies to replies asked from then on.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from chat.errors import BadRequest
from chat.models import Message
from chat.spend.pricing import PriceBook
from chat.spend.report import finished_replies, parse_spend_query

BATCH = 2000


class Command(BaseCommand):
    help = "Re-cost finished replies in a date range with the prices in force when asked."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD (UTC)")
        parser.add_argument("--end", required=True, help="last day, YYYY-MM-DD (UTC), included")
        parser.add_argument("--model", help="only replies from this model id")
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would change, write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            query = parse_spend_query(
                {"start": options["start"], "end": options["end"]},
                today=date.today(),
            )
        except BadRequest as exc:
            raise CommandError(exc.message) from None
        replies = finished_replies(query)
        if options["model"]:
            replies = replies.filter(model=options["model"])
        models = [options["model"]] if options["model"] else None
        book = PriceBook.load(models)
        seen = changed = unpriced = 0
        pending: list[Message] = []
        fields = (
            "id", "model", "created_at", "input_tokens", "output_tokens",
            "reasoning_tokens", "cached_tokens", "cost", "cost_currency",
        )  # fmt: skip
        for message in replies.only(*fields).order_by("created_at").iterator(chunk_size=BATCH):
            seen += 1
            cost = book.cost(
                message.model,
                message.created_at.astimezone(UTC),
                input_tokens=message.input_tokens,
                output_tokens=message.output_tokens,
                reasoning_tokens=message.reasoning_tokens,
                cached_tokens=message.cached_tokens,
            )
            amount, currency = (cost.amount, cost.currency) if cost else (None, "")
            unpriced += cost is None
            if (message.cost, message.cost_currency) == (amount, currency):
                continue
            changed += 1
            if options["dry_run"]:
                continue
            message.cost, message.cost_currency = amount, currency
            pending.append(message)
            if len(pending) >= BATCH:
                save(pending)
                pending = []
        save(pending)
        verb = "Would change" if options["dry_run"] else "Changed"
        self.stdout.write(
            f"{seen} finished replies from {query.start} to {query.end}"
            f"{' for ' + options['model'] if options['model'] else ''}: "
            f"{verb.lower()} the cost of {changed}; {unpriced} have no price."
        )


def save(messages: list[Message]) -> None:
    if not messages:
        return
    with transaction.atomic():
        Message.objects.bulk_update(messages, ["cost", "cost_currency"], batch_size=500)
