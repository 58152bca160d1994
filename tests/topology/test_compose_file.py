"""docker-compose.yml agrees with the code: commands, environment, healthchecks, secrets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from ponder_run.commands import daphne_argv, worker_argv
from tests.test_docs import env_vars_read_by_code

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker")
SECRETS = (
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DASHSCOPE_API_KEY",
)


def default_of(value: str) -> str | None:
    """``${X:-d}`` → ``d``; a literal → itself; ``${X:?…}`` → None (no default)."""
    match = re.fullmatch(r"\$\{[A-Z0-9_]+(?::([-?])([^}]*))?\}", value)
    if match is None:
        return value
    return match.group(2) if match.group(1) == "-" else None


def test_app_services_set_only_variables_the_code_reads():
    read = env_vars_read_by_code()
    for name in APP_SERVICES:
        unread = set(SERVICES[name]["environment"]) - read
        assert unread == set(), f"{name} sets variables no code reads"


def test_app_services_share_one_environment():
    envs = [SERVICES[name]["environment"] for name in APP_SERVICES]
    assert all(env == envs[0] for env in envs)


def test_production_defaults():
    env = SERVICES["web"]["environment"]
    assert env["DJANGO_DEBUG"] == "0"
    assert default_of(env["DJANGO_HTTPS"]) == "1"
    # Web and worker share no volume: uploads live in the database.
    assert default_of(env["PONDER_MEDIA_STORAGE"]) == "database"
    assert not any("volumes" in SERVICES[name] for name in APP_SERVICES)
    assert urlsplit(env["DATABASE_URL"]).scheme == "postgres"


def test_commands_are_the_ones_ponder_run_uses():
    # ponder_run starts ``<its python> -m config.webserver …``; the image's is ``python``.
    web = SERVICES["web"]["command"]
    assert web == ["python", *daphne_argv("8000", "0.0.0.0")[1:]]
    worker = SERVICES["worker"]["command"]
    assert worker == ["celery", *worker_argv("400")[3:]]
    assert "-n" not in worker  # the healthcheck pings celery@<container hostname>
    # One process per container, as many containers as make run starts processes.
    replicas = SERVICES["worker"]["deploy"]["replicas"]
    assert replicas == "${PONDER_WORKER_PROCESSES:-2}"
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        needs = SERVICES[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["redis"]["condition"] == "service_healthy"


def test_required_secrets_use_the_colon_question_mark_form():
    for secret in SECRETS:
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", COMPOSE_TEXT)
        assert uses, f"{secret} is not used"
        assert all(use.startswith(":?") for use in uses), f"{secret}: {uses}"


def test_redis_has_a_password_and_persistence():
    command = SERVICES["redis"]["command"]
    assert command[command.index("--requirepass") + 1] == "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
    assert command[command.index("--appendonly") + 1] == "yes"
    url = SERVICES["web"]["environment"]["REDIS_URL"]
    assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379/\d+", url), url
    assert "REDISCLI_AUTH" in SERVICES["redis"]["environment"]  # the healthcheck's password


def test_web_healthcheck_probes_the_port_daphne_listens_on():
    (url,) = re.findall(r"https?://[^'\"]+", " ".join(SERVICES["web"]["healthcheck"]["test"]))
    parts = urlsplit(url)
    endpoint = SERVICES["web"]["command"][SERVICES["web"]["command"].index("-e") + 1]
    assert f"port={parts.port}:" in endpoint
    assert parts.scheme == "http" and parts.path == "/healthz"


@pytest.mark.django_db
def test_healthz_answers_a_probe_whatever_the_allowed_hosts(client, settings):
    """The probe's Host (``127.0.0.1:8000``, a pod IP) is in no DJANGO_ALLOWED_HOSTS: /healthz
    answers anyway, over plain HTTP with DJANGO_HTTPS=1, while other paths still refuse it."""
    (url,) = re.findall(r"https?://[^'\"]+", " ".join(SERVICES["web"]["healthcheck"]["test"]))
    host = urlsplit(url).netloc
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # unreachable: a quick 503, not a 400 or 301
    response = client.get("/healthz", HTTP_HOST=host)
    assert response.status_code in (200, 503)
    assert "redis" in response.json()
    assert client.get("/accounts/login/", HTTP_HOST=host).status_code == 400


def test_worker_healthcheck_pings_its_own_worker():
    (script,) = SERVICES["worker"]["healthcheck"]["test"][1:]
    assert SERVICES["worker"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert "celery -A config inspect ping" in script and "-d celery@$$HOSTNAME" in script


def test_proxy_is_nginx_with_tls_in_front_of_web():
    proxy = SERVICES["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert "ports" not in SERVICES["web"]  # only the proxy is published
    mounts = {
        target: source
        for source, target in (
            re.fullmatch(r"(.+):(/[^:]+)(?::ro)?", m).groups() for m in proxy["volumes"]
        )  # type: ignore[union-attr]
    }
    for source in (
        mounts["/etc/nginx/conf.d/default.conf"],
        mounts["/etc/nginx/ponder-proxy.conf"],
    ):
        assert (ROOT / source).is_file(), source
    assert "/etc/nginx/certs" in mounts
    site = (ROOT / "deploy" / "nginx" / "ponder.conf").read_text()
    assert "ssl_certificate     /etc/nginx/certs/fullchain.pem;" in site
    assert "server web:8000" in site and "include /etc/nginx/ponder-proxy.conf;" in site
    params = (ROOT / "deploy" / "nginx" / "ponder-proxy.conf").read_text()
    for line in (
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_read_timeout 1h;",
    ):
        assert line in params
