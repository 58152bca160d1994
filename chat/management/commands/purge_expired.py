"""``python manage.py purge_expired [--dry-run] [--days N]``.

Purge message text, reasoning and images older than ``PONDER_RETENTION_DAYS`` (or
``--days``), as the workers do once a day; usage and cost stay. Users under legal hold
are skipped. ``--dry-run`` prints what would go and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from chat.retention import purge


def positive_days(value: str) -> int:
    days = int(value)
    if days < 1:
        raise ValueError(value)
    return days


class Command(BaseCommand):
    help = "Purge message text, reasoning and images older than the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=positive_days,
            help="purge what is older than this many days (default: PONDER_RETENTION_DAYS)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be purged, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] or settings.RETENTION_DAYS
        if days is None:
            self.stdout.write(
                "Retention is off (PONDER_RETENTION_DAYS is not set) and no --days was given: "
                "nothing purged."
            )
            return
        self.stdout.write(purge(days, dry_run=options["dry_run"]).summary())
