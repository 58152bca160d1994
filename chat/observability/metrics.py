"""Prometheus metrics: one registry per kind of process, plain prometheus_client only.

Web (daphne) and workers (Celery) are separate processes, often in separate containers
with no shared disk, so each serves its own registry: the web process at ``GET /metrics``
(``WEB``), each worker process on ``PONDER_WORKER_METRICS_PORT`` (``WORKER``). Prometheus
scrapes them all and sums across instances. Updates are lock-free-cheap counter bumps and
never sit inside a section that waits on Redis or the database.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    make_wsgi_app,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

WEB = CollectorRegistry()
WORKER = CollectorRegistry()
for _registry in (WEB, WORKER):
    ProcessCollector(registry=_registry)
    PlatformCollector(registry=_registry)

# --- Worker: streams, relay, upstream, reaper ------------------------------------------------
ACTIVE_STREAMS = Gauge(
    "ponder_active_streams", "Replies this worker process is streaming now.", registry=WORKER
)
EVENTS_RELAYED = Counter(
    "ponder_events_relayed",
    "Events appended to a replay buffer and sent to the channel layer, by type.",
    ["type"],
    registry=WORKER,
)
ADDED_LATENCY = Histogram(
    "ponder_added_latency_seconds",
    "Per flush: from the oldest upstream piece waiting in it to its event appended and sent.",
    buckets=(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=WORKER,
)
UPSTREAM_ERRORS = Counter(
    "ponder_upstream_errors", "Replies the upstream ended with an error, by code.", ["code"],
    registry=WORKER,
)  # fmt: skip
TOKENS = Counter(
    "ponder_tokens",
    "Tokens of finished replies by model and kind (output includes reasoning).",
    ["model", "kind"],
    registry=WORKER,
)
REAPER_ACTIONS = Counter(
    "ponder_reaper_actions",
    "What the reaper did: interrupted (stale reply ended), requeued (reply queued again).",
    ["action"],
    registry=WORKER,
)

# --- Web: websockets, sends, HTTP, the task queue ----------------------------------------------
WEBSOCKETS = Gauge(
    "ponder_websocket_connections", "Open websocket connections of this web process.", registry=WEB
)
REPLIES_QUEUED = Counter(
    "ponder_replies_queued",
    "Replies handed to the task queue by sends and regenerations; result=deferred when the "
    "broker was down (the reaper queues them later).",
    ["result"],
    registry=WEB,
)
HTTP_REQUESTS = Counter(
    "ponder_http_requests",
    "HTTP requests answered by this web process, by method and status class.",
    ["method", "status"],
    registry=WEB,
)


class QueueDepthCollector(Collector):
    """``ponder_queue_depth``: tasks waiting in the broker, read at scrape time.

    ``read`` returns the depth per queue name; when it raises, the metric is left out of
    this scrape (``ponder_queue_depth_up`` 0) rather than showing a stale number.
    """

    def __init__(self, read: Callable[[], dict[str, int]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("ponder_queue_depth_up", "1 when the queue depth could be read.")
        try:
            depths = self.read()
        except Exception as exc:
            logger.warning("metrics: queue depth unreadable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "ponder_queue_depth", "Tasks waiting in the Celery queue.", labels=["queue"]
        )
        for queue, value in depths.items():
            depth.add_metric([queue], value)
        yield depth


_queue_depth_registered = threading.Lock()
_queue_depth_collector: QueueDepthCollector | None = None


def register_queue_depth(read: Callable[[], dict[str, int]]) -> None:
    """Add the queue depth to the web registry once (the web process calls this)."""
    global _queue_depth_collector
    with _queue_depth_registered:
        if _queue_depth_collector is None:
            _queue_depth_collector = QueueDepthCollector(read)
            WEB.register(_queue_depth_collector)


def bearer_ok(authorization: str | None, token: str) -> bool:
    """Return whether an Authorization header carries ``Bearer <token>`` (constant time)."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


# --- The worker's own metrics endpoint ------------------------------------------------------------
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def protected(app: WsgiApp, token: str) -> WsgiApp:
    """Wrap a WSGI app so it answers 401 unless the request bears ``token``."""

    def guarded(
        request_vars: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not bearer_ok(request_vars.get("HTTP_AUTHORIZATION"), token):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")],
            )
            return [b"unauthorized\n"]
        return app(request_vars, start_response)

    return guarded


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # scrapes are not news
        pass


def serve_worker_metrics(port: int, token: str, addr: str = "0.0.0.0") -> WSGIServer:
    """Serve ``WORKER`` on ``addr:port`` in a daemon thread; with ``token``, bearer only."""
    app: WsgiApp = make_wsgi_app(WORKER)
    if token:
        app = protected(app, token)
    else:
        logger.warning(
            "worker metrics on port %d without PONDER_METRICS_TOKEN: keep it on a private network",
            port,
        )
    server = make_server(addr, port, app, _ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="ponder-metrics", daemon=True).start()
    logger.info("worker metrics on %s:%d", addr, port)
    return server
