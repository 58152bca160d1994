"""The admin's token-spend report (``/admin/spend/``) and its CSV (``/admin/spend.csv``)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_GET

from chat.audit import Action, record
from chat.errors import BadRequest

from .report import SpendQuery, SpendRow, parse_spend_query, spend_rows, total, write_csv


@dataclass(frozen=True, slots=True)
class SpendReport:
    query: SpendQuery
    rows: list[SpendRow]
    totals: SpendRow
    by_day: list[SpendRow]
    by_model: list[SpendRow]

    @property
    def unpriced_models(self) -> list[SpendRow]:
        return [row for row in self.by_model if row.unpriced_requests]


def build_report(query: SpendQuery) -> SpendReport:
    """Run the report's queries: the grouping asked for, plus by day and by model for charts."""
    rows = spend_rows(query)
    by_day = rows if query.group_by == "day" else spend_rows(query, "day")
    by_model = rows if query.group_by == "model" else spend_rows(query, "model")
    return SpendReport(query, rows, total(rows), by_day, by_model)


def chart_data(report: SpendReport) -> dict[str, Any]:
    """Return the charts' series: every day of the range (zeros included) and model shares.

    Costs are decimal strings; the browser turns them into numbers only to plot them.
    """
    by_day = {row.key: row for row in report.by_day}
    days = [day.isoformat() for day in report.query.days]
    empty = SpendRow("")
    rows = [by_day.get(day, empty) for day in days]
    currencies = sorted({currency for row in report.by_day for currency in row.costs})
    return {
        "days": days,
        "tokens": {
            "input": [max(row.input_tokens - row.cached_tokens, 0) for row in rows],
            "cached": [row.cached_tokens for row in rows],
            "reasoning": [row.reasoning_tokens for row in rows],
            "answer": [max(row.output_tokens - row.reasoning_tokens, 0) for row in rows],
        },
        "cost": {
            currency: [str(row.costs.get(currency, 0)) for row in rows] for currency in currencies
        },
        "models": [{"model": row.key, "tokens": row.total_tokens} for row in report.by_model],
        "labels": chart_labels(),
    }


def chart_labels() -> dict[str, str]:
    """Return the words the charts draw (legends, the empty notice), in the page's language."""
    return {
        "input": pgettext("spend chart", "Input"),
        "cached": pgettext("spend chart", "Cached input"),
        "reasoning": pgettext("spend chart", "Reasoning"),
        "answer": pgettext("spend chart", "Answer"),
        "no_model": gettext("(no model)"),
        "no_priced": gettext("No priced requests in this range"),
    }


def quick_ranges(today: date) -> list[tuple[str, date, date]]:
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return [
        (gettext("Last 7 days"), today - timedelta(days=6), today),
        (gettext("Last 30 days"), today - timedelta(days=29), today),
        (gettext("This month"), first_of_month, today),
        (gettext("Last month"), last_month_end.replace(day=1), last_month_end),
        (gettext("This year"), today.replace(month=1, day=1), today),
    ]


def recost_url(query: SpendQuery) -> str:
    """Return the admin's re-cost form for the report's range."""
    days = {"start": query.start.isoformat(), "end": query.end.isoformat()}
    return reverse("admin:chat_modelprice_recost") + "?" + urlencode(days)


def utc_today() -> date:
    return timezone.now().astimezone(UTC).date()


@require_GET
@staff_member_required
def spend_report_view(request: HttpRequest) -> HttpResponse:
    today = utc_today()
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": gettext("Token spend"),
        "params": {
            "start": request.GET.get("start", ""),
            "end": request.GET.get("end", ""),
            "group_by": request.GET.get("group_by") or "day",
        },
        "quick_ranges": quick_ranges(today),
    }
    try:
        query = parse_spend_query(request.GET, today=today)
    except BadRequest as exc:
        context["error"] = exc
        return TemplateResponse(request, "admin/spend_report.html", context, status=400)
    report = build_report(query)
    context.update(
        query=query,
        params=query.as_params(),
        report=report,
        chart_data=chart_data(report),
        csv_query=urlencode(query.as_params()),  # the range shown, even when defaulted
        recost_url=recost_url(query),
    )
    return TemplateResponse(request, "admin/spend_report.html", context)


@require_GET
@staff_member_required
def spend_csv_view(request: HttpRequest) -> HttpResponse:
    query = parse_spend_query(request.GET, today=utc_today())
    out = io.StringIO()
    write_csv(spend_rows(query), out)
    record(Action.EXPORT_DOWNLOADED, request=request, export="spend", filters=query.as_params())
    filename = f"ponder-spend-{query.start}-{query.end}-by-{query.group_by}.csv"
    return HttpResponse(
        out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
