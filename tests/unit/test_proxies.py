"""PONDER_TRUSTED_PROXIES: forwarded headers believed from trusted proxies only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import RequestFactory

from config.proxies import TrustedProxyMiddleware, client_address, parse_networks

NETWORKS = parse_networks(["127.0.0.1", "::1", "10.0.0.0/8"])


def through(settings, remote_addr: str, **headers: str):
    """Return the request as the rest of Django sees it after the middleware."""
    settings.TRUSTED_PROXIES = NETWORKS
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)
    TrustedProxyMiddleware(lambda r: HttpResponse())(request)
    return request


def test_headers_from_an_untrusted_peer_are_dropped(settings):
    request = through(
        settings,
        "203.0.113.9",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert "HTTP_X_FORWARDED_PROTO" not in request.META
    assert "HTTP_X_FORWARDED_FOR" not in request.META
    assert request.is_secure() is False
    assert request.META["REMOTE_ADDR"] == "203.0.113.9"


def test_a_trusted_proxy_is_believed(settings):
    request = through(
        settings,
        "127.0.0.1",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert request.is_secure() is True
    assert request.META["REMOTE_ADDR"] == "198.51.100.1"


def test_cidr_ranges_and_ipv6_peers_are_trusted(settings):
    assert through(settings, "10.20.30.40", HTTP_X_FORWARDED_PROTO="https").is_secure()
    assert through(settings, "::1", HTTP_X_FORWARDED_PROTO="https").is_secure()
    assert not through(settings, "11.0.0.1", HTTP_X_FORWARDED_PROTO="https").is_secure()


def test_without_forwarded_for_the_peer_stays_the_client(settings):
    assert through(settings, "127.0.0.1").META["REMOTE_ADDR"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("198.51.100.1", "198.51.100.1"),
        # The client wrote the left part itself: only the right-most untrusted entry counts.
        ("6.6.6.6, 198.51.100.1", "198.51.100.1"),
        # Through a chain of trusted proxies.
        ("6.6.6.6, 198.51.100.1, 10.0.0.7, 10.1.2.3", "198.51.100.1"),
        # Every hop trusted: the left-most is the client.
        ("10.0.0.9, 10.0.0.7", "10.0.0.9"),
        ("2001:db8::5", "2001:db8::5"),
        # Garbage stops the walk at the trusted proxy that wrote it.
        ("198.51.100.1, unknown", "127.0.0.1"),
        ("198.51.100.1, garbage, 10.0.0.7", "10.0.0.7"),
    ],
)
def test_the_client_is_the_right_most_untrusted_address(forwarded_for, client):
    assert client_address("127.0.0.1", forwarded_for, NETWORKS) == client


def test_a_bad_entry_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="PONDER_TRUSTED_PROXIES"):
        parse_networks(["10.0.0.0/8", "proxy.internal"])
