"""Django's makemessages with Ponder's defaults, used by `make messages` and the catalog test.

It knows the ES modules' t(), tn() and tp() (static/js/i18n.js), skips what is not shipped
(tests, tools, vendored libraries), and writes catalogs without source locations, so a
moved line does not churn every .po file.
"""

from typing import Any

from django.core.management.commands import makemessages

NOT_SHIPPED = [
    ".venv",
    "node_modules",
    "var",
    "tests",
    "bench",
    "simulator",
    "static/vendor",
    "docs",
    "scripts",
    "locale",
]
JS_KEYWORDS = ["--keyword=t", "--keyword=tn:1,2", "--keyword=tp:1c,2"]
LOCALES = ["ja", "zh_Hans", "zh_Hant"]


class Command(makemessages.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("domain") == "djangojs":
            self.xgettext_options = [*self.xgettext_options, *JS_KEYWORDS]
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *NOT_SHIPPED]
        options["no_location"] = True
        options["no_obsolete"] = True
        if not options.get("locale") and not options.get("all"):
            options["locale"] = LOCALES
        super().handle(*args, **options)
