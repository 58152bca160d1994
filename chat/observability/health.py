"""The operator's endpoints: ``/healthz`` and ``/metrics``.

``GET /healthz`` is a real check of the database, Redis and the Celery workers.
``GET /metrics`` serves this web process's Prometheus metrics to bearers of the token
only; it is off (404) unless ``PONDER_METRICS_TOKEN`` is set. Workers serve their own
registries on ``PONDER_WORKER_METRICS_PORT`` (see ``chat.observability.metrics``); the
queue depth is read here, from Redis, at scrape time, with short timeouts so a Redis
outage cannot hold the scrape.
"""

from __future__ import annotations

import logging
import time

import redis
from celery import current_app as celery_app  # config.celery's app: chat never imports config
from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from chat.observability import metrics

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


# kombu's Redis transport keeps priorities 3, 6, 9 in keys of their own beside the queue's.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)
_metrics_client: redis.Redis | None = None


def _metrics_redis() -> redis.Redis:
    global _metrics_client
    if _metrics_client is None:
        _metrics_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    return _metrics_client


def queue_depths() -> dict[str, int]:
    """Return how many tasks wait in this installation's Celery queue (``LLEN``)."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    keys = [queue, *(f"{queue}{_PRIORITY_SEP}{step}" for step in _PRIORITY_STEPS)]
    pipe = _metrics_redis().pipeline(transaction=False)
    for key in keys:
        pipe.llen(key)
    return {queue: sum(int(n) for n in pipe.execute())}


metrics.register_queue_depth(queue_depths)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if not metrics.bearer_ok(request.headers.get("Authorization"), token):
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(metrics.WEB), content_type=content_type)
