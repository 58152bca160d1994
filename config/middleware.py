"""Response headers Django does not set on its own."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from chat import health

CONTENT_SECURITY_POLICY = "; ".join(
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
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Add a strict Content-Security-Policy unless a view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
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
