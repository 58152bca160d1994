"""Selects of the catalog's models, for admin forms: a model id is picked, never typed."""

from __future__ import annotations

from typing import Any

from django import forms

from chat.upstream.catalog import MODELS, ModelInfo


def model_label(model: ModelInfo) -> str:
    return f"{model.label} ({model.id}){THINKING_NOTES[model.thinking]}"


THINKING_NOTES = {"hybrid": "", "always": " · always thinks", "none": " · never thinks"}


def catalog_choices() -> list[tuple[str, Any]]:
    """Return the catalog's models as select options, grouped by family in catalog order."""
    families: dict[str, list[tuple[str, str]]] = {}
    for model in MODELS:
        families.setdefault(model.family, []).append((model.id, model_label(model)))
    return list(families.items())


def model_field(*, required: bool, blank_label: str) -> forms.ChoiceField:
    """Return a select of the catalog's models; a value not in the catalog is refused."""
    return forms.ChoiceField(
        choices=lambda: [("", blank_label), *catalog_choices()],
        required=required,
        error_messages={"invalid_choice": UNKNOWN_MODEL},
    )


UNKNOWN_MODEL = "%(value)s is not a model in the catalog; pick one from the list."
