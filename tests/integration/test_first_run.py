"""The first administrator: a one-time token in production, one winner when set-ups race."""

from __future__ import annotations

import hashlib
import re
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from accounts.models import SetupState, User
from accounts.password import setup
from tests.factories import make_user

PASSWORD = "a-fine-passphrase-77"


def form(username: str = "root", **extra: str) -> dict[str, str]:
    return {"username": username, "password1": PASSWORD, "password2": PASSWORD, **extra}


def logged_token(caplog: pytest.LogCaptureFixture) -> str:
    warnings = [
        r
        for r in caplog.records
        if r.levelname == "WARNING" and r.name == "accounts.password.setup"
    ]
    assert len(warnings) == 1, caplog.text
    match = re.search(r"/accounts/setup/\?token=(\S+)", warnings[0].getMessage())
    assert match, warnings[0].getMessage()
    return match.group(1)


@pytest.fixture
def token(client, db, caplog) -> str:
    """Open the set-up page as the first visitor would; read the token from the log."""
    assert client.get("/accounts/setup/").status_code == 200
    return logged_token(caplog)


def test_the_token_is_logged_once_and_stored_only_as_a_hash(client, token, caplog):
    state = SetupState.objects.get()
    assert state.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in state.token_hash
    client.get("/accounts/setup/")  # a second visit reuses the outstanding token
    assert not [r for r in caplog.records if r.name == "accounts.password.setup"]
    assert SetupState.objects.get().token_hash == state.token_hash


def test_the_token_in_the_link_fills_the_form(client, token):
    page = client.get(f"/accounts/setup/?token={token}").content.decode()
    assert f'value="{token}"' in page


@pytest.mark.parametrize("given", [None, "", "not-the-token"])
def test_without_the_right_token_nothing_is_created(client, token, given):
    data = form() if given is None else form(token=given)
    response = client.post("/accounts/setup/", data)
    assert response.status_code == 400
    assert not User.objects.exists()
    assert SetupState.objects.get().token_hash  # still outstanding


def test_the_right_token_creates_the_admin_and_is_spent(client, token):
    response = client.post("/accounts/setup/", form(token=token))
    assert response.status_code == 302
    admin = User.objects.get()
    assert admin.is_superuser and admin.is_staff
    assert SetupState.objects.get().token_hash == ""
    client.logout()
    assert client.get("/accounts/setup/")["Location"] == "/accounts/login/"


def test_once_a_user_exists_the_token_is_useless(client, token):
    make_user("alice")  # say, by createsuperuser
    response = client.post("/accounts/setup/", form("mallory", token=token))
    assert response["Location"] == "/accounts/login/"
    assert not User.objects.filter(username="mallory").exists()
    assert setup.rotate_token() is None
    with pytest.raises(CommandError):
        call_command("setup_token")


def test_the_command_issues_a_new_token_and_the_old_one_dies(client, token, capsys):
    call_command("setup_token")
    fresh = re.search(r"\?token=(\S+)", capsys.readouterr().out).group(1)
    assert fresh != token
    assert client.post("/accounts/setup/", form(token=token)).status_code == 400
    assert client.post("/accounts/setup/", form(token=fresh)).status_code == 302
    assert User.objects.get().is_superuser


def test_development_keeps_the_form_without_a_token(client, db, settings, caplog):
    settings.DEBUG = True
    page = client.get("/accounts/setup/").content.decode()
    assert 'name="token"' not in page
    assert "accounts.password.setup" not in caplog.text
    assert client.post("/accounts/setup/", form()).status_code == 302
    assert User.objects.get().is_superuser


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_racing_set_ups_make_exactly_one_admin(transactional_db, settings, caplog, debug):
    settings.DEBUG = debug
    token = ""
    if not debug:
        setup.issue_token_if_needed()
        token = logged_token(caplog)
    racers = 6
    barrier = threading.Barrier(racers)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def race(n: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.post("/accounts/setup/", form(f"root{n}", token=token))
            statuses.append(response.status_code)
            if response.status_code == 302 and response["Location"] != "/accounts/login/":
                # Only the winner is logged in: it reaches the chat.
                assert client.get("/").status_code == 200
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert User.objects.count() == 1
    assert User.objects.get().is_superuser
    assert sorted(statuses) == [302] * racers
