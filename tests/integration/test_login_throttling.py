"""django-axes on the real login form: per user, per address, a 429 page, the proxy's address."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.factories import PASSWORD, password_hash

ROOT = Path(__file__).resolve().parents[2]
USER_LIMIT = 5
ADDRESS_LIMIT = 20


@pytest.fixture(autouse=True)
def fast_unknown_users(settings):
    """Unknown usernames hash with a fast hasher; the shared test hash stays PBKDF2."""
    password_hash()  # cached before the switch
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def sign_in(username: str, password: str, address: str = "127.0.0.1", **headers: str):
    return Client(REMOTE_ADDR=address, **headers).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def test_settings_match_the_limits_under_test(settings):
    assert settings.AXES_FAILURE_LIMIT == USER_LIMIT
    assert settings.LOGIN_IP_FAILURE_LIMIT == ADDRESS_LIMIT
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_one_username_is_locked_out_from_every_address(alice, bob):
    for n in range(USER_LIMIT - 1):
        assert sign_in("alice", "wrong", f"198.51.100.{n}").status_code == 200
    locked = sign_in("alice", "wrong", "198.51.100.50")
    assert locked.status_code == 429
    # Even the right password, from yet another address, waits for the cool-off.
    assert sign_in("alice", PASSWORD, "203.0.113.1").status_code == 429
    # Others are not affected.
    assert sign_in("bob", PASSWORD, "198.51.100.1").status_code == 302


def test_one_address_is_locked_out_for_every_username(alice):
    address = "198.51.100.7"
    for n in range(ADDRESS_LIMIT - 1):
        assert sign_in(f"guess{n}", "wrong", address).status_code == 200
    assert sign_in("guess-last", "wrong", address).status_code == 429
    assert sign_in("alice", PASSWORD, address).status_code == 429
    assert sign_in("alice", PASSWORD, "198.51.100.8").status_code == 302


def test_the_lockout_is_a_readable_sign_in_page(alice):
    for _ in range(USER_LIMIT):
        response = sign_in("alice", "wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert "15 minutes" in page
    assert 'name="password"' in page  # the login form, not a bare error
    assert 'value="alice"' in page


def test_success_forgets_the_users_failures(alice):
    for _ in range(USER_LIMIT - 1):
        sign_in("alice", "wrong")
    assert sign_in("alice", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()
    for _ in range(USER_LIMIT - 1):
        assert sign_in("alice", "wrong").status_code == 200


def test_a_success_does_not_wipe_others_failures_from_the_same_address(alice, bob):
    for _ in range(USER_LIMIT - 1):
        sign_in("bob", "wrong", "198.51.100.9")
    assert sign_in("alice", PASSWORD, "198.51.100.9").status_code == 302
    assert sign_in("bob", "wrong", "198.51.100.9").status_code == 429


def test_behind_a_trusted_proxy_each_client_counts_alone(alice):
    for n in range(ADDRESS_LIMIT):
        sign_in(f"guess{n}", "wrong", "127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert AccessAttempt.objects.filter(ip_address="198.51.100.20").exists()
    assert not AccessAttempt.objects.filter(ip_address="127.0.0.1").exists()
    behind_proxy = {"HTTP_X_FORWARDED_FOR": "198.51.100.21"}
    assert sign_in("alice", PASSWORD, "127.0.0.1", **behind_proxy).status_code == 302


def test_an_untrusted_client_cannot_dodge_by_forging_forwarded_for(alice):
    for n in range(ADDRESS_LIMIT):
        sign_in(f"guess{n}", "wrong", "203.0.113.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    forged = {"HTTP_X_FORWARDED_FOR": "192.0.2.200"}
    assert sign_in("alice", PASSWORD, "203.0.113.5", **forged).status_code == 429


def test_admins_see_the_attempts(admin_user):
    sign_in("nobody", "wrong")
    client = Client()
    client.force_login(admin_user)
    assert "Access attempts" in client.get("/admin/").content.decode()
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "nobody" in listing.content.decode()


def test_forwarded_proto_from_an_untrusted_peer_does_not_count_as_https(db, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    forged = Client(REMOTE_ADDR="203.0.113.9").get(
        "/accounts/login/", HTTP_X_FORWARDED_PROTO="https"
    )
    assert forged.status_code == 301 and forged["Location"].startswith("https://")
    proxied = Client(REMOTE_ADDR="127.0.0.1").get(
        "/accounts/login/", HTTP_X_FORWARDED_PROTO="https"
    )
    assert proxied.status_code == 302  # served (here: on to set-up), not redirected


def test_https_trusts_only_https_origins(tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "1",
        "DJANGO_ALLOWED_HOSTS": "chat.example.com,localhost",
        "DJANGO_SECRET_KEY": "k" * 60,
        "PONDER_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = "from django.conf import settings; print(' '.join(settings.CSRF_TRUSTED_ORIGINS))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    origins = result.stdout.split()
    assert origins == ["https://chat.example.com", "https://localhost"]


def test_wrong_logins_leave_no_lockout_for_the_next_test(alice):
    assert not AccessAttempt.objects.exists()
    assert sign_in("alice", PASSWORD).status_code == 302
