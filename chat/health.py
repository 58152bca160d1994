"""``GET /healthz``: a real check of the database, Redis and the Celery workers."""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app

logger = logging.getLogger(__name__)

WORKER_PING_TTL = 5.0  # seconds a worker count is trusted; a ping costs up to a second
_worker_cache: dict[str, float | int] = {"checked_at": -1e9, "count": 0}


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is "down"; the type goes to the log
        logger.warning("health: database check failed: %s", type(exc).__name__)
        return "error"
    return "ok"


def check_redis() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        logger.warning("health: redis check failed: %s", type(exc).__name__)
        return "error"
    return "ok"


def count_workers() -> int:
    """Return how many Celery workers answered a broadcast ping, cached a few seconds."""
    now = time.monotonic()
    if now - _worker_cache["checked_at"] < WORKER_PING_TTL:
        return int(_worker_cache["count"])
    try:
        replies = celery_app.control.ping(timeout=1.0)
    except Exception as exc:  # broker unreachable
        logger.warning("health: worker ping failed: %s", type(exc).__name__)
        replies = []
    _worker_cache.update(checked_at=now, count=len(replies))
    return len(replies)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    database = check_database()
    redis_state = check_redis()
    workers = count_workers() if redis_state == "ok" else 0
    healthy = database == "ok" and redis_state == "ok" and workers > 0
    body: dict[str, object] = {
        "status": "ok" if healthy else "error",
        "database": database,
        "redis": redis_state,
        "workers": workers,
    }
    if not healthy:
        body["failing"] = [
            part
            for part, ok in (
                ("database", database == "ok"),
                ("redis", redis_state == "ok"),
                ("workers", workers > 0),
            )
            if not ok
        ]
    return JsonResponse(body, status=200 if healthy else 503)
