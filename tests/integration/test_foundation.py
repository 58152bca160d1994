"""Foundation: production checks, login everywhere, first admin, secret key, compose file."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from accounts.models import User
from config.env import load_secret_key

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_under_production_env(tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "1",
        "DJANGO_SECRET_KEY": "p" * 20 + "-a-long-and-random-production-secret-key-0123456789",
        "PONDER_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_plain_http_settings_do_not_mark_cookies_secure(settings):
    assert settings.SESSION_COOKIE_SECURE is False
    assert settings.CSRF_COOKIE_SECURE is False
    assert settings.SECURE_SSL_REDIRECT is False


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/",
        "/api/conversations/",
        f"/api/conversations/{'0' * 8}-0000-0000-0000-{'0' * 12}/",
    ],
)
def test_api_needs_login(client, db, path):
    response = client.get(path)
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_chat_page_redirects_anonymous_users_to_login(client, alice):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_admin_needs_staff(client, alice):
    client.force_login(alice)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_empty_database_offers_first_admin_setup(client, db, caplog):
    assert client.get("/accounts/login/")["Location"] == "/accounts/setup/"
    assert client.get("/accounts/setup/").status_code == 200
    token = re.search(r"/accounts/setup/\?token=(\S+)", caplog.text).group(1)
    response = client.post(
        "/accounts/setup/",
        {
            "token": token,
            "username": "root",
            "email": "",
            "password1": "a-fine-passphrase-77",
            "password2": "a-fine-passphrase-77",
        },
    )
    assert response.status_code == 302
    admin = User.objects.get()
    assert admin.is_superuser and admin.is_staff
    assert client.get("/").status_code == 200  # logged in by the set-up
    client.logout()
    assert client.get("/accounts/setup/")["Location"] == "/accounts/login/"
    assert client.get("/accounts/login/").status_code == 200


def test_setup_is_closed_once_a_user_exists(client, alice):
    response = client.post(
        "/accounts/setup/",
        {
            "username": "mallory",
            "password1": "a-fine-passphrase-77",
            "password2": "a-fine-passphrase-77",
        },
    )
    assert response.status_code == 302
    assert not User.objects.filter(username="mallory").exists()


def test_secret_key_is_generated_once_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    first = load_secret_key(tmp_path)
    assert len(first) >= 50
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert load_secret_key(tmp_path) == first


def test_compose_file_defines_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "proxy"}
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "--pool" in services["worker"]["command"]
    assert services["web"]["build"] == "."
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert (ROOT / "Dockerfile").exists()
