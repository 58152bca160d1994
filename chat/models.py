from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conversations",
        verbose_name=_("owner"),
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    title_is_final = models.BooleanField(
        _("title is final"),
        default=False,
        help_text=_("Set once the user renamed it or a title was generated."),
    )
    # The composer's last choices, so they stick per conversation.
    model = models.CharField(_("model"), max_length=100, blank=True)
    enable_thinking = models.BooleanField(_("enable thinking"), null=True, blank=True)
    thinking_budget = models.PositiveIntegerField(_("thinking budget"), null=True, blank=True)
    # Sent as the first, "system" message of every request (empty: none). A new
    # conversation starts with its owner's default_system_prompt, or a preset's.
    system_prompt = models.TextField(_("system prompt"), blank=True, max_length=8000)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_index=True)
    # Deleting hides a conversation from its owner; its messages stay for the spend
    # report, quotas and admin review (a hard delete would let anyone reset their quota).
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="conv_owner_updated")]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        return self.title or gettext("Conversation %(id)s") % {"id": self.id}


class UsageColumns(models.Model):
    """What one upstream request used and cost, priced when it was asked."""

    input_tokens = models.PositiveIntegerField(_("input tokens"), default=0)
    output_tokens = models.PositiveIntegerField(_("output tokens"), default=0)
    reasoning_tokens = models.PositiveIntegerField(_("reasoning tokens"), default=0)
    cached_tokens = models.PositiveIntegerField(_("cached tokens"), default=0)
    total_tokens = models.PositiveIntegerField(_("total tokens"), default=0)
    # Counted by us from the text because the upstream reported nothing (a stop, a crash).
    usage_estimated = models.BooleanField(_("usage estimated"), default=False)
    cost = models.DecimalField(_("cost"), max_digits=18, decimal_places=6, null=True, blank=True)
    cost_currency = models.CharField(_("cost currency"), max_length=3, blank=True)

    class Meta:
        abstract = True


class Message(UsageColumns):
    class Role(models.TextChoices):
        USER = "user", _("User")
        ASSISTANT = "assistant", _("Assistant")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        STREAMING = "streaming", _("Streaming")
        COMPLETE = "complete", _("Complete")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")
        INTERRUPTED = "interrupted", _("Interrupted")

    FINISHED = (Status.COMPLETE, Status.CANCELLED, Status.FAILED, Status.INTERRUPTED)

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    # An assistant message answers one user message; regenerations are its siblings (versions).
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="versions",
        verbose_name=_("reply to"),
    )
    is_active_version = models.BooleanField(_("is active version"), default=True)
    # A user message follows ``parent``, the user message of the turn before it in its
    # branch (chat/branches.py); edits of a turn are siblings: the same parent. Empty: the
    # first turn, or a message written before branches (it follows the previous one).
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="next_turns",
        verbose_name=_("parent"),
    )
    # The user message this one is an edited version of.
    edit_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="edits",
        verbose_name=_("edit of"),
    )
    content = models.TextField(_("content"), blank=True)
    reasoning = models.TextField(_("reasoning"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.COMPLETE
    )
    model = models.CharField(_("model"), max_length=100, blank=True)
    enable_thinking = models.BooleanField(_("enable thinking"), null=True, blank=True)
    thinking_budget = models.PositiveIntegerField(_("thinking budget"), null=True, blank=True)
    finish_reason = models.CharField(_("finish reason"), max_length=40, null=True, blank=True)  # noqa: DJ001  (null = not finished)
    error_code = models.CharField(_("error code"), max_length=80, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    # Tokens held against the owner's quota while the reply is pending or streaming (an
    # estimate made at send); 0 once it ended and its real usage counts instead.
    reserved_tokens = models.PositiveIntegerField(_("reserved tokens"), default=0)
    # The money counterpart (budget currency), when the model has a price.
    reserved_cost = models.DecimalField(
        _("reserved cost"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    upstream_request_id = models.CharField(_("upstream request id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    first_token_at = models.DateTimeField(_("first token at"), null=True, blank=True)
    answer_started_at = models.DateTimeField(_("answer started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True)
    # The claim token of the worker streaming this reply; every write it makes checks it.
    lease = models.CharField(_("lease"), max_length=32, blank=True)
    # The seq of the last event whose text is in reasoning/content; once finished, the seq
    # of the final status event. A client holding this seq holds exactly this text.
    stream_seq = models.PositiveIntegerField(_("stream seq"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    # Queueing its generation failed (broker down); the reaper queues it again.
    needs_dispatch = models.BooleanField(_("needs dispatch"), default=False)
    # The retention policy removed its text, reasoning and attachments; usage and cost stay.
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="msg_conv_created"),
            models.Index(fields=["status", "heartbeat_at"], name="msg_status_heartbeat"),
            models.Index(fields=["role", "created_at"], name="msg_role_created"),
            models.Index(fields=["model", "created_at"], name="msg_model_created"),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        values = {
            "role": self.get_role_display(),
            "id": self.id,
            "status": self.get_status_display(),
        }
        return gettext("%(role)s message %(id)s (%(status)s)") % values

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class Preset(models.Model):
    """An assistant a user saved: a name over a model, thinking settings and a system prompt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presets"
    )
    name = models.CharField(max_length=80)
    model = models.CharField(max_length=100)
    enable_thinking = models.BooleanField(null=True, blank=True)
    thinking_budget = models.PositiveIntegerField(null=True, blank=True)
    system_prompt = models.TextField(blank=True, max_length=8000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "created_at"]

    def __str__(self) -> str:
        return f"preset {self.name} of {self.owner_id}"


class ModelPrice(models.Model):
    """Prices per million tokens for one model, in force from ``effective_from`` on."""

    model = models.CharField(_("model"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    input_per_million = models.DecimalField(_("input per million"), max_digits=12, decimal_places=6)
    cached_input_per_million = models.DecimalField(
        _("cached input per million"),
        max_digits=12, decimal_places=6, null=True, blank=True,
        help_text=_("Empty: cached input tokens cost the normal input price."),
    )  # fmt: skip
    output_per_million = models.DecimalField(
        _("output per million"),
        max_digits=12,
        decimal_places=6,
        help_text=_("Output price in non-thinking mode."),
    )
    thinking_output_per_million = models.DecimalField(
        _("thinking output per million"),
        max_digits=12, decimal_places=6, null=True, blank=True,
        help_text=_("Output price when the reply contains reasoning. Empty: same as non-thinking."),
    )  # fmt: skip
    effective_from = models.DateTimeField(_("effective from"), default=timezone.now)

    class Meta:
        ordering = ["model", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "effective_from"], name="price_model_from_unique"
            )
        ]
        verbose_name = _("model price")
        verbose_name_plural = _("model prices")

    def __str__(self) -> str:
        values = {"model": self.model, "day": f"{self.effective_from:%Y-%m-%d}"}
        return gettext("%(model)s from %(day)s") % values


class ShareLink(models.Model):
    """A read-only, public snapshot of a conversation, reached by a secret token.

    Only the SHA-256 of the token is stored, so a database leak does not leak live links.
    The snapshot is the list of message ids that were complete when the link was made
    (for each turn, the version active then), in order: finished messages never change,
    so the ids pin the text, and a later regeneration or version switch does not move it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="share_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    include_reasoning = models.BooleanField(default=False)
    title = models.CharField(max_length=200, blank=True)
    message_ids = models.JSONField(default=list)
    snapshot_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["conversation", "-created_at"], name="share_conv_created"),
        ]

    def __str__(self) -> str:
        return f"share {str(self.id)[:8]} of {self.conversation_id}"

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def upload_path(upload: Upload, filename: str) -> str:
    # Random names: the path never reveals the owner's file name, nor is it guessable.
    return f"uploads/{upload.owner_id}/{upload.id.hex}"


class Upload(models.Model):
    """An image a user attached (or is about to attach) to a message. Private to its owner."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=upload_path)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Once attached: its place among the message's attachments, and whether it is a frame
    # of the message's video (frames go upstream together, in order, as one video).
    position = models.PositiveSmallIntegerField(default=0)
    is_video_frame = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return f"{self.content_type} upload {self.id}"


class StoredFile(models.Model):
    """The bytes of a file kept in the database (``PONDER_MEDIA_STORAGE=database``)."""

    name = models.CharField(max_length=255, unique=True)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"stored file {self.name} ({self.size} bytes)"


class TitleUsage(UsageColumns):
    """The tokens a generated conversation title cost: a request of its own, billed too."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="title_usages"
    )
    model = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["created_at"], name="titleusage_created")]

    def __str__(self) -> str:
        return f"title of {self.conversation_id} by {self.model}"


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit entries cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries cannot be deleted")


class AppendOnly(Exception):
    """An attempt to change or delete an audit entry."""


class AuditEntry(models.Model):
    """One thing someone did that an auditor may ask about. Written once, never changed.

    Who did it is kept by name and id, not by foreign key: deleting a user must neither
    delete nor rewrite the record of what they did. The database refuses updates too
    (a trigger, migration 0008).
    """

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", _("Sign In")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign In Failed")
        SIGN_OUT = "sign_out", _("Sign Out")
        TRANSCRIPT_VIEWED = "transcript_viewed", _("Transcript Viewed")
        SHARE_CREATED = "share_created", _("Share Created")
        SHARE_VIEWED = "share_viewed", _("Share Viewed")
        SHARE_REVOKED = "share_revoked", _("Share Revoked")
        PRICE_CHANGED = "price_changed", _("Price Changed")
        QUOTA_CHANGED = "quota_changed", _("Quota Changed")
        GROUP_CHANGED = "group_changed", _("Group Changed")
        POLICY_CHANGED = "policy_changed", _("Policy Changed")
        LEGAL_HOLD_CHANGED = "legal_hold_changed", _("Legal Hold Changed")
        EXPORT_DOWNLOADED = "export_downloaded", _("Export Downloaded")
        CONVERSATION_DELETED = "conversation_deleted", _("Conversation Deleted")
        RETENTION_RUN = "retention_run", _("Retention Run")

    id = models.BigAutoField(_("id"), primary_key=True)
    at = models.DateTimeField(_("at"), default=timezone.now, editable=False)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    actor_user_id = models.BigIntegerField(
        _("actor user id"), null=True, blank=True
    )  # null: the system
    actor = models.CharField(
        _("actor"), max_length=150, blank=True, help_text=_("Username; empty: the system.")
    )
    ip = models.GenericIPAddressField(_("ip"), null=True, blank=True)
    # What it was done to: a kind ("conversation", "share", "price", "user", …), its id,
    # and the user whose data it is, when that is someone.
    target_type = models.CharField(_("target type"), max_length=40, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_owner = models.CharField(_("target owner"), max_length=150, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at"], name="audit_at"),
            models.Index(fields=["action", "-at"], name="audit_action_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor or 'system'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries cannot be deleted")
