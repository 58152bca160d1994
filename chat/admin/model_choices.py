"""Selects of the catalog's models, for admin forms: a model id is picked, never typed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from chat.upstream.catalog import MODELS, ModelInfo

if TYPE_CHECKING:  # django-stubs' helpers: types only, not needed (nor installed) at runtime
    from django_stubs_ext import StrOrPromise


def model_label(model: ModelInfo) -> str:
    values = {"label": model.label, "id": model.id}
    if model.thinking == "always":
        return gettext("%(label)s (%(id)s) · always thinks") % values
    if model.thinking == "none":
        return gettext("%(label)s (%(id)s) · never thinks") % values
    return f"{model.label} ({model.id})"


def catalog_choices() -> list[tuple[str, Any]]:
    """Return the catalog's models as select options, grouped by family in catalog order."""
    families: dict[str, list[tuple[str, str]]] = {}
    for model in MODELS:
        families.setdefault(gettext(model.family), []).append((model.id, model_label(model)))
    return list(families.items())


def model_field(*, required: bool, blank_label: StrOrPromise) -> forms.ChoiceField:
    """Return a select of the catalog's models; a value not in the catalog is refused."""
    return forms.ChoiceField(
        choices=lambda: [("", blank_label), *catalog_choices()],
        required=required,
        error_messages={"invalid_choice": UNKNOWN_MODEL},
    )


UNKNOWN_MODEL = gettext_lazy("%(value)s is not a model in the catalog; pick one from the list.")
