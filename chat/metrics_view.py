"""``GET /metrics``: this web process's Prometheus metrics, for bearers of the token only.

Off (404) unless ``PONDER_METRICS_TOKEN`` is set. Workers serve their own registries on
``PONDER_WORKER_METRICS_PORT`` (see ``chat.metrics``); the queue depth is read here, from
Redis, at scrape time, with short timeouts so a Redis outage cannot hold the scrape.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from chat import metrics

# kombu's Redis transport keeps priorities 3, 6, 9 in keys of their own beside the queue's.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    return _client


def queue_depths() -> dict[str, int]:
    """Return how many tasks wait in this installation's Celery queue (``LLEN``)."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    keys = [queue, *(f"{queue}{_PRIORITY_SEP}{step}" for step in _PRIORITY_STEPS)]
    pipe = _redis().pipeline(transaction=False)
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
