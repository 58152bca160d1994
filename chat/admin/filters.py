"""List filters, search and cost text shared by the admin pages."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat import l10n
from chat.models import Message
from chat.spend.pricing import MICRO
from chat.upstream.catalog import MODELS

if TYPE_CHECKING:  # django-stubs' helpers: types only, not needed (nor installed) at runtime
    from django_stubs_ext import StrOrPromise


def text_contains(term: str) -> Q:
    """Match messages whose text or reasoning contains ``term`` (any case)."""
    return Q(content__icontains=term) | Q(reasoning__icontains=term)


def matching_conversations(term: str) -> QuerySet[Message, Mapping[str, Any]]:
    """Return the ids of conversations with a message whose text or reasoning has ``term``."""
    return Message.objects.filter(text_contains(term)).values("conversation_id")


class UsedModelFilter(admin.SimpleListFilter):
    """Conversations with at least one reply from a model."""

    title = _("model")
    parameter_name = "model"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [(model.id, model.id) for model in MODELS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value():
            used = Message.objects.filter(model=self.value()).values("conversation_id")
            return queryset.filter(id__in=used)
        return None


class ReplyModelFilter(UsedModelFilter):
    """Messages from one model (the catalog's ids: no DISTINCT over every message)."""

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        return queryset.filter(model=self.value()) if self.value() else None


class ReplyStatusFilter(admin.SimpleListFilter):
    """Conversations with at least one reply in a status (e.g. failed, interrupted)."""

    title = _("reply status")
    parameter_name = "reply_status"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, StrOrPromise]]:
        return list(Message.Status.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value():
            having = Message.objects.filter(
                role=Message.Role.ASSISTANT, status=self.value()
            ).values("conversation_id")
            return queryset.filter(id__in=having)
        return None


def cost_text(amount: Decimal | None, currency: str, unpriced: int = 0) -> str:
    """Return a cost as shown in the admin, e.g. "0.001200 USD", "unpriced", "… + 2 unpriced"."""
    if amount is None:
        return gettext("unpriced") if unpriced else "—"
    # SQLite sums decimals as floats: back to the micro-unit prices are stored in.
    text = l10n.money(Decimal(amount).quantize(MICRO), currency)
    if not unpriced:
        return text
    return gettext("%(cost)s + %(count)s unpriced") % {"cost": text, "count": unpriced}
