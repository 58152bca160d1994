"""Each audited action writes one entry naming who, what, whose data and from where."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.forms import MultiWidget
from django.test import Client

from chat.models import AuditEntry, ModelPrice
from chat.sharing import services as sharing
from tests.integration.audit.conftest import entries, only_entry
from tests.integration.reply_factories import at, make_reply

Action = AuditEntry.Action
ADDRESS = "203.0.113.9"


@pytest.fixture
def conversation(alice):
    return make_reply(alice, created_at=at("2025-03-01")).conversation


@pytest.fixture
def admin_client(admin_user):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(admin_user)
    return client


@pytest.fixture
def alice_client(alice):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(alice)
    return client


def change_form(client, url: str, **changes) -> dict:
    """Return the admin change form's current values as POST data, with ``changes``."""
    form = client.get(url).context["adminform"].form
    data: dict = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled:
            continue
        if isinstance(field.widget, MultiWidget):
            for n, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{n}"] = part or ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else value
    return {**data, **changes}


# --- Transcripts ----------------------------------------------------------------------


def test_admin_reading_someone_elses_transcript_is_recorded(admin_client, conversation):
    url = f"/admin/chat/conversation/{conversation.id}/change/"
    assert admin_client.get(url).status_code == 200
    entry = only_entry(Action.TRANSCRIPT_VIEWED)
    assert (entry.actor, entry.ip) == ("charlie", ADDRESS)
    assert (entry.target_type, entry.target_id) == ("conversation", str(conversation.id))
    assert entry.target_owner == "alice"


def test_admin_reading_their_own_transcript_writes_nothing(admin_client, admin_user):
    own = make_reply(admin_user, created_at=at("2025-03-01")).conversation
    assert admin_client.get(f"/admin/chat/conversation/{own.id}/change/").status_code == 200
    assert not entries(Action.TRANSCRIPT_VIEWED)


# --- Share links ----------------------------------------------------------------------


def test_creating_a_share_link_is_recorded(alice_client, conversation):
    response = alice_client.post(
        f"/api/conversations/{conversation.id}/shares/",
        data=json.dumps({"include_reasoning": False}),
        content_type="application/json",
    )
    assert response.status_code == 201
    entry = only_entry(Action.SHARE_CREATED)
    assert (entry.actor, entry.ip, entry.target_owner) == ("alice", ADDRESS, "alice")
    assert (entry.target_type, entry.target_id) == ("share", response.json()["id"])
    assert entry.detail == {"conversation": str(conversation.id)}
    assert response.json()["token"] not in json.dumps(entry.detail)


def test_each_view_of_a_shared_page_is_recorded_with_its_viewer(alice, bob, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    assert Client(REMOTE_ADDR="192.0.2.1").get(f"/s/{created.token}/").status_code == 200
    bob_client = Client(REMOTE_ADDR="192.0.2.2")
    bob_client.force_login(bob)
    assert bob_client.get(f"/s/{created.token}/").status_code == 200
    anonymous, known = entries(Action.SHARE_VIEWED)
    assert (anonymous.actor, anonymous.actor_user_id, anonymous.ip) == ("", None, "192.0.2.1")
    assert (known.actor, known.ip) == ("bob", "192.0.2.2")
    for entry in (anonymous, known):
        assert (entry.target_id, entry.target_owner) == (str(created.link.id), "alice")


def test_a_dead_link_view_is_not_recorded(alice, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    sharing.revoke_share(alice, created.token)
    assert Client().get(f"/s/{created.token}/").status_code == 404
    assert not entries(Action.SHARE_VIEWED)


@pytest.mark.parametrize("by", ["token", "id"])
def test_revoking_a_share_link_is_recorded(alice, alice_client, conversation, by):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    url = (
        f"/api/shares/{created.token}/" if by == "token" else f"/api/share-links/{created.link.id}/"
    )
    assert alice_client.delete(url).status_code == 204
    entry = only_entry(Action.SHARE_REVOKED)
    assert (entry.actor, entry.ip, entry.target_owner) == ("alice", ADDRESS, "alice")
    assert (entry.target_type, entry.target_id) == ("share", str(created.link.id))


def test_a_refused_revocation_is_not_recorded(alice, bob, conversation):
    created = sharing.create_share(alice, conversation.id, include_reasoning=False)
    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.delete(f"/api/shares/{created.token}/").status_code == 404
    assert not entries(Action.SHARE_REVOKED)


# --- Prices ---------------------------------------------------------------------------


PRICE_FORM = {
    "model": "qwen-plus",
    "currency": "USD",
    "effective_from_0": "2025-03-01",
    "effective_from_1": "00:00:00",
    "input_per_million": "0.4",
    "cached_input_per_million": "",
    "output_per_million": "1.2",
    "thinking_output_per_million": "4",
}
PRICE_VALUES = {
    "model": "qwen-plus",
    "currency": "USD",
    "effective_from": "2025-03-01T00:00:00+00:00",
    "input_per_million": "0.400000",
    "cached_input_per_million": None,
    "output_per_million": "1.200000",
    "thinking_output_per_million": "4.000000",
}


def add_price(admin_client) -> ModelPrice:
    assert admin_client.post("/admin/chat/modelprice/add/", PRICE_FORM).status_code == 302
    return ModelPrice.objects.get()


def test_adding_a_price_is_recorded_with_its_values(admin_client):
    price = add_price(admin_client)
    entry = only_entry(Action.PRICE_CHANGED)
    assert (entry.actor, entry.ip) == ("charlie", ADDRESS)
    assert (entry.target_type, entry.target_id) == ("price", str(price.pk))
    assert entry.detail == {"model": "qwen-plus", "before": None, "after": PRICE_VALUES}


def test_changing_a_price_records_old_and_new_values(admin_client):
    price = add_price(admin_client)
    url = f"/admin/chat/modelprice/{price.pk}/change/"
    response = admin_client.post(url, {**PRICE_FORM, "output_per_million": "2.5"})
    assert response.status_code == 302
    _, changed = entries(Action.PRICE_CHANGED)
    assert changed.detail["before"] == PRICE_VALUES
    assert changed.detail["after"] == {**PRICE_VALUES, "output_per_million": "2.500000"}


def test_deleting_a_price_records_what_it_was(admin_client):
    price = add_price(admin_client)
    url = f"/admin/chat/modelprice/{price.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    _, deleted = entries(Action.PRICE_CHANGED)
    assert deleted.target_id == str(price.pk)
    assert (deleted.detail["before"], deleted.detail["after"]) == (PRICE_VALUES, None)


def test_deleting_prices_in_bulk_records_each(admin_client):
    price = add_price(admin_client)
    other = ModelPrice.objects.create(
        model="qwq-plus", input_per_million=1, output_per_million=2, effective_from=at("2025-01-01")
    )
    response = admin_client.post(
        "/admin/chat/modelprice/",
        {"action": "delete_selected", "_selected_action": [price.pk, other.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ModelPrice.objects.exists()
    deleted = entries(Action.PRICE_CHANGED)[1:]
    assert {entry.detail["model"] for entry in deleted} == {"qwen-plus", "qwq-plus"}
    assert all(entry.detail["after"] is None for entry in deleted)


# --- Users: quota, legal hold, groups ------------------------------------------------


def test_changing_a_quota_records_old_and_new(admin_client, alice):
    alice.monthly_token_quota = 1000
    alice.save()
    url = f"/admin/accounts/user/{alice.pk}/change/"
    response = admin_client.post(url, change_form(admin_client, url, monthly_token_quota="5000"))
    assert response.status_code == 302
    entry = only_entry(Action.QUOTA_CHANGED)
    assert (entry.actor, entry.ip) == ("charlie", ADDRESS)
    assert (entry.target_type, entry.target_id, entry.target_owner) == (
        "user",
        str(alice.pk),
        "alice",
    )
    assert entry.detail == {"before": 1000, "after": 5000}
    assert not entries(Action.LEGAL_HOLD_CHANGED) and not entries(Action.GROUP_CHANGED)


def test_setting_a_legal_hold_is_recorded(admin_client, alice):
    url = f"/admin/accounts/user/{alice.pk}/change/"
    response = admin_client.post(url, change_form(admin_client, url, legal_hold="on"))
    assert response.status_code == 302
    entry = only_entry(Action.LEGAL_HOLD_CHANGED)
    assert (entry.actor, entry.target_owner) == ("charlie", "alice")
    assert entry.detail == {"before": False, "after": True}
    assert not entries(Action.QUOTA_CHANGED)


def test_saving_a_user_unchanged_records_nothing(admin_client, alice):
    url = f"/admin/accounts/user/{alice.pk}/change/"
    assert admin_client.post(url, change_form(admin_client, url)).status_code == 302
    assert not AuditEntry.objects.exclude(action=Action.SIGN_IN).exists()


def test_changing_a_users_groups_records_added_and_removed(admin_client, alice):
    reviewers, auditors = (
        Group.objects.create(name="reviewers"),
        Group.objects.create(name="auditors"),
    )
    alice.groups.add(reviewers)
    url = f"/admin/accounts/user/{alice.pk}/change/"
    response = admin_client.post(url, change_form(admin_client, url, groups=[auditors.pk]))
    assert response.status_code == 302
    entry = only_entry(Action.GROUP_CHANGED)
    assert (entry.actor, entry.target_type, entry.target_owner) == ("charlie", "user", "alice")
    assert entry.detail == {"added": ["auditors"], "removed": ["reviewers"]}


# The group form's policy inline, left empty.
NO_POLICY = {
    "policy-TOTAL_FORMS": "0",
    "policy-INITIAL_FORMS": "0",
    "policy-MIN_NUM_FORMS": "0",
    "policy-MAX_NUM_FORMS": "1",
}


def test_group_created_changed_and_deleted_in_the_admin_are_recorded(admin_client):
    view = Permission.objects.get(codename="view_conversation")
    add = admin_client.post(
        "/admin/auth/group/add/", {"name": "reviewers", "permissions": [view.pk], **NO_POLICY}
    )
    assert add.status_code == 302
    group = Group.objects.get()
    url = f"/admin/auth/group/{group.pk}/change/"
    renamed = {"name": "readers", "permissions": [], **NO_POLICY}
    assert admin_client.post(url, renamed).status_code == 302
    delete = admin_client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 302
    created, changed, deleted = entries(Action.GROUP_CHANGED)
    assert all(entry.target_id == str(group.pk) for entry in (created, changed, deleted))
    assert created.detail == {
        "group": "reviewers", "change": "created",
        "permissions_added": ["view_conversation"], "permissions_removed": [],
    }  # fmt: skip
    assert changed.detail == {
        "group": "readers", "change": "changed", "renamed_from": "reviewers",
        "permissions_added": [], "permissions_removed": ["view_conversation"],
    }  # fmt: skip
    assert deleted.detail == {"group": "readers", "change": "deleted"}


# --- Conversations and exports --------------------------------------------------------


def test_owner_deleting_a_conversation_is_recorded(alice_client, conversation):
    assert alice_client.delete(f"/api/conversations/{conversation.id}/").status_code == 204
    entry = only_entry(Action.CONVERSATION_DELETED)
    assert (entry.actor, entry.target_type) == ("alice", "conversation")
    assert (entry.target_id, entry.target_owner) == (str(conversation.id), "alice")


def test_downloading_the_spend_csv_is_recorded(admin_client):
    response = admin_client.get("/admin/spend.csv", {"start": "2025-03-01", "end": "2025-03-31"})
    assert response.status_code == 200
    entry = only_entry(Action.EXPORT_DOWNLOADED)
    assert (entry.actor, entry.ip) == ("charlie", ADDRESS)
    assert entry.detail == {
        "export": "spend",
        "filters": {"start": "2025-03-01", "end": "2025-03-31", "group_by": "day"},
    }
