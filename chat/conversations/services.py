"""Use cases of the chat: each takes a user and plain values, views stay thin."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from accounts.policy import Policy, policy_for
from chat.audit import Action, record
from chat.branches import conversation_tree
from chat.errors import BadRequest, Conflict, NotFound
from chat.fairuse import admission
from chat.models import Conversation, Message, Upload
from chat.observability import metrics
from chat.observability.logcontext import request_id
from chat.streaming import bus
from chat.streaming.events import status_event
from chat.tasks import queue_reply
from chat.uploads.images import uploads_to_attach
from chat.upstream.catalog import InvalidRequest, ModelInfo, get_model, resolve_thinking

logger = logging.getLogger(__name__)

MAX_CONTENT_CHARS = 32_000
MAX_TITLE_CHARS = 200
PROVISIONAL_TITLE_WORDS = 8


@dataclass(frozen=True, slots=True)
class ReplySettings:
    model: ModelInfo
    enable_thinking: bool
    thinking_budget: int | None


def access_conversation(user: User, conversation_id: uuid.UUID) -> Conversation:
    """Return the user's conversation, or raise NotFound."""
    try:
        return Conversation.objects.get(id=conversation_id, owner=user, deleted_at__isnull=True)
    except Conversation.DoesNotExist:
        raise NotFound("conversation") from None


def access_message(user: User, message_id: uuid.UUID) -> Message:
    """Return a message of one of the user's conversations, or raise NotFound."""
    try:
        return Message.objects.select_related("conversation").get(
            id=message_id, conversation__owner=user, conversation__deleted_at__isnull=True
        )
    except Message.DoesNotExist:
        raise NotFound("message") from None


def list_conversations(user: User) -> list[Conversation]:
    """Return the user's conversations, newest first (``search`` finds them by words)."""
    conversations = Conversation.objects.filter(owner=user, deleted_at__isnull=True)
    return list(conversations.order_by("-updated_at")[:500])


def create_conversation(
    user: User, title: str = "", *, system_prompt: str | None = None
) -> Conversation:
    """Start a conversation; its system prompt is the user's default unless one is given."""
    return Conversation.objects.create(
        owner=user,
        title=title.strip(),
        title_is_final=bool(title.strip()),
        system_prompt=user.default_system_prompt if system_prompt is None else system_prompt,
    )


def update_conversation(
    user: User,
    conversation_id: uuid.UUID,
    *,
    title: str | None = None,
    system_prompt: str | None = None,
) -> Conversation:
    """Rename a conversation and/or set its system prompt (empty: none)."""
    conversation = access_conversation(user, conversation_id)
    if title is None and system_prompt is None:
        raise BadRequest(
            gettext("Send a title or a system_prompt."), code="required", field="title"
        )
    fields = []
    if title is not None:
        if not title.strip():
            raise BadRequest(gettext("The title cannot be empty."), code="required", field="title")
        conversation.title, conversation.title_is_final = title.strip(), True
        fields += ["title", "title_is_final"]
    if system_prompt is not None:
        conversation.system_prompt = system_prompt.strip()
        fields.append("system_prompt")
    conversation.save(update_fields=fields)
    return conversation


def delete_conversation(user: User, conversation_id: uuid.UUID) -> None:
    """Hide a conversation from its owner for good, and stop its running replies."""
    conversation = access_conversation(user, conversation_id)
    Conversation.objects.filter(id=conversation.id).update(deleted_at=timezone.now())
    record(
        Action.CONVERSATION_DELETED,
        actor=user,
        target_type="conversation",
        target_id=conversation.id,
        target_owner=user,
    )
    running = conversation.messages.filter(
        status__in=[Message.Status.PENDING, Message.Status.STREAMING]
    ).values_list("id", flat=True)
    for message_id in running:
        request_stop(message_id)


@dataclass(frozen=True, slots=True)
class ShownMessages:
    """The messages of the active branch, in order, and each user turn's versions."""

    messages: list[Message]
    versions: dict[uuid.UUID, list[uuid.UUID]]


def shown_messages(conversation: Conversation) -> ShownMessages:
    """Return the active branch: its user turns, each followed by its replies (all versions)."""
    tree = conversation_tree(conversation.id)
    path = tree.active_path()
    rows = conversation.messages.filter(Q(id__in=path) | Q(reply_to__in=path)).prefetch_related(
        "attachments"
    )
    replies: dict[uuid.UUID | None, list[Message]] = {}
    users: dict[uuid.UUID, Message] = {}
    for message in sorted(rows, key=lambda m: m.created_at):
        if message.role == Message.Role.USER:
            users[message.id] = message
        else:
            replies.setdefault(message.reply_to_id, []).append(message)
    ordered = [m for i in path for m in (users[i], *replies.get(i, []))]
    return ShownMessages(ordered, {i: tree.versions(i) for i in path})


def conversation_messages(conversation: Conversation) -> list[Message]:
    return shown_messages(conversation).messages


def check_reply_settings(
    policy: Policy, model_id: str, enable_thinking: bool | None, thinking_budget: int | None
) -> ReplySettings:
    """Validate a model choice against the catalog and the user's policy.

    Raise BadRequest naming the field, or Forbidden for a model the policy does not allow.
    """
    model = get_model(model_id)
    if model is None:
        message = gettext("Unknown model %(model)s.") % {"model": repr(model_id)}
        raise BadRequest(message, code="unknown_model", field="model")
    admission.check_model_allowed(policy, model)
    try:
        thinking, budget = resolve_thinking(model, enable_thinking, thinking_budget)
    except InvalidRequest as exc:
        message = gettext(exc.template) % exc.params if exc.params else gettext(exc.template)
        raise BadRequest(message, code=exc.code, field=exc.field) from None
    return ReplySettings(
        model, thinking, admission.capped_thinking_budget(policy, model, thinking, budget)
    )


def provisional_title(content: str) -> str:
    words = content.split()
    title = " ".join(words[:PROVISIONAL_TITLE_WORDS])
    if len(words) > PROVISIONAL_TITLE_WORDS:
        title += "…"
    return title[:80]


def check_content(content: str) -> None:
    """Refuse an empty message, or one too long."""
    if not content.strip():
        raise BadRequest(gettext("The message is empty."), code="required", field="content")
    if len(content) > MAX_CONTENT_CHARS:
        raise BadRequest(
            gettext("The message is longer than %(limit)s characters.")
            % {"limit": MAX_CONTENT_CHARS},
            code="too_long",
            field="content",
        )


@dataclass(frozen=True, slots=True)
class SentMessage:
    user_message: Message
    assistant_message: Message


def send_message(
    user: User,
    conversation: Conversation,
    *,
    content: str,
    model: str,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    attachments: list[uuid.UUID] | None = None,
    video_frames: list[uuid.UUID] | None = None,
) -> SentMessage:
    """Store the user's message and a pending reply, and queue the reply after commit.

    ``conversation`` comes from ``access_conversation(user, …)``: the caller has already
    answered 404 for someone else's, before any 400 about the body.
    """
    check_content(content)
    policy = policy_for(user)
    reply = check_reply_settings(policy, model, enable_thinking, thinking_budget)
    attachments, video_frames = attachments or [], video_frames or []
    images = uploads_to_attach(user, attachments + video_frames)
    if images and not reply.model.vision:
        raise BadRequest(
            gettext("%(model)s cannot see images; pick a vision model or remove the attachments.")
            % {"model": reply.model.label},
            code="model_without_vision",
            field="attachments",
        )
    reserve = reserve_reply(user, conversation, reply, content, images=len(images))
    now = timezone.now()
    with admission.admit_reply(user, policy, reserve):
        path = conversation_tree(conversation.id).active_path()
        user_message = Message.objects.create(
            conversation=conversation, role=Message.Role.USER, content=content,
            status=Message.Status.COMPLETE, created_at=now,
            parent_id=path[-1] if path else None,
        )  # fmt: skip
        attached = sum(
            Upload.objects.filter(id=image.id, owner=user, message__isnull=True).update(
                message=user_message, position=position, is_video_frame=image.id in video_frames
            )
            for position, image in enumerate(images)
        )
        if attached != len(images):  # another request took one of them meanwhile
            raise BadRequest(
                gettext("An attachment is already used."),
                code="unknown_attachment",
                field="attachments",
            )
        assistant_message = create_pending_reply(
            user_message, reply, reserve=reserve, created_at=now + timedelta(microseconds=1)
        )
        conversation.updated_at = now
        conversation.model = reply.model.id
        conversation.enable_thinking = enable_thinking
        conversation.thinking_budget = reply.thinking_budget
        if not conversation.title:
            conversation.title = provisional_title(content)
        conversation.save()
    return SentMessage(user_message, assistant_message)


def reserve_reply(
    user: User, conversation: Conversation, reply: ReplySettings, content: str, *, images: int = 0
) -> admission.Reservation:
    """Count a new reply against the user's send rate; return what it is expected to use."""
    admission.check_send_rate(user)
    return admission.reservation(
        conversation,
        model=reply.model.id,
        content=content,
        enable_thinking=reply.enable_thinking,
        thinking_budget=reply.thinking_budget,
        images=images,
    )


def create_pending_reply(
    user_message: Message,
    reply: ReplySettings,
    *,
    reserve: admission.Reservation,
    created_at: datetime | None = None,
) -> Message:
    """Create a pending assistant message and enqueue its generation once committed.

    Call it inside ``admission.admit_reply(user, policy, reserve)``, which admitted it.
    """
    message = Message.objects.create(
        conversation=user_message.conversation,
        role=Message.Role.ASSISTANT,
        reply_to=user_message,
        status=Message.Status.PENDING,
        model=reply.model.id,
        enable_thinking=reply.enable_thinking,
        thinking_budget=reply.thinking_budget,
        reserved_tokens=reserve.tokens,
        reserved_cost=reserve.cost,
        created_at=created_at or timezone.now(),
    )
    transaction.on_commit(lambda: dispatch_reply(message.id))
    return message


def dispatch_reply(message_id: uuid.UUID) -> None:
    """Queue a committed reply's generation; with the broker down, leave it to the reaper.

    The user's message and the pending reply are saved either way, so the send still
    answers 202; workers queue it again within a reaper round of the broker's return.
    """
    try:
        queue_reply(message_id, request_id.get())
    except Exception as exc:
        logger.warning("queueing reply %s failed (%s); the reaper will queue it",
                       message_id, type(exc).__name__)  # fmt: skip
        Message.objects.filter(id=message_id, status=Message.Status.PENDING).update(
            needs_dispatch=True
        )
        metrics.REPLIES_QUEUED.labels("deferred").inc()
    else:
        logger.info("reply %s queued", message_id)
        metrics.REPLIES_QUEUED.labels("queued").inc()


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """A model and its thinking settings as the client asked for them (not yet checked)."""

    model: str
    enable_thinking: bool | None = None
    thinking_budget: int | None = None


def regenerate_message(
    user: User, message_id: uuid.UUID, choice: ModelChoice | None = None
) -> Message:
    """Add a new version of an assistant reply; it becomes the version on screen.

    With ``choice`` the new version comes from that model (checked as a send is), else
    from the reply's own. A model without vision gets the turn's images as placeholders.
    """
    original = access_message(user, message_id)
    if original.role != Message.Role.ASSISTANT or original.reply_to_id is None:
        raise BadRequest(
            gettext("Only assistant replies can be regenerated."), code="not_assistant"
        )
    if not original.is_finished:
        raise Conflict(
            gettext("This reply is still being written; stop it first."), code="still_streaming"
        )
    policy = policy_for(user)
    if choice is None:
        choice = ModelChoice(original.model, original.enable_thinking, original.thinking_budget)
    reply = check_reply_settings(
        policy, choice.model, choice.enable_thinking, choice.thinking_budget
    )
    question = original.reply_to
    assert question is not None  # reply_to_id was checked above
    images = question.attachments.count() if reply.model.vision else 0
    reserve = reserve_reply(user, original.conversation, reply, question.content, images=images)
    with admission.admit_reply(user, policy, reserve):
        Message.objects.filter(reply_to_id=original.reply_to_id).update(is_active_version=False)
        message = create_pending_reply(question, reply, reserve=reserve)
        Conversation.objects.filter(id=original.conversation_id).update(updated_at=timezone.now())
    return message


def select_version(user: User, message_id: uuid.UUID) -> Message:
    """Make this version of a turn the one shown (and sent upstream).

    For a user message, that switches the branch: the turns after it follow it.
    """
    message = access_message(user, message_id)
    if message.role == Message.Role.USER:
        siblings = conversation_tree(message.conversation_id).versions(message.id)
    elif message.reply_to_id is not None:
        siblings = list(
            Message.objects.filter(reply_to_id=message.reply_to_id).values_list("id", flat=True)
        )
    else:
        raise BadRequest(gettext("This message has no versions."), code="no_versions")
    with transaction.atomic():
        Message.objects.filter(id__in=siblings).update(is_active_version=False)
        Message.objects.filter(id=message.id).update(is_active_version=True)
    message.is_active_version = True
    return message


def stop_message(user: User, message_id: uuid.UUID) -> Message:
    """Stop a reply: a pending one ends here, a streaming one is told to stop by its worker."""
    message = access_message(user, message_id)
    if message.role != Message.Role.ASSISTANT:
        raise BadRequest(gettext("Only assistant replies can be stopped."), code="not_assistant")
    if message.is_finished:
        return message
    now = timezone.now()
    cancelled_before_claim = Message.objects.filter(
        id=message.id, status=Message.Status.PENDING
    ).update(
        status=Message.Status.CANCELLED,
        completed_at=now,
        cancel_requested=True,
        stream_seq=1,
        reserved_tokens=0,
        reserved_cost=None,
    )
    if cancelled_before_claim:
        message.refresh_from_db()
        event = status_event(message, seq=1)
        announce(lambda: bus.publish_ended(message.conversation_id, event), message.id)
    else:
        request_stop(message.id)
    return message


def request_stop(message_id: uuid.UUID) -> None:
    """Ask the worker streaming a reply to stop it.

    The database keeps the request (the worker reads it at its next save, within about a
    second); Redis carries it at once when it can.
    """
    Message.objects.filter(id=message_id).update(cancel_requested=True)
    announce(lambda: bus.request_cancel(message_id), message_id)


def announce(send: Callable[[], None], message_id: uuid.UUID) -> None:
    """Tell Redis now if it answers; what it misses, the database already holds."""
    try:
        send()
    except Exception as exc:
        logger.warning("Redis unreachable for %s (%s); the database carries it",
                       message_id, type(exc).__name__)  # fmt: skip
