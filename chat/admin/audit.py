"""The audit log in the admin: read-only for every member of staff, with filters and CSV.

Nobody may add, change or delete an entry here; the model and the database refuse it too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from chat.audit import Action, record
from chat.models import AuditEntry
from chat.spend.report import csv_safe

if TYPE_CHECKING:  # Django's admin classes are generic only in django-stubs
    _AuditEntryAdminBase = admin.ModelAdmin[AuditEntry]
else:
    _AuditEntryAdminBase = admin.ModelAdmin

CSV_HEADER = (
    "at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target_owner",
    "ip",
    "detail",
)


class PeriodFilter(admin.ListFilter):
    """Entries from ``start`` to ``end`` (UTC days, both included); either may be left out."""

    title = _("period")
    template = "admin/chat/auditentry/period_filter.html"
    parameters = ("start", "end")

    def __init__(
        self,
        request: HttpRequest,
        params: dict[str, list[str]],
        model: type[AuditEntry],
        model_admin: admin.ModelAdmin[AuditEntry],
    ) -> None:
        super().__init__(request, params, model, model_admin)
        values = {name: params.pop(name)[-1] for name in self.parameters if name in params}
        self.used_parameters.update(values)
        self.start = parse_day(values.get("start", ""))
        self.end = parse_day(values.get("end", ""))

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return list(self.parameters)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.start:
            queryset = queryset.filter(at__gte=midnight(self.start))
        if self.end:
            queryset = queryset.filter(at__lt=midnight(self.end + timedelta(days=1)))
        return queryset

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        """Yield the one "choice" the template draws as a form: the dates, and what to keep."""
        yield {
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "kept": [(k, v) for k, v in changelist.params.items() if k not in self.parameters],
            "all_time": changelist.get_query_string(remove=list(self.parameters)),
        }


def parse_day(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = gettext("%(value)s is not a date (YYYY-MM-DD)") % {"value": repr(text)}
        raise IncorrectLookupParameters(message) from None


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@admin.register(AuditEntry)
class AuditEntryAdmin(_AuditEntryAdminBase):
    list_display = ("at", "actor_or_system", "action", "target", "target_owner", "ip")
    list_filter = ("action", PeriodFilter, "target_type")
    search_fields = ("actor", "target_owner", "target_id")
    search_help_text = _("Searches who did it (username), whose data it was and the target's id.")
    date_hierarchy = "at"
    fields = (
        "at",
        "action",
        "actor",
        "actor_user_id",
        "ip",
        "target_type",
        "target_id",
        "target_owner",
        "detail",
    )
    readonly_fields = fields
    actions = None
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description=_("actor"), ordering="actor")
    def actor_or_system(self, entry: AuditEntry) -> str:
        return entry.actor or gettext("(system)")

    @admin.display(description=_("target"))
    def target(self, entry: AuditEntry) -> str:
        return f"{entry.target_type} {entry.target_id}".strip()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="chat_auditentry_export",
        )
        return [export, *super().get_urls()]

    @method_decorator(require_GET)
    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Serve the entries the list shows (same filters, search and order) as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            entries = list(self.get_changelist_instance(request).get_queryset(request))
        except IncorrectLookupParameters as exc:
            return HttpResponseBadRequest(str(exc))
        out = io.StringIO()
        write_csv(entries, out)
        record(
            Action.EXPORT_DOWNLOADED,
            request=request,
            export="audit",
            filters=dict(request.GET.items()),
        )
        filename = f"ponder-audit-{timezone.now():%Y-%m-%d}.csv"
        return HttpResponse(
            out.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def is_staff(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff)


def write_csv(entries: Iterable[AuditEntry], out: IO[str]) -> None:
    """Write the header, then one line per entry; no cell can run as a spreadsheet formula."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for entry in entries:
        cells = (
            entry.at.isoformat(),
            entry.actor,
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.target_owner,
            entry.ip or "",
            json.dumps(entry.detail, sort_keys=True),
        )
        writer.writerow([csv_safe(cell) for cell in cells])
