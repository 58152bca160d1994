"""Model prices, entered against the catalog's ids; saving one re-costs nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from chat.audit import Action, field_values, record
from chat.models import ModelPrice
from chat.upstream.catalog import MODELS

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
AUDITED = ("model", "currency", "effective_from", *PER_MILLION)


class ModelIdInput(forms.TextInput):
    """A free-text model id, with the catalog's ids offered as suggestions."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        attrs = {**(attrs or {}), "list": "ponder-model-ids"}
        options = format_html_join("", '<option value="{}">', ((model.id,) for model in MODELS))
        return format_html(
            '{}<datalist id="ponder-model-ids">{}</datalist>',
            super().render(name, value, attrs, renderer),
            options,
        )


class ModelPriceForm(_ModelPriceFormBase):
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
        widgets = {"model": ModelIdInput}

    def clean_currency(self) -> str:
        currency: str = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError("Use a three-letter ISO 4217 code, e.g. USD or CNY.")
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean returns cleaned_data
        for name in PER_MILLION:
            value = cleaned.get(name)
            if value is not None and value < 0:
                self.add_error(name, "A price cannot be negative.")
        return cleaned


@admin.register(ModelPrice)
class ModelPriceAdmin(_ModelPriceAdminBase):
    form = ModelPriceForm
    list_display = (
        "model",
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
                "description": (
                    "A price applies to replies asked from its effective date on. Saving it "
                    "changes no cost already stored; to re-cost past replies run "
                    "<code>python manage.py recost --start YYYY-MM-DD --end YYYY-MM-DD "
                    "[--model ID]</code>."
                ),
            },
        ),
        ("Per million tokens", {"fields": PER_MILLION}),
    )

    def save_model(
        self, request: HttpRequest, obj: ModelPrice, form: forms.ModelForm[ModelPrice], change: bool
    ) -> None:
        before = stored_values(obj.pk) if change else None
        super().save_model(request, obj, form, change)
        record_price(request, obj, before=before, after=stored_values(obj.pk))

    def delete_model(self, request: HttpRequest, obj: ModelPrice) -> None:
        record_price(request, obj, before=field_values(obj, AUDITED), after=None)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ModelPrice]) -> None:
        for price in queryset:
            record_price(request, price, before=field_values(price, AUDITED), after=None)
        super().delete_queryset(request, queryset)


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
