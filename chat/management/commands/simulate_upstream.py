"""``python manage.py simulate_upstream --port N [--rate R]``: run the upstream simulator."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chat.upstream.simulator import main
from chat.upstream.simulator.server import DEFAULT_RATE


class Command(BaseCommand):
    help = "Serve a local Model Studio simulator speaking both wire protocols."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
        parser.add_argument(
            "--rate",
            type=float,
            default=DEFAULT_RATE,
            help="token pieces per second per stream; 0 = as fast as possible",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        main(
            [
                "--host",
                options["host"],
                "--port",
                str(options["port"]),
                "--rate",
                str(options["rate"]),
            ]
        )
