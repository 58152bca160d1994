"""Sign-ins, failed sign-ins and sign-outs are audited, with the client's address."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from chat.models import AuditEntry
from tests.factories import PASSWORD, password_hash
from tests.integration.audit.conftest import entries, only_entry

Action = AuditEntry.Action
ADDRESS = "198.51.100.23"


@pytest.fixture(autouse=True)
def fast_unknown_users(settings):
    """Unknown usernames hash with a fast hasher; the shared test hash stays PBKDF2."""
    password_hash()  # cached before the switch
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def sign_in(username: str, password: str, client: Client | None = None):
    client = client or Client(REMOTE_ADDR=ADDRESS)
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_sign_in_records_who_and_from_where(alice):
    assert sign_in("alice", PASSWORD).status_code == 302
    entry = only_entry(Action.SIGN_IN)
    assert (entry.actor, entry.actor_user_id, entry.ip) == ("alice", alice.pk, ADDRESS)
    assert not entries(Action.SIGN_IN_FAILED)


def test_failed_sign_in_records_the_username_once_and_never_the_password(alice):
    assert sign_in("alice", "hunter2-wrong").status_code == 200
    entry = only_entry(Action.SIGN_IN_FAILED)
    assert (entry.actor, entry.actor_user_id, entry.ip) == ("", None, ADDRESS)
    assert (entry.target_type, entry.target_owner) == ("user", "alice")
    assert entry.detail == {"username": "alice", "locked_out": False}
    assert "hunter2" not in json.dumps(entry.detail)
    assert not entries(Action.SIGN_IN)


def test_failed_sign_in_of_an_unknown_user_is_recorded_too(alice):
    sign_in("mallory", "guess")
    assert only_entry(Action.SIGN_IN_FAILED).target_owner == "mallory"


def test_sign_ins_refused_by_the_lockout_are_flagged(alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        sign_in("alice", "wrong")
    flags = [entry.detail["locked_out"] for entry in entries(Action.SIGN_IN_FAILED)]
    assert flags == [False] * (settings.AXES_FAILURE_LIMIT - 1) + [True, True]


def test_the_admin_login_form_is_audited_as_well(admin_user):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.post("/admin/login/", {"username": "charlie", "password": "nope"})
    assert only_entry(Action.SIGN_IN_FAILED).target_owner == "charlie"


def test_sign_out_records_who(alice):
    client = Client(REMOTE_ADDR=ADDRESS)
    sign_in("alice", PASSWORD, client)
    assert client.post("/accounts/logout/").status_code == 302
    entry = only_entry(Action.SIGN_OUT)
    assert (entry.actor, entry.actor_user_id, entry.ip) == ("alice", alice.pk, ADDRESS)


def test_signing_out_without_a_session_records_nothing(db):
    Client().post("/accounts/logout/")
    assert not entries(Action.SIGN_OUT)
