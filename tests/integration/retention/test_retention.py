"""The retention policy purges old text, reasoning and images, keeps spend, honours holds."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.test import override_settings
from django.utils import timezone

from chat.fairuse.quota import get_quota
from chat.models import AuditEntry, Conversation, Message, StoredFile, Upload
from chat.retention import purge
from chat.sharing import services as sharing
from chat.streaming.pipeline.store import build_request
from chat.tasks import run_retention
from config.env import media_storage
from tests.factories import make_user
from tests.integration.reply_factories import at, make_reply

DAYS = 30


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def turn(owner, *, age: int, conversation: Conversation | None = None, **usage) -> Message:
    """Write a question and its answer (with reasoning) ``age`` days old; return the answer."""
    return make_reply(
        owner,
        created_at=days_ago(age),
        conversation=conversation,
        content="The answer is 42.",
        reasoning="Let me think about it.",
        **usage,
    )


def attach(owner, message: Message | None, *, age: int) -> Upload:
    upload = Upload.objects.create(
        owner=owner,
        message=message,
        file=ContentFile(b"\x89PNG fake bytes", name="photo.png"),
        content_type="image/png",
        size=16,
        width=1,
        height=1,
        sha256="0" * 64,
    )
    Upload.objects.filter(id=upload.id).update(created_at=days_ago(age))
    return upload


def texts(message: Message) -> tuple[str, str]:
    message.refresh_from_db()
    return message.content, message.reasoning


@pytest.fixture
def held(db):
    return make_user("dora", legal_hold=True)


def kept_columns(message: Message) -> dict:
    """Every column but the ones the policy clears: usage, cost, model, status, times."""
    message.refresh_from_db()
    return {
        name: value
        for name, value in model_to_dict(message).items()
        if name not in ("content", "reasoning", "purged_at")
    } | {"created_at": message.created_at, "completed_at": message.completed_at}


def test_old_text_and_reasoning_go_and_newer_messages_stay(alice):
    old = turn(alice, age=DAYS + 1, input_tokens=100, output_tokens=50, cost="0.000300")
    recent = turn(alice, age=DAYS - 1, conversation=old.conversation)
    before = kept_columns(old)
    report = purge(DAYS)
    assert (report.messages, report.conversations) == (2, 0)  # the question and its answer
    assert texts(old) == ("", "") and texts(old.reply_to) == ("", "")
    assert old.purged_at is not None
    assert kept_columns(old) == before
    assert (before["input_tokens"], str(before["cost"])) == (100, "0.000300")
    assert texts(recent) == ("The answer is 42.", "Let me think about it.")
    assert recent.purged_at is None
    old.conversation.refresh_from_db()
    assert old.conversation.title == "Spend"  # newer messages keep the title meaningful


def test_a_conversation_purged_whole_loses_its_title(alice):
    old = turn(alice, age=DAYS + 5)
    report = purge(DAYS)
    assert report.conversations == 1
    old.conversation.refresh_from_db()
    assert old.conversation.title == ""


def test_the_spend_report_and_quota_read_the_same_after_a_purge(alice, bob, admin_user, client):
    make_reply(alice, created_at=at("2025-03-01"), input_tokens=100, output_tokens=50,
               reasoning_tokens=30, cost="0.000100", reasoning="Hmm.")  # fmt: skip
    make_reply(
        alice, model="qwq-plus", created_at=at("2025-03-02"), input_tokens=300, output_tokens=400
    )  # fmt: skip  (unpriced)
    make_reply(bob, created_at=at("2025-03-31", 23), input_tokens=10, output_tokens=10,
               cost="0.500000", currency="CNY", status=Message.Status.CANCELLED)  # fmt: skip
    client.force_login(admin_user)

    def spend() -> list[str]:
        return [
            client.get(
                f"/admin/spend.csv?start=2025-03-01&end=2025-03-31&group_by={g}"
            ).content.decode()
            for g in ("user", "model", "day")
        ]

    def quotas() -> list[dict]:
        return [get_quota(u, now=at("2025-03-20")).as_json() for u in (alice, bob)]

    before = spend(), quotas()
    assert purge(DAYS).messages == 6
    assert (spend(), quotas()) == before
    assert "0.000100" in before[0][0]  # the report did have the numbers to compare


@pytest.fixture(params=["local", "database"])
def storage(request, tmp_path: Path):
    entry = media_storage(request.param, tmp_path / "uploads")
    with override_settings(STORAGES={**settings.STORAGES, "default": entry}):
        yield request.param


def test_old_images_are_deleted_with_their_bytes(storage, alice):
    old = turn(alice, age=DAYS + 1)
    recent = turn(alice, age=1)
    gone = [attach(alice, old.reply_to, age=DAYS + 1), attach(alice, None, age=DAYS + 1)]
    kept = [attach(alice, recent.reply_to, age=1), attach(alice, None, age=1)]
    assert all(default_storage.exists(u.file.name) for u in gone + kept)
    assert purge(DAYS).attachments == 2
    assert not any(default_storage.exists(u.file.name) for u in gone)
    assert all(default_storage.exists(u.file.name) for u in kept)
    assert set(Upload.objects.values_list("id", flat=True)) == {u.id for u in kept}
    if storage == "database":
        assert StoredFile.objects.count() == 2


def test_a_user_under_legal_hold_keeps_everything_until_the_hold_is_lifted(held, alice):
    theirs = turn(held, age=DAYS * 10)
    image = attach(held, None, age=DAYS * 10)
    turn(alice, age=DAYS * 10)
    assert purge(DAYS).messages == 2  # alice's turn only
    assert texts(theirs) == ("The answer is 42.", "Let me think about it.")
    assert Upload.objects.filter(id=image.id).exists()
    held.legal_hold = False
    held.save()
    report = purge(DAYS)
    assert (report.messages, report.attachments) == (2, 1)
    assert texts(theirs) == ("", "")


def test_a_conversation_with_a_reply_in_progress_waits_for_the_next_run(alice):
    old = turn(alice, age=DAYS + 1)
    Message.objects.create(conversation=old.conversation, role="assistant", reply_to=old.reply_to,
                           status=Message.Status.STREAMING, model="qwen-plus")  # fmt: skip
    assert purge(DAYS).messages == 0
    assert texts(old) == ("The answer is 42.", "Let me think about it.")


def test_share_links_of_purged_conversations_are_revoked_and_their_titles_blanked(alice):
    old = turn(alice, age=DAYS + 1)
    link = sharing.create_share(alice, old.conversation.id, include_reasoning=True).link
    assert purge(DAYS).share_links == 1
    link.refresh_from_db()
    assert link.revoked_at is not None and link.title == ""


def test_the_share_page_hides_purged_messages(alice, client):
    old = turn(alice, age=DAYS + 1)
    created = sharing.create_share(alice, old.conversation.id, include_reasoning=False)
    Message.objects.filter(id=old.id).update(content="", purged_at=timezone.now())
    page = client.get(f"/s/{created.token}/")
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="message"') == 1  # the question only


def test_the_api_marks_purged_messages(alice, alice_client):
    old = turn(alice, age=DAYS + 1)
    recent = turn(alice, age=1, conversation=old.conversation)
    purge(DAYS)
    body = alice_client.get(f"/api/conversations/{old.conversation.id}/").json()
    purged = {m["id"]: (m["purged"], m["content"]) for m in body["messages"]}
    assert purged[str(old.id)] == (True, "")
    assert purged[str(recent.id)] == (False, "The answer is 42.")
    assert body["messages"][0]["usage"]["input_tokens"] == 0  # usage is still reported


@override_settings(RETENTION_DAYS=DAYS)
def test_me_and_the_page_tell_the_front_end_the_retention_days(alice_client):
    assert alice_client.get("/api/me/").json()["retention_days"] == DAYS
    assert '"retention_days": 30' in alice_client.get("/").content.decode()


def test_purged_turns_are_not_sent_upstream_again(alice):
    old = turn(alice, age=DAYS + 1)
    recent = turn(alice, age=1, conversation=old.conversation)
    purge(DAYS)
    recent.refresh_from_db()
    turns = build_request(recent, images=False).messages
    assert [(t.role, t.content) for t in turns] == [("user", "A question?")]


def test_dry_run_changes_nothing_and_prints_what_a_run_would_purge(alice):
    old = turn(alice, age=DAYS + 1)
    attach(alice, old.reply_to, age=DAYS + 1)
    sharing.create_share(alice, old.conversation.id, include_reasoning=False)
    out = io.StringIO()
    call_command("purge_expired", "--dry-run", "--days", str(DAYS), stdout=out)
    assert out.getvalue().startswith(
        "Dry run, nothing changed. Would purge 2 messages, 1 attachments and "
        "1 conversation titles older than "
    )
    assert "(30 days); 1 share links would be revoked." in out.getvalue()
    assert texts(old) == ("The answer is 42.", "Let me think about it.")
    assert Upload.objects.count() == 1 and not AuditEntry.objects.exists()
    out = io.StringIO()
    call_command("purge_expired", "--days", str(DAYS), stdout=out)
    assert out.getvalue().startswith("Purged 2 messages, 1 attachments and 1 conversation titles")


@override_settings(RETENTION_DAYS=None)
def test_with_retention_off_the_command_says_so_and_purges_nothing(alice):
    old = turn(alice, age=DAYS * 100)
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert "Retention is off" in out.getvalue()
    assert texts(old)[0] == "The answer is 42."


def test_days_must_be_a_positive_number(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("purge_expired", "--days", "0")


def test_a_real_run_leaves_one_audit_entry(alice):
    turn(alice, age=DAYS + 1)
    report = purge(DAYS)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.target_type) == ("retention_run", "", "retention")
    assert entry.detail == {
        "days": DAYS,
        "cutoff": report.cutoff.isoformat().replace("+00:00", "Z"),
        "messages": 2,
        "attachments": 0,
        "conversations": 1,
        "share_links": 0,
        "dry_run": False,
    }


def test_the_workers_daily_hook_applies_the_setting(transactional_db, alice):
    old = turn(alice, age=DAYS + 1)
    with override_settings(RETENTION_DAYS=None):
        run_retention()
    assert texts(old)[0] and not AuditEntry.objects.exists()
    with override_settings(RETENTION_DAYS=DAYS):
        run_retention()
    assert texts(old) == ("", "")
    assert AuditEntry.objects.filter(action="retention_run").count() == 1


def test_the_user_admin_edits_and_filters_by_legal_hold(admin_user, held, client):
    client.force_login(admin_user)
    assert (
        'name="legal_hold"'
        in client.get(f"/admin/accounts/user/{held.pk}/change/").content.decode()
    )
    listed = client.get("/admin/accounts/user/?legal_hold__exact=1").content.decode()
    assert "dora" in listed and "charlie" not in listed.split("result_list")[-1]


def test_a_day_key_is_a_date(db):
    from chat.streaming import bus

    assert bus.daily_key(date(2026, 1, 2)) == "ponder:daily:2026-01-02"


def test_a_big_run_goes_in_batches_and_counts_them_all(alice, monkeypatch):
    monkeypatch.setattr("chat.retention.policy.BATCH_SIZE", 2)
    replies = [turn(alice, age=DAYS + n) for n in range(1, 4)]
    for reply in replies:
        attach(alice, reply.reply_to, age=DAYS + 1)
    report = purge(DAYS)
    assert (report.messages, report.attachments, report.conversations) == (6, 3, 3)
    assert not Message.objects.filter(purged_at__isnull=True).exists()


def test_an_image_the_store_cannot_delete_is_retried_by_the_next_run(alice, monkeypatch):
    old = turn(alice, age=DAYS + 1)
    image = attach(alice, old.reply_to, age=DAYS + 1)

    def store_down(name):
        raise OSError("store unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(default_storage, "delete", store_down)
        report = purge(DAYS)
    assert (report.messages, report.attachments) == (2, 0)
    assert default_storage.exists(image.file.name)  # the row stays, so the next run finds it
    assert purge(DAYS).attachments == 1
    assert not default_storage.exists(image.file.name)
