"""Messages one by one, each linked to its conversation's transcript; read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat.admin.filters import (
    ReplyModelFilter,
    cost_text,
    text_contains,
)
from chat.admin.transcripts import transcript_url
from chat.models import Message

if TYPE_CHECKING:  # Django's admin classes are generic only in django-stubs
    _MessageAdminBase = admin.ModelAdmin[Message]
else:
    _MessageAdminBase = admin.ModelAdmin


@admin.register(Message)
class MessageAdmin(_MessageAdminBase):
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
    search_help_text = _("Searches the text and reasoning of messages.")
    list_select_related = ("conversation__owner",)
    ordering = ("-created_at",)
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ("transcript_link",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Message], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(text_contains(term)), False

    @admin.display(description=_("id"))
    def short_id(self, message: Message) -> str:
        return str(message.id)[:8]

    @admin.display(description=_("conversation"))
    def conversation_link(self, message: Message) -> str:
        return format_html(
            '<a href="{}#message-{}">{}</a>',
            transcript_url(message.conversation_id),
            message.id,
            message.conversation,
        )

    @admin.display(description=_("owner"), ordering="conversation__owner__username")
    def owner(self, message: Message) -> str:
        return message.conversation.owner.username

    @admin.display(description=_("cost"), ordering="cost")
    def cost_display(self, message: Message) -> str:
        is_reply = message.role == Message.Role.ASSISTANT
        unpriced = int(is_reply and message.is_finished and message.cost is None)
        return cost_text(message.cost, message.cost_currency, unpriced)

    @admin.display(description=_("transcript"))
    def transcript_link(self, message: Message) -> str:
        return format_html(
            '<a href="{}#message-{}">{}</a>',
            transcript_url(message.conversation_id),
            message.id,
            gettext("Read it in its conversation"),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A reply's versions and the next turn's history hang off each message.
        return False
