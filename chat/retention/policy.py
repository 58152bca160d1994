"""Purging what the retention policy no longer keeps.

A message older than the cutoff loses its text and reasoning (``purged_at`` says so) and
its images, bytes included; its row stays, with every usage and cost column, model,
status and time, so the spend report and quotas read the same before and after. A
conversation whose messages are all purged loses its title too (titles repeat content),
and every live share link of a purged conversation is revoked.

Never purged: anything of a user under legal hold, and conversations with a reply still
pending or streaming (their history is about to go upstream; the next run takes them).

Work goes in batches of ``BATCH_SIZE`` messages, each its own transaction, so a first run
over years of history never holds one giant transaction. Every step is idempotent: a run
that stops half-way (or an image the store failed to delete) is finished by the next.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.audit import Action, record
from chat.http import iso
from chat.models import Conversation, Message, ShareLink, Upload

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
IN_PROGRESS = (Message.Status.PENDING, Message.Status.STREAMING)


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one run purged (or, for a dry run, would purge)."""

    days: int
    cutoff: datetime
    messages: int = 0
    attachments: int = 0
    conversations: int = 0  # whose messages are now all purged: their title went too
    share_links: int = 0  # revoked
    dry_run: bool = False

    def summary(self) -> str:
        counts = (
            f"{self.messages} messages, {self.attachments} attachments and "
            f"{self.conversations} conversation titles older than {iso(self.cutoff)} "
            f"({self.days} days); {self.share_links} share links"
        )
        if self.dry_run:
            return f"Dry run, nothing changed. Would purge {counts} would be revoked."
        return f"Purged {counts} revoked. Usage and cost are kept."


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    """Return the instant before which messages are purged."""
    return (now or timezone.now()) - timedelta(days=days)


def eligible_messages(cutoff: datetime) -> QuerySet[Message]:
    """Return the unpurged messages older than ``cutoff`` that the policy may purge now."""
    busy = Message.objects.filter(status__in=IN_PROGRESS).values("conversation_id")
    return Message.objects.filter(
        created_at__lt=cutoff,
        purged_at__isnull=True,
        conversation__owner__legal_hold=False,
    ).exclude(conversation_id__in=busy)


def expired_uploads(cutoff: datetime) -> QuerySet[Upload]:
    """Return images to delete: those of purged messages, and ones never attached in time."""
    purged = Q(message__purged_at__isnull=False)
    never_sent = Q(message__isnull=True, created_at__lt=cutoff)
    return Upload.objects.filter(owner__legal_hold=False).filter(purged | never_sent)


def purge_by_policy() -> RetentionReport | None:
    """Purge what ``PONDER_RETENTION_DAYS`` no longer keeps; None when retention is off."""
    if settings.RETENTION_DAYS is None:
        return None
    return purge(settings.RETENTION_DAYS)


def purge(days: int, *, dry_run: bool = False) -> RetentionReport:
    """Purge everything older than ``days`` days; a real run leaves one audit entry.

    A dry run counts what a run would purge now, and writes nothing (no audit entry either:
    nothing happened to anyone's data).
    """
    cutoff = cutoff_for(days)
    if dry_run:
        return preview(days, cutoff)
    messages = conversations = share_links = 0
    while ids := batch_of_eligible(cutoff):
        with transaction.atomic():
            purged, touched = purge_messages(ids)
            messages += purged
            conversations += blank_titles(touched)
            share_links += revoke_share_links(touched)
    report = RetentionReport(
        days, cutoff, messages, delete_uploads(cutoff), conversations, share_links
    )
    record(
        Action.RETENTION_RUN,
        target_type="retention",
        days=days,
        cutoff=iso(cutoff),
        messages=report.messages,
        attachments=report.attachments,
        conversations=report.conversations,
        share_links=report.share_links,
        dry_run=False,
    )
    logger.info("retention: %s", report.summary())
    return report


def preview(days: int, cutoff: datetime) -> RetentionReport:
    """Return what a run at ``cutoff`` would purge, changing nothing."""
    eligible = eligible_messages(cutoff)
    conversation_ids = eligible.values("conversation_id")
    # In a conversation the run touches, only messages newer than the cutoff survive it.
    emptied = Conversation.objects.filter(id__in=conversation_ids).exclude(
        messages__created_at__gte=cutoff
    )
    links = ShareLink.objects.filter(conversation_id__in=conversation_ids, revoked_at__isnull=True)
    attachments = Upload.objects.filter(message__in=eligible).count()
    return RetentionReport(
        days,
        cutoff,
        messages=eligible.count(),
        attachments=attachments + expired_uploads(cutoff).count(),
        conversations=emptied.count(),
        share_links=links.count(),
        dry_run=True,
    )


def batch_of_eligible(cutoff: datetime) -> list[uuid.UUID]:
    return list(eligible_messages(cutoff).values_list("id", flat=True)[:BATCH_SIZE])


def purge_messages(ids: list[uuid.UUID]) -> tuple[int, set[uuid.UUID]]:
    """Blank the text of these messages; return how many, and their conversations' ids."""
    batch = Message.objects.filter(id__in=ids, purged_at__isnull=True)
    touched = set(batch.values_list("conversation_id", flat=True))
    return batch.update(content="", reasoning="", purged_at=timezone.now()), touched


def blank_titles(conversation_ids: Iterable[uuid.UUID]) -> int:
    """Blank the titles of the conversations whose messages are now all purged."""
    emptied = list(
        Conversation.objects.filter(id__in=conversation_ids)
        .exclude(messages__purged_at__isnull=True)
        .values_list("id", flat=True)
    )
    Conversation.objects.filter(id__in=emptied).update(title="")
    ShareLink.objects.filter(conversation_id__in=emptied).update(title="")
    return len(emptied)


def revoke_share_links(conversation_ids: Iterable[uuid.UUID]) -> int:
    """Revoke the live links of these conversations: their snapshots lost their text."""
    live = ShareLink.objects.filter(conversation_id__in=conversation_ids, revoked_at__isnull=True)
    return live.update(revoked_at=timezone.now())


def delete_uploads(cutoff: datetime) -> int:
    """Delete expired images, their stored bytes first; return how many went.

    An image whose bytes the store fails to delete keeps its row, so the next run tries
    again; when a whole batch fails the store is down, and this run stops trying.
    """
    deleted = 0
    failed: set[uuid.UUID] = set()
    while batch := list(expired_uploads(cutoff).exclude(id__in=failed)[:BATCH_SIZE]):
        gone = {upload.id for upload in batch if delete_stored_file(upload)}
        failed.update(upload.id for upload in batch if upload.id not in gone)
        Upload.objects.filter(id__in=gone).delete()
        deleted += len(gone)
        if not gone:
            break
    return deleted


def delete_stored_file(upload: Upload) -> bool:
    """Delete an upload's bytes from the storage; False (logged) when the store failed."""
    try:
        upload.file.delete(save=False)
    except Exception:
        logger.exception("retention: cannot delete the stored file of upload %s", upload.id)
        return False
    return True
