"""Editing an earlier user turn: a new version of it, and a new branch from there on."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from accounts.policy import policy_for
from chat.branches import conversation_tree
from chat.errors import BadRequest, Conflict
from chat.fairuse import admission
from chat.models import Conversation, Message

from .services import (
    SentMessage,
    access_message,
    check_content,
    check_reply_settings,
    create_pending_reply,
    reserve_reply,
)


def edit_message(
    user: User,
    message_id: uuid.UUID,
    *,
    content: str,
    model: str,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
) -> SentMessage:
    """Add an edited version of a user turn and a pending reply to it; show that branch.

    The turns after the original stay on the old branch, reachable by switching the
    turn's version back. Refused (409) while a reply of the conversation is being
    written: its branch would vanish from the screen mid-stream.
    """
    original = access_message(user, message_id)
    if original.role != Message.Role.USER:
        raise BadRequest(gettext("Only your own messages can be edited."), code="not_user_message")
    check_content(content)
    policy = policy_for(user)
    reply = check_reply_settings(policy, model, enable_thinking, thinking_budget)
    if original.attachments.exists():
        raise BadRequest(
            gettext("Messages with images cannot be edited yet; send a new message instead."),
            code="has_attachments",
        )
    conversation = original.conversation
    running = conversation.messages.filter(
        status__in=[Message.Status.PENDING, Message.Status.STREAMING]
    )
    if running.exists():
        raise Conflict(
            gettext("A reply is still being written; stop it first."), code="still_streaming"
        )
    reserve = reserve_reply(user, conversation, reply, content)
    now = timezone.now()
    with admission.admit_reply(user, policy, reserve):
        tree = conversation_tree(conversation.id)
        Message.objects.filter(id__in=tree.versions(original.id)).update(is_active_version=False)
        edited = Message.objects.create(
            conversation=conversation, role=Message.Role.USER, content=content,
            status=Message.Status.COMPLETE, created_at=now,
            parent_id=tree.turns[original.id].parent, edit_of=original,
        )  # fmt: skip
        answer = create_pending_reply(
            edited, reply, reserve=reserve, created_at=now + timedelta(microseconds=1)
        )
        Conversation.objects.filter(id=conversation.id).update(
            updated_at=now,
            model=reply.model.id,
            enable_thinking=reply.enable_thinking,
            thinking_budget=reply.thinking_budget,
        )
    return SentMessage(edited, answer)
