"""Believe ``X-Forwarded-*`` headers only from the proxies named in PONDER_TRUSTED_PROXIES."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR")


def parse_networks(items: Iterable[str], name: str = "PONDER_TRUSTED_PROXIES") -> list[Network]:
    """Return addresses and CIDR ranges (``10.0.0.0/8``) as networks; raise on anything else."""
    networks: list[Network] = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is neither an IP address nor a CIDR range"
            ) from None
    return networks


def parse_address(value: str) -> Address | None:
    """Return an IP address (IPv4-mapped IPv6 unwrapped), or None for anything else."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: Address | None, networks: Iterable[Network]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(remote_addr: str, forwarded_for: str, networks: list[Network]) -> str:
    """Return the right-most address of ``X-Forwarded-For`` that is not a trusted proxy.

    The peer (``remote_addr``) is a trusted proxy. Each proxy appends the address it got
    the request from, so walking from the right, the first untrusted address is the one a
    trusted proxy saw: the client. Anything left of it may be made up by the client. If
    every hop is trusted, the left-most is the client; a malformed entry stops the walk at
    the trusted proxy that wrote it.
    """
    client = remote_addr
    for item in reversed(forwarded_for.split(",")):
        address = parse_address(item)
        if address is None:
            break
        client = str(address)
        if not is_trusted(address, networks):
            break
    return client


class TrustedProxyMiddleware:
    """Drop forwarded headers from untrusted peers; behind a trusted proxy, find the client.

    Runs first, so Django's ``SECURE_PROXY_SSL_HEADER`` (``request.is_secure()``), the
    login throttling (django-axes reads ``REMOTE_ADDR``) and everything else only ever see
    values a trusted proxy vouched for.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.networks: list[Network] = settings.TRUSTED_PROXIES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.process(request)
        return self.get_response(request)

    def process(self, request: HttpRequest) -> None:
        meta = request.META
        peer = parse_address(meta.get("REMOTE_ADDR") or "")
        if not is_trusted(peer, self.networks):
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
            return
        forwarded_for = meta.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded_for.strip():
            meta["REMOTE_ADDR"] = client_address(str(peer), forwarded_for, self.networks)


def client_ip(request: HttpRequest) -> str | None:
    """The client address for django-axes: ``REMOTE_ADDR`` as the middleware above left it."""
    return request.META.get("REMOTE_ADDR") or None
