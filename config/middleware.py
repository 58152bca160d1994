"""Response headers Django does not set on its own."""

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from chat.observability import health, metrics
from chat.observability.logcontext import clean_request_id, new_request_id, request_id


def content_security_policy(issuer: str = "") -> str:
    """Return the policy; with company sign-in, forms may also lead to the issuer.

    Chromium applies ``form-action`` to the redirects after a form is posted too, and
    signing out (a POST) ends at the issuer's sign-out page.
    """
    origin = urlsplit(issuer)
    form_action = "'self'" + (f" {origin.scheme}://{origin.netloc}" if origin.netloc else "")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # The Django admin sets a few style attributes; model text never reaches a style.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    """Add a strict Content-Security-Policy unless a view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = content_security_policy(settings.OIDC_ISSUER)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class HealthCheckMiddleware:
    """Answer ``GET /healthz`` whatever the Host header says.

    Orchestrators probe a container by its own address (``127.0.0.1:8000`` in compose, the
    pod IP in Kubernetes), which no ``DJANGO_ALLOWED_HOSTS`` can list in advance; Django
    would answer 400 (DisallowedHost). Placed right after SecurityMiddleware (whose HTTPS
    redirect exempts ``healthz``) and before CommonMiddleware, the first to read the
    Host, so the probe never depends on it. Only this exact path skips the check.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz" and request.method in ("GET", "HEAD"):
            return health.healthz(request)
        return self.get_response(request)


access_log = logging.getLogger("ponder.access")

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RequestIdMiddleware:
    """Give each request an id for its log lines (and its reply's), returned as X-Request-ID.

    A sane id from the proxy in front (at most 64 of ``[A-Za-z0-9._-]``) is kept, so the
    proxy's access log and ours line up; anything else is replaced by a fresh one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = clean_request_id(request.headers.get("X-Request-ID")) or new_request_id()
        token = request_id.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            if settings.LOG_FORMAT == "json":  # in place of daphne's plain-text access log
                access_log.info(
                    "%s %s %d %.1f ms", request.method, route_of(request),
                    response.status_code, (time.monotonic() - started) * 1000,
                )  # fmt: skip
        finally:
            request_id.reset(token)
        response.headers["X-Request-ID"] = rid
        method = request.method if request.method in _METHODS else "other"
        metrics.HTTP_REQUESTS.labels(method, f"{response.status_code // 100}xx").inc()
        return response


def route_of(request: HttpRequest) -> str:
    """Return the URL pattern that matched, not the path: paths can hold share tokens."""
    match = request.resolver_match
    return f"/{match.route}" if match is not None and match.route else "(unrouted)"
