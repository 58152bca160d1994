"""The audit log in the admin: staff read it, filter it and download it; nobody edits it."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from chat.models import AppendOnly, AuditEntry
from tests.factories import make_user
from tests.integration.audit.conftest import only_entry
from tests.integration.reply_factories import at

Action = AuditEntry.Action
CHANGELIST = "/admin/chat/auditentry/"
CSV_URL = "/admin/chat/auditentry/export.csv"
CSV_HEADER = ["at", "actor", "action", "target_type", "target_id", "target_owner", "ip", "detail"]


def entry(action=Action.TRANSCRIPT_VIEWED, *, actor="charlie", day="2025-03-10", **fields):
    return AuditEntry.objects.create(action=action, actor=actor, at=at(day), **fields)


@pytest.fixture
def staff_client(db):
    """A member of staff with no permission granted: the audit log is open to all staff."""
    client = Client()
    client.force_login(make_user("dora", is_staff=True))
    return client


@pytest.fixture
def viewed(db) -> AuditEntry:
    return entry(target_type="conversation", target_id="c-1", target_owner="alice", ip="192.0.2.7")


def shown(client, **params) -> list[AuditEntry]:
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return [row for row in response.context["cl"].result_list if row.action != Action.SIGN_IN]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- Reading ----------------------------------------------------------------------------


def test_any_staff_member_sees_the_log_linked_from_the_admin_index(staff_client, viewed):
    index = staff_client.get("/admin/").content.decode()
    assert f'href="{CHANGELIST}" data-testid="audit-log-link"' in index
    assert shown(staff_client) == [viewed]
    page = staff_client.get(CHANGELIST).content.decode()
    for text in ("conversation c-1", "alice", "192.0.2.7", 'data-testid="audit-csv"'):
        assert text in page


def test_an_entry_opens_read_only(staff_client, viewed):
    response = staff_client.get(f"{CHANGELIST}{viewed.pk}/change/")
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert b'name="_save"' not in response.content


@pytest.mark.parametrize("url", [CHANGELIST, CSV_URL, f"{CHANGELIST}1/change/"])
def test_non_staff_are_sent_to_the_admin_login(alice_client, url):
    response = alice_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- Nobody changes it -----------------------------------------------------------------


def test_the_admin_cannot_add_entries(admin_client):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    response = admin_client.post(f"{CHANGELIST}add/", {"action": "sign_in", "actor": "x"})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(actor="x").exists()


def test_the_admin_cannot_change_an_entry(admin_client, viewed):
    url = f"{CHANGELIST}{viewed.pk}/change/"
    response = admin_client.post(url, {"action": "sign_in", "actor": "nobody", "detail": "{}"})
    assert response.status_code == 403
    viewed.refresh_from_db()
    assert (viewed.action, viewed.actor) == (Action.TRANSCRIPT_VIEWED, "charlie")


def test_the_admin_cannot_delete_entries(admin_client, viewed):
    url = f"{CHANGELIST}{viewed.pk}/delete/"
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [viewed.pk], "post": "yes"}
    admin_client.post(CHANGELIST, bulk)
    assert AuditEntry.objects.filter(pk=viewed.pk).exists()


def test_the_list_offers_no_actions_and_no_add_button(admin_client, viewed):
    response = admin_client.get(CHANGELIST)
    assert response.context["action_form"] is None
    page = response.content.decode()
    assert f'href="{CHANGELIST}add/"' not in page
    assert 'name="_selected_action"' not in page


def test_the_model_refuses_saving_or_deleting_an_entry(viewed):
    viewed.actor = "nobody"
    with pytest.raises(AppendOnly):
        viewed.save()
    with pytest.raises(AppendOnly):
        viewed.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=viewed.pk).update(actor="nobody")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=viewed.pk).actor == "charlie"


def test_the_database_refuses_an_update(viewed):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE chat_auditentry SET actor = %s WHERE id = %s", ["nobody", viewed.pk])
    assert AuditEntry.objects.get(pk=viewed.pk).actor == "charlie"


# --- Filters ----------------------------------------------------------------------------


@pytest.fixture
def march(db) -> dict[str, AuditEntry]:
    return {
        "early": entry(Action.PRICE_CHANGED, actor="charlie", day="2025-03-01"),
        "mid": entry(Action.SHARE_VIEWED, actor="", day="2025-03-15", target_owner="alice"),
        "late": entry(Action.PRICE_CHANGED, actor="dora", day="2025-03-31"),
    }


def test_filters_by_action(admin_client, march):
    assert shown(admin_client, action__exact="price_changed") == [march["late"], march["early"]]


def test_search_finds_an_actor_or_the_owner_of_the_data(admin_client, march):
    assert shown(admin_client, q="dora") == [march["late"]]
    assert shown(admin_client, q="alice") == [march["mid"]]


def test_filters_by_period_both_days_included(admin_client, march):
    assert shown(admin_client, start="2025-03-01", end="2025-03-15") == [
        march["mid"],
        march["early"],
    ]
    assert shown(admin_client, start="2025-03-02") == [march["late"], march["mid"]]
    assert shown(admin_client, end="2025-03-01") == [march["early"]]


def test_the_period_form_keeps_the_other_filters(admin_client, march):
    page = admin_client.get(CHANGELIST, {"action__exact": "price_changed"}).content.decode()
    assert '<input type="hidden" name="action__exact" value="price_changed">' in page
    assert 'data-testid="audit-period"' in page


def test_drills_down_by_day(admin_client, march):
    assert shown(admin_client, at__year=2025, at__month=3, at__day=15) == [march["mid"]]


def test_a_bad_date_is_refused(admin_client, march):
    assert admin_client.get(CHANGELIST, {"start": "March"}).status_code == 302  # ?e=1
    assert admin_client.get(CSV_URL, {"start": "March"}).status_code == 400


# --- CSV --------------------------------------------------------------------------------


def test_csv_serves_the_filtered_list(admin_client, march):
    rows = csv_rows(admin_client.get(CSV_URL, {"action__exact": "price_changed", "q": "dora"}))
    assert rows == [
        CSV_HEADER,
        ["2025-03-31T12:00:00+00:00", "dora", "price_changed", "", "", "", "", "{}"],
    ]


def test_csv_cells_cannot_run_as_formulas(admin_client):
    entry(Action.SIGN_IN_FAILED, actor="", target_owner="=HYPERLINK(1)", detail={"username": "="})
    (row,) = csv_rows(admin_client.get(CSV_URL, {"action__exact": "sign_in_failed"}))[1:]
    assert row[5] == "'=HYPERLINK(1)"
    assert row[7] == '{"username": "="}'


def test_csv_download_is_audited_with_its_filters(admin_client, march):
    csv_rows(admin_client.get(CSV_URL, {"action__exact": "share_viewed"}))
    download = only_entry(Action.EXPORT_DOWNLOADED)
    assert download.actor == "charlie"
    assert download.detail == {"export": "audit", "filters": {"action__exact": "share_viewed"}}


def test_the_list_links_to_the_csv_of_what_it_shows(admin_client, march):
    page = admin_client.get(CHANGELIST, {"action__exact": "price_changed"}).content.decode()
    assert f'href="{CSV_URL}?action__exact=price_changed" data-testid="audit-csv"' in page
