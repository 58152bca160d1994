"""Model prices, picked from the catalog; saving one offers to re-cost the past.

A price prices only the model id it names, so the id is chosen from the catalog: a
typo (``qwen3max``) is refused. A stored cost changes only when someone re-costs a
range (the admin's "Re-cost a range", or ``manage.py recost`` in scripts).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from chat.audit import Action, field_values, record
from chat.models import ModelPrice
from chat.upstream.catalog import get_model

from .model_choices import UNKNOWN_MODEL, catalog_choices, model_field
from .recost import recost_view

if TYPE_CHECKING:  # Django's form and admin classes are generic only in django-stubs
    _ModelPriceFormBase = forms.ModelForm[ModelPrice]
    _ModelPriceAdminBase = admin.ModelAdmin[ModelPrice]
else:
    _ModelPriceFormBase = forms.ModelForm
    _ModelPriceAdminBase = admin.ModelAdmin

PER_MILLION = (
    "input_per_million",
    "cached_input_per_million",
    "output_per_million",
    "thinking_output_per_million",
)
PICK_A_MODEL = _("Pick a model")
AUDITED = ("model", "currency", "effective_from", *PER_MILLION)


THINKING_HELP = _(
    "Output price per million tokens when the reply contains reasoning (the thinking "
    "process is billed as output). Hybrid models: the thinking-mode price, empty if it is "
    "the same as the output price; a reply asked in thinking mode that came back without "
    "reasoning is billed at the output price. Models that always think: the price their "
    "replies are billed at; empty means the output price. Models that never think: leave "
    "it empty."
)
MODE_HELP = {
    "hybrid": gettext_noop(
        "%(label)s is hybrid: this is its thinking-mode output price, empty if it is the same "
        "as the output price. A reply without reasoning is billed at the output price."
    ),
    "always": gettext_noop(
        "%(label)s always thinks: this is the output price its replies are billed at; empty "
        "means the output price. Only a reply that came back without reasoning is billed "
        "at the output price."
    ),
    "none": gettext_noop("%(label)s never thinks: leave this empty."),
}


class ModelPriceForm(_ModelPriceFormBase):
    model = model_field(required=True, blank_label=PICK_A_MODEL)

    class Meta:
        model = ModelPrice
        fields = (
            "model",
            "currency",
            "effective_from",
            "input_per_million",
            "cached_input_per_million",
            "output_per_million",
            "thinking_output_per_million",
        )
        help_texts = {"thinking_output_per_million": THINKING_HELP}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.model if self.instance.pk else ""
        info = get_model(stored)
        if info is not None:
            thinking = self.fields["thinking_output_per_million"]
            thinking.help_text = gettext(MODE_HELP[info.thinking]) % {"label": info.label}
        elif stored:
            # A legacy row (a typo such as "qwen3max"): show its value, refuse to save it.
            field = cast(forms.ChoiceField, self.fields["model"])
            legacy = (stored, gettext("%(model)s (not in the catalog)") % {"model": stored})
            field.choices = [("", PICK_A_MODEL), legacy, *catalog_choices()]
            field.help_text = legacy_warning(stored)

    def clean_model(self) -> str:
        model_id: str = self.cleaned_data["model"]
        if get_model(model_id) is None:
            raise forms.ValidationError(UNKNOWN_MODEL % {"value": model_id})
        return model_id

    def clean_currency(self) -> str:
        currency: str = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError(
                gettext("Use a three-letter ISO 4217 code, e.g. USD or CNY.")
            )
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean returns cleaned_data
        for name in PER_MILLION:
            value = cleaned.get(name)
            if value is not None and value < 0:
                self.add_error(name, gettext("A price cannot be negative."))
        info = get_model(cleaned.get("model") or "")
        thinking = cleaned.get("thinking_output_per_million")
        if info and info.thinking == "none" and thinking is not None:
            message = gettext(MODE_HELP["none"]) % {"label": info.label}
            self.add_error("thinking_output_per_million", message)
        return cleaned


def legacy_warning(model_id: str) -> str:
    message = gettext(
        "%(model)s is not a model in the catalog, so this price prices nothing. "
        "Pick a real model and save, or delete this price."
    )
    return message % {"model": repr(model_id)}


@admin.register(ModelPrice)
class ModelPriceAdmin(_ModelPriceAdminBase):
    form = ModelPriceForm
    list_display = (
        "model",
        "in_catalog",
        "currency",
        "input_per_million",
        "cached_input_per_million",
        "output_per_million",
        "thinking_output_per_million",
        "effective_from",
    )
    list_filter = ("model", "currency")
    search_fields = ("model",)
    fieldsets = (
        (
            None,
            {
                "fields": ("model", "currency", "effective_from"),
                "description": _(
                    "A price applies to replies asked from its effective date on. Saving it "
                    "changes no cost already stored: re-cost a range (offered after saving, "
                    "and above the price list) to apply it to past replies and titles."
                ),
            },
        ),
        (_("Per million tokens"), {"fields": PER_MILLION}),
    )

    @admin.display(description=_("catalog"))
    def in_catalog(self, price: ModelPrice) -> str:
        info = get_model(price.model)
        return info.label if info else gettext("⚠ not in the catalog")

    def get_urls(self) -> list[URLPattern]:
        recost = path(
            "recost/",
            self.admin_site.admin_view(lambda request: recost_view(request, self)),
            name="chat_modelprice_recost",
        )
        return [recost, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        may_recost = self.has_change_permission(request)
        return super().changelist_view(request, {"may_recost": may_recost, **(extra_context or {})})

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ModelPrice | None = None,
    ) -> HttpResponse:
        if obj is not None and request.method == "GET" and get_model(obj.model) is None:
            messages.error(request, legacy_warning(obj.model))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(
        self, request: HttpRequest, obj: ModelPrice, form: forms.ModelForm[ModelPrice], change: bool
    ) -> None:
        before = stored_values(obj.pk) if change else None
        super().save_model(request, obj, form, change)
        record_price(request, obj, before=before, after=stored_values(obj.pk))
        starts = [obj.effective_from]
        if before is not None:
            starts.append(datetime.fromisoformat(before["effective_from"]))
        same_model = before is None or before["model"] == obj.model
        offer_recost(request, min(starts), obj.model if same_model else None)

    def delete_model(self, request: HttpRequest, obj: ModelPrice) -> None:
        record_price(request, obj, before=field_values(obj, AUDITED), after=None)
        super().delete_model(request, obj)
        offer_recost(request, obj.effective_from, obj.model)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ModelPrice]) -> None:
        for price in queryset:
            record_price(request, price, before=field_values(price, AUDITED), after=None)
        super().delete_queryset(request, queryset)


def offer_recost(request: HttpRequest, since: datetime, model: str | None) -> None:
    """Offer to re-cost from a price's effective day to today, unless that is in the future."""
    start, today = since.astimezone(UTC).date(), timezone.now().astimezone(UTC).date()
    if start > today:
        return
    messages.info(
        request,
        format_html(
            gettext(
                'Stored costs are unchanged. <a href="{url}" data-testid="price-recost-offer">'
                "Re-cost {model} from {start} to today</a> to apply the new prices to past "
                "replies."
            ),
            url=recost_url(start, today, model),
            model=model or gettext("all models"),
            start=start.isoformat(),
        ),
    )


def recost_url(start: date, end: date, model: str | None = None) -> str:
    """Return the admin's re-cost form, filled in with a range and maybe a model."""
    params = {"start": start.isoformat(), "end": end.isoformat(), "model": model or ""}
    return reverse("admin:chat_modelprice_recost") + "?" + urlencode(params)


def stored_values(price_id: int) -> dict[str, Any]:
    """Return a price as the database holds it (the form's "0.4" is stored as "0.400000")."""
    return field_values(ModelPrice.objects.get(pk=price_id), AUDITED)


def record_price(
    request: HttpRequest,
    price: ModelPrice,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Audit a price added (no before), changed, or deleted (no after)."""
    record(
        Action.PRICE_CHANGED,
        request=request,
        target_type="price",
        target_id=price.pk,
        model=price.model,
        before=before,
        after=after,
    )
