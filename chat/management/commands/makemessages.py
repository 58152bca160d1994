"""Django's makemessages, which also knows the ES modules' t(), tn() and tp() (i18n.js)."""

from typing import Any

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("domain") == "djangojs":
            self.xgettext_options = [
                *self.xgettext_options,
                "--keyword=t",
                "--keyword=tn:1,2",
                "--keyword=tp:1c,2",
            ]
        super().handle(*args, **options)
