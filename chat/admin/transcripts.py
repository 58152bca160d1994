"""Conversations as full transcripts with reasoning, usage, timings and cost; read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat import l10n
from chat.admin.filters import (
    ReplyStatusFilter,
    UsedModelFilter,
    cost_text,
    matching_conversations,
)
from chat.audit import Action, record
from chat.models import Conversation, Message
from chat.streaming.errortext import localize_error_message

if TYPE_CHECKING:  # django-stubs' helpers: types only, not needed (nor installed) at runtime
    from django_stubs_ext import WithAnnotations

    _ConversationAdminBase = admin.ModelAdmin[Conversation]
else:
    _ConversationAdminBase = admin.ModelAdmin


class ConversationTotals(TypedDict):
    """What ``ConversationAdmin.get_queryset`` annotates each conversation with."""

    message_count: int
    token_total: int | None
    cost_total: Decimal | None
    currency_min: str | None
    currency_max: str | None
    unpriced: int


if TYPE_CHECKING:
    TotalledConversation = WithAnnotations[Conversation, ConversationTotals]


@admin.register(Conversation)
class ConversationAdmin(_ConversationAdminBase):
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
    search_help_text = _(
        "Searches titles, owners' usernames and the text and reasoning of messages."
    )
    list_select_related = ("owner",)
    ordering = ("-updated_at",)
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[TotalledConversation]:
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
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Conversation], bool]:
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

    @admin.display(description=_("conversation"), ordering="title")
    def title_or_id(self, conversation: Conversation) -> str:
        untitled = gettext("(untitled %(id)s)") % {"id": str(conversation.id)[:8]}
        return conversation.title or untitled

    @admin.display(description=_("messages"), ordering="message_count")
    def message_count(self, conversation: TotalledConversation) -> int:
        return conversation.message_count

    @admin.display(description=_("tokens"), ordering="token_total")
    def tokens(self, conversation: TotalledConversation) -> str:
        return l10n.grouped(conversation.token_total or 0)

    @admin.display(description=_("last activity"), ordering="updated_at")
    def last_activity(self, conversation: Conversation) -> datetime:
        return conversation.updated_at

    @admin.display(description=_("cost"), ordering="cost_total")
    def cost(self, conversation: TotalledConversation) -> str:
        if conversation.currency_min != conversation.currency_max:
            return gettext("mixed currencies")
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
            # Django's own change_view answers a missing object with this private helper,
            # which django-stubs does not declare.
            redirect: HttpResponse = self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, self.opts, object_id
            )
            return redirect
        if not self.has_view_permission(request, conversation):
            raise PermissionDenied
        record_reading(request, conversation)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(conversation),
            "subtitle": None,
            "conversation": conversation,
            # get_object reads get_queryset(), so the conversation carries its totals.
            "cost": self.cost(cast("TotalledConversation", conversation)),
            "turns": transcript(
                list(conversation.messages.order_by("created_at").prefetch_related("attachments"))
            ),
            "has_delete_permission": self.has_delete_permission(request, conversation),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/chat/conversation/transcript.html", context)


def record_reading(request: HttpRequest, conversation: Conversation) -> None:
    """Leave a trace when an admin reads someone else's conversation; their own is theirs."""
    if conversation.owner_id != request.user.pk:
        record(
            Action.TRANSCRIPT_VIEWED,
            request=request,
            target_type="conversation",
            target_id=conversation.id,
            target_owner=conversation.owner,
        )


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a transcript, with what the template shows beside it."""

    message: Message
    version: int
    versions: int
    cost: str

    @property
    def is_unpriced(self) -> bool:
        """A finished reply without a cost: its model had no price when it was asked."""
        message = self.message
        return (
            message.role == Message.Role.ASSISTANT and message.is_finished and message.cost is None
        )

    @property
    def error_message(self) -> str:
        """Return the stored error message in the reader's language, its detail verbatim."""
        return localize_error_message(self.message.error_message)

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


def transcript_url(conversation_id: Any) -> str:
    return reverse("admin:chat_conversation_change", args=[conversation_id])
