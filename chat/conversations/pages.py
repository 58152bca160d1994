"""Pages of the chat app: the shell the ES modules in ``static/js/`` bring to life."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from chat.http import AuthenticatedHttpRequest, error_page

from . import services
from .serializers import conversation_json, conversation_summary_json


def render_app(
    request: AuthenticatedHttpRequest, conversation: dict[str, Any] | None
) -> HttpResponse:
    conversations = services.list_conversations(request.user)
    context = {
        "conversation": conversation,
        "conversations": conversations,
        "initial": {
            "conversation": conversation,
            "conversations": [conversation_summary_json(c) for c in conversations],
            "username": request.user.get_username(),
            "retention_days": settings.RETENTION_DAYS,
        },
    }
    return render(request, "chat/app.html", context)


@require_GET
@login_required
@ensure_csrf_cookie
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show the chat with no conversation open: the composer starts a new one."""
    return render_app(request, None)


@require_GET
@login_required
@ensure_csrf_cookie
@error_page("chat/not_found.html")
def conversation_page(
    request: AuthenticatedHttpRequest, conversation_id: uuid.UUID
) -> HttpResponse:
    """Show one of the user's conversations; someone else's is a 404."""
    conversation = services.access_conversation(request.user, conversation_id)
    shown = services.shown_messages(conversation)
    return render_app(request, conversation_json(conversation, shown.messages, shown.versions))
