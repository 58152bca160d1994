"""Print a new one-time token for the first-admin set-up form (production)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.password import setup


class Command(BaseCommand):
    help = "Issue a new set-up token for /accounts/setup/ (any earlier one stops working)."

    def handle(self, *args: Any, **options: Any) -> None:
        token = setup.rotate_token()
        if token is None:
            raise CommandError("A user exists already: set-up is closed. Use createsuperuser.")
        self.stdout.write(f"Open {setup.SETUP_PATH}?token={token} to create the first admin.")
