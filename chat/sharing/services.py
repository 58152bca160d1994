"""Share links: public, read-only snapshots of a conversation behind a secret token.

A token is 256 bits (43 URL-safe characters): the HMAC-SHA256, under SECRET_KEY, of the
link's random id, so the owner's list can show a link's URL again (``link_token``).
Only its SHA-256 is stored: a leaked database alone holds no live link (it takes the
SECRET_KEY too), and since the token carries far more entropy than anyone can search,
an unsalted hash is enough. Links made before tokens were derived had random ones;
their URL cannot be rebuilt, and the list says so. A link is found by its
hash, so the lookup never compares secret material byte by byte; the final
``compare_digest`` keeps it constant-time even if the database compares early-out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

from accounts.models import User
from chat.conversations.services import access_conversation, conversation_messages
from chat.errors import BadRequest, NotFound
from chat.l10n import grouped
from chat.models import Conversation, Message, ShareLink, Upload
from chat.upstream.catalog import get_model

from .markdown import render_markdown

TOKEN_BYTES = 32
MAX_EXPIRES_IN_DAYS = 365
# token_urlsafe's alphabet; anything else cannot be a token, so it is not looked up.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,100}")


@dataclass(frozen=True, slots=True)
class CreatedShare:
    """A new link and its token: the only moment the token exists outside the browser."""

    link: ShareLink
    token: str


@dataclass(frozen=True)
class SharedMessage:
    """One message as the share page shows it; ``reasoning`` is empty when not shared."""

    role: str
    content: str
    reasoning: str
    model: str
    thought_seconds: float | None
    reasoning_tokens: int
    attachments: tuple[Upload, ...] = ()

    @property
    def content_html(self) -> SafeString:
        return render_markdown(self.content)

    @property
    def model_label(self) -> str:
        """Return the model's name as the chat shows it ("Qwen-Plus"), else its id."""
        info = get_model(self.model) if self.model else None
        return info.label if info is not None else self.model

    @property
    def thinking_label(self) -> str:
        """Return the pane's summary, worded as the chat's: "Thought for 12.4 s · …"."""
        values = {
            "duration": f"{self.thought_seconds:.1f}" if self.thought_seconds is not None else "",
            "tokens": grouped(self.reasoning_tokens),
        }
        if self.thought_seconds is None and not self.reasoning_tokens:
            return gettext("Thought")
        if not self.reasoning_tokens:
            return gettext("Thought for %(duration)s s") % values
        if self.thought_seconds is None:
            label = ngettext(
                "Thought · %(tokens)s reasoning token",
                "Thought · %(tokens)s reasoning tokens",
                self.reasoning_tokens,
            )
        else:
            label = ngettext(
                "Thought for %(duration)s s · %(tokens)s reasoning token",
                "Thought for %(duration)s s · %(tokens)s reasoning tokens",
                self.reasoning_tokens,
            )
        return label % values


@dataclass(frozen=True, slots=True)
class SharedConversation:
    title: str
    snapshot_at: datetime
    include_reasoning: bool
    messages: list[SharedMessage]


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def derive_token(link_id: uuid.UUID) -> str:
    """Return the token of the link with this id: an HMAC of the id under SECRET_KEY."""
    digest = salted_hmac("ponder.share-link", str(link_id), algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_token(link: ShareLink) -> str | None:
    """Return the link's token if it can be rebuilt (it was derived, under this key)."""
    token = derive_token(link.id)
    return token if hmac.compare_digest(hash_token(token), link.token_hash) else None


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of a token, the only form in which it is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def snapshot_message_ids(conversation_id: uuid.UUID) -> list[str]:
    """Return the ids of the messages a link made now shows, in order.

    That is every complete message of the active branch that is the active version of its
    turn; replies still pending or streaming, and ones that failed or were stopped, are
    left out.
    """
    shown = conversation_messages(Conversation.objects.get(id=conversation_id))
    ids = [m.id for m in shown if m.status == Message.Status.COMPLETE and m.is_active_version]
    return [str(message_id) for message_id in ids]


def create_share(
    user: User,
    conversation_id: uuid.UUID,
    *,
    include_reasoning: bool,
    expires_in_days: int | None = None,
) -> CreatedShare:
    """Snapshot the user's conversation behind a new token; return the link and token."""
    conversation = access_conversation(user, conversation_id)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRES_IN_DAYS:
        raise BadRequest(
            gettext("expires_in_days must be between 1 and %(limit)s.")
            % {"limit": MAX_EXPIRES_IN_DAYS},
            code="out_of_range",
            field="expires_in_days",
        )
    message_ids = snapshot_message_ids(conversation.id)
    if not message_ids:
        raise BadRequest(
            gettext("There is no finished message to share yet."), code="nothing_to_share"
        )
    now = timezone.now()
    link_id = uuid.uuid4()
    token = derive_token(link_id)
    link = ShareLink.objects.create(
        id=link_id,
        conversation=conversation,
        created_by=user,
        token_hash=hash_token(token),
        include_reasoning=include_reasoning,
        title=conversation.title,
        message_ids=message_ids,
        snapshot_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        created_at=now,
    )
    return CreatedShare(link, token)


def list_shares(user: User, conversation_id: uuid.UUID) -> list[ShareLink]:
    """Return the live (not revoked, not expired) links of the user's conversation."""
    conversation = access_conversation(user, conversation_id)
    not_expired = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    links = conversation.share_links.filter(not_expired, revoked_at__isnull=True)
    return list(links.order_by("-created_at"))


def revoke_link(link: ShareLink) -> None:
    """Kill the link at once; revoking a dead link again changes nothing."""
    ShareLink.objects.filter(id=link.id, revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_share(user: User, token: str) -> ShareLink:
    """Revoke the link with this token, if it belongs to the user; else raise NotFound."""
    link = ShareLink.objects.filter(token_hash=hash_token(token), conversation__owner=user).first()
    if link is None:
        raise NotFound("share link")
    revoke_link(link)
    return link


def revoke_share_by_id(user: User, link_id: uuid.UUID) -> ShareLink:
    """Revoke one of the user's links by its id (the list shows ids, never tokens)."""
    link = ShareLink.objects.filter(id=link_id, conversation__owner=user).first()
    if link is None:
        raise NotFound("share link")
    revoke_link(link)
    return link


def resolve_share(token: str) -> ShareLink:
    """Return the live link for a token, or raise NotFound: unknown, revoked and
    expired tokens are indistinguishable."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise NotFound("share link")
    digest = hash_token(token)
    link = (
        ShareLink.objects.select_related("conversation__owner")
        .filter(
            token_hash=digest,
            conversation__owner__is_active=True,
            conversation__deleted_at__isnull=True,
        )
        .first()
    )
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        raise NotFound("share link")
    if not link.is_live(timezone.now()):
        raise NotFound("share link")
    return link


def count_view(link: ShareLink) -> None:
    """Add one to the link's view counter (an atomic update; nothing about the viewer)."""
    ShareLink.objects.filter(id=link.id).update(view_count=F("view_count") + 1)


def thought_seconds(message: Message) -> float | None:
    """Return how long the model reasoned, as the chat's thinking pane measures it."""
    start = message.first_token_at
    end = message.answer_started_at or message.completed_at
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds()


def shared_conversation(link: ShareLink) -> SharedConversation:
    """Return the link's snapshot, without any reasoning unless the link includes it."""
    messages = Message.objects.filter(
        conversation_id=link.conversation_id,
        id__in=link.message_ids,
        status=Message.Status.COMPLETE,
        purged_at__isnull=True,
    ).prefetch_related("attachments")
    by_id = {str(message.id): message for message in messages}
    shown = [by_id[message_id] for message_id in link.message_ids if message_id in by_id]
    return SharedConversation(
        title=link.title,
        snapshot_at=link.snapshot_at,
        include_reasoning=link.include_reasoning,
        messages=[shared_message(message, link.include_reasoning) for message in shown],
    )


def shared_message(message: Message, include_reasoning: bool) -> SharedMessage:
    has_reasoning = include_reasoning and bool(message.reasoning)
    return SharedMessage(
        role=message.role,
        content=message.content,
        reasoning=message.reasoning if has_reasoning else "",
        model=message.model,
        thought_seconds=thought_seconds(message) if has_reasoning else None,
        reasoning_tokens=message.reasoning_tokens if has_reasoning else 0,
        attachments=tuple(message.attachments.all()),
    )


def shared_upload(link: ShareLink, upload_id: uuid.UUID) -> Upload:
    """Return an image attached to a message of the link's snapshot, or raise NotFound."""
    upload = Upload.objects.filter(
        id=upload_id,
        message__conversation_id=link.conversation_id,
        message__status=Message.Status.COMPLETE,
    ).first()
    if upload is None or str(upload.message_id) not in link.message_ids:
        raise NotFound("image")
    return upload
