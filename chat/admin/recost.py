"""The admin's "Re-cost a range": preview what new prices change, then apply them.

A first POST is a dry run that shows how many replies and titles would change and by
how much; the confirm button posts the same range again to write the costs, leaves an
audit entry and lands on the spend report of the range.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from chat.audit import Action, record
from chat.models import ModelPrice
from chat.spend.recost import recost
from chat.spend.report import MAX_DAYS

from .model_choices import model_field

if TYPE_CHECKING:
    ModelPriceAdmin = admin.ModelAdmin[ModelPrice]
else:
    ModelPriceAdmin = admin.ModelAdmin

DEFAULT_DAYS = 30


class RecostForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Both days are included (UTC)."),
    )
    model = model_field(required=False, blank_label=_("All models"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", gettext("The last day is before the first."))
        elif start and end and (end - start).days >= MAX_DAYS:
            message = gettext("The range is longer than %(limit)s days.") % {"limit": MAX_DAYS}
            self.add_error("start", message)
        return cleaned


@require_http_methods(["GET", "POST"])
def recost_view(request: HttpRequest, model_admin: ModelPriceAdmin) -> HttpResponse:
    """Show the range form; POST previews (dry run), POST with ``confirm`` re-costs."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    if request.method == "GET":
        form = RecostForm(initial=initial_range(request))
    else:
        form = RecostForm(request.POST)
    preview = None
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        model = form.cleaned_data["model"] or None
        if "confirm" in request.POST:
            result = recost(start, end, model)
            record(
                Action.PRICE_CHANGED, request=request, target_type="recost", **result.as_detail()
            )
            messages.success(request, summary(result.replies.changed, result.titles.changed))
            query = {"start": start.isoformat(), "end": end.isoformat(), "group_by": "model"}
            return HttpResponseRedirect(reverse("admin-spend") + "?" + urlencode(query))
        preview = recost(start, end, model, dry_run=True)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Re-cost a range"),
        "opts": model_admin.model._meta,
        "form": form,
        "preview": preview,
    }
    return TemplateResponse(request, "admin/chat/modelprice/recost.html", context)


def initial_range(request: HttpRequest) -> dict[str, str]:
    """Return the form's values from ``?start=&end=&model=``; the last 30 days by default."""
    today = timezone.now().astimezone(UTC).date()
    return {
        "start": request.GET.get("start") or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "end": request.GET.get("end") or today.isoformat(),
        "model": request.GET.get("model", ""),
    }


def summary(replies: int, titles: int) -> str:
    message = gettext(
        "Re-costed: %(replies)s replies and %(titles)s generated titles changed cost."
    )
    return message % {"replies": replies, "titles": titles}
