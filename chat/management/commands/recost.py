"""``python manage.py recost --start YYYY-MM-DD --end YYYY-MM-DD [--model M]``.

Re-cost the finished replies and generated titles asked in a date range (UTC, both
days included) with the price that was in force when each was asked, for scripts; the
admin's "Re-cost a range" does the same (chat.spend.recost).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.errors import BadRequest
from chat.spend.recost import recost
from chat.spend.report import parse_spend_query


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
        model = options["model"] or None
        result = recost(query.start, query.end, model, dry_run=options["dry_run"])
        verb = "would change" if result.dry_run else "changed"
        self.stdout.write(
            f"{result.replies.seen} finished replies from {query.start} to {query.end}"
            f"{' for ' + model if model else ''}: "
            f"{verb} the cost of {result.replies.changed}; {result.replies.unpriced} have no price."
        )
        if result.titles.seen:
            self.stdout.write(
                f"{result.titles.seen} generated titles: {verb} the cost of "
                f"{result.titles.changed}; {result.titles.unpriced} have no price."
            )
