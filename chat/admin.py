"""Admin review of conversations (full transcripts with reasoning), messages and prices.

History is read-only here: admins read transcripts, they do not edit them. Prices are
editable; saving one changes no stored cost (``manage.py recost`` does, on request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .models import Conversation, Message, ModelPrice
from .pricing import MICRO
from .upstream.catalog import MODELS


def text_contains(term: str) -> Q:
    """Match messages whose text or reasoning contains ``term`` (any case)."""
    return Q(content__icontains=term) | Q(reasoning__icontains=term)


def matching_conversations(term: str) -> QuerySet[Message]:
    """Return the ids of conversations with a message whose text or reasoning has ``term``."""
    return Message.objects.filter(text_contains(term)).values("conversation_id")


class UsedModelFilter(admin.SimpleListFilter):
    """Conversations with at least one reply from a model."""

    title = "model"
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(model.id, model.id) for model in MODELS]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value():
            used = Message.objects.filter(model=self.value()).values("conversation_id")
            return queryset.filter(id__in=used)
        return None


class ReplyModelFilter(UsedModelFilter):
    """Messages from one model (the catalog's ids: no DISTINCT over every message)."""

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        return queryset.filter(model=self.value()) if self.value() else None


class ReplyStatusFilter(admin.SimpleListFilter):
    """Conversations with at least one reply in a status (e.g. failed, interrupted)."""

    title = "reply status"
    parameter_name = "reply_status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(Message.Status.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value():
            having = Message.objects.filter(
                role=Message.Role.ASSISTANT, status=self.value()
            ).values("conversation_id")
            return queryset.filter(id__in=having)
        return None


def cost_text(amount: Decimal | None, currency: str, unpriced: int = 0) -> str:
    """Return a cost as shown in the admin, e.g. "0.001200 USD", "unpriced", "… + 2 unpriced"."""
    if amount is None:
        return "unpriced" if unpriced else "—"
    # SQLite sums decimals as floats: back to the micro-unit prices are stored in.
    text = f"{Decimal(amount).quantize(MICRO)} {currency}".strip()
    return f"{text} + {unpriced} unpriced" if unpriced else text


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = (
        "title_or_id",
        "owner",
        "model",
        "message_count",
        "tokens",
        "cost",
        "last_activity",
    )
    list_filter = (
        ("owner", admin.RelatedOnlyFieldListFilter),
        UsedModelFilter,
        ReplyStatusFilter,
        ("updated_at", admin.DateFieldListFilter),
        ("deleted_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("title",)  # shows the box; get_search_results does the searching
    search_help_text = "Searches titles, owners' usernames and the text and reasoning of messages."
    list_select_related = ("owner",)
    ordering = ("-updated_at",)
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        # One query for the whole page: every column is an annotation, never a per-row query.
        return (
            super()
            .get_queryset(request)
            .annotate(
                message_count=Count("messages"),
                token_total=Sum("messages__total_tokens"),
                cost_total=Sum("messages__cost"),
                currency_min=Min("messages__cost_currency", filter=Q(messages__cost__isnull=False)),
                currency_max=Max("messages__cost_currency", filter=Q(messages__cost__isnull=False)),
                unpriced=Count(
                    "messages",
                    filter=Q(
                        messages__role=Message.Role.ASSISTANT,
                        messages__status__in=Message.FINISHED,
                        messages__cost__isnull=True,
                    ),
                ),
            )
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # A subquery, not a join: no duplicate rows and the annotations stay right.
        return (
            queryset.filter(
                Q(title__icontains=term)
                | Q(owner__username__iexact=term)
                | Q(id__in=matching_conversations(term))
            ),
            False,
        )

    @admin.display(description="conversation", ordering="title")
    def title_or_id(self, conversation: Conversation) -> str:
        return conversation.title or f"(untitled {str(conversation.id)[:8]})"

    @admin.display(description="messages", ordering="message_count")
    def message_count(self, conversation: Conversation) -> int:
        return conversation.message_count

    @admin.display(description="tokens", ordering="token_total")
    def tokens(self, conversation: Conversation) -> str:
        return f"{conversation.token_total or 0:,}"

    @admin.display(description="last activity", ordering="updated_at")
    def last_activity(self, conversation: Conversation) -> datetime:
        return conversation.updated_at

    @admin.display(description="cost", ordering="cost_total")
    def cost(self, conversation: Conversation) -> str:
        if conversation.currency_min != conversation.currency_max:
            return "mixed currencies"
        return cost_text(
            conversation.cost_total, conversation.currency_min or "", conversation.unpriced
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Show the transcript: admins read conversations, they don't edit them."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        conversation = self.get_object(request, unquote(object_id))
        if conversation is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, conversation):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(conversation),
            "subtitle": None,
            "conversation": conversation,
            "cost": self.cost(conversation),
            "turns": transcript(
                list(conversation.messages.order_by("created_at").prefetch_related("attachments"))
            ),
            "has_delete_permission": self.has_delete_permission(request, conversation),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/chat/conversation/transcript.html", context)


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a transcript, with what the template shows beside it."""

    message: Message
    version: int
    versions: int
    cost: str

    @property
    def time_to_first_token(self) -> timedelta | None:
        return between(self.message.created_at, self.message.first_token_at)

    @property
    def thinking_time(self) -> timedelta | None:
        if not self.message.reasoning:
            return None
        end = self.message.answer_started_at or self.message.completed_at
        return between(self.message.first_token_at, end)

    @property
    def total_time(self) -> timedelta | None:
        return between(self.message.created_at, self.message.completed_at)


def between(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start and end else None


def transcript(messages: list[Message]) -> list[Turn]:
    """Return every message in order; regenerated replies are numbered as versions."""
    siblings: dict[Any, list[Message]] = {}
    for message in messages:
        if message.role == Message.Role.ASSISTANT:
            siblings.setdefault(message.reply_to_id, []).append(message)
    turns = []
    for message in messages:
        versions = siblings.get(message.reply_to_id, [message])
        is_reply = message.role == Message.Role.ASSISTANT
        unpriced = int(is_reply and message.is_finished and message.cost is None)
        turns.append(
            Turn(
                message=message,
                version=versions.index(message) + 1 if is_reply else 1,
                versions=len(versions) if is_reply else 1,
                cost=cost_text(message.cost, message.cost_currency, unpriced) if is_reply else "",
            )
        )
    return turns


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "short_id",
        "conversation_link",
        "owner",
        "role",
        "model",
        "status",
        "total_tokens",
        "cost_display",
        "created_at",
    )
    list_filter = (
        "role",
        "status",
        ReplyModelFilter,
        ("created_at", admin.DateFieldListFilter),
        "usage_estimated",
    )
    search_fields = ("content",)
    search_help_text = "Searches the text and reasoning of messages."
    list_select_related = ("conversation__owner",)
    ordering = ("-created_at",)
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ("transcript_link",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(text_contains(term)), False

    @admin.display(description="id")
    def short_id(self, message: Message) -> str:
        return str(message.id)[:8]

    @admin.display(description="conversation")
    def conversation_link(self, message: Message) -> str:
        return format_html(
            '<a href="{}#message-{}">{}</a>',
            transcript_url(message.conversation_id),
            message.id,
            message.conversation,
        )

    @admin.display(description="owner", ordering="conversation__owner__username")
    def owner(self, message: Message) -> str:
        return message.conversation.owner.username

    @admin.display(description="cost", ordering="cost")
    def cost_display(self, message: Message) -> str:
        unpriced = int(message.role == Message.Role.ASSISTANT and message.is_finished)
        return cost_text(message.cost, message.cost_currency, unpriced)

    @admin.display(description="transcript")
    def transcript_link(self, message: Message) -> str:
        return format_html(
            '<a href="{}#message-{}">Read it in its conversation</a>',
            transcript_url(message.conversation_id),
            message.id,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A reply's versions and the next turn's history hang off each message.
        return False


def transcript_url(conversation_id: Any) -> str:
    return reverse("admin:chat_conversation_change", args=[conversation_id])


class ModelIdInput(forms.TextInput):
    """A free-text model id, with the catalog's ids offered as suggestions."""

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        attrs = {**(attrs or {}), "list": "ponder-model-ids"}
        options = format_html_join("", '<option value="{}">', ((model.id,) for model in MODELS))
        return format_html(
            '{}<datalist id="ponder-model-ids">{}</datalist>',
            super().render(name, value, attrs, renderer),
            options,
        )


class ModelPriceForm(forms.ModelForm):
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
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError("Use a three-letter ISO 4217 code, e.g. USD or CNY.")
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in (
            "input_per_million",
            "cached_input_per_million",
            "output_per_million",
            "thinking_output_per_million",
        ):
            value = cleaned.get(name)
            if value is not None and value < 0:
                self.add_error(name, "A price cannot be negative.")
        return cleaned


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
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
        (
            "Per million tokens",
            {
                "fields": (
                    "input_per_million",
                    "cached_input_per_million",
                    "output_per_million",
                    "thinking_output_per_million",
                )
            },
        ),
    )
