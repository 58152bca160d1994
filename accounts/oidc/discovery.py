"""The issuer's endpoints, from ``<issuer>/.well-known/openid-configuration``.

Fetched on first use and kept in the process for an hour, not read at start-up: Ponder
starts (and password sign-in works) while the issuer is unreachable.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from .errors import ProviderUnavailable

logger = logging.getLogger(__name__)

CACHE_SECONDS = 3600
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")

_cache: dict[str, tuple[float, ProviderMetadata]] = {}


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    end_session_endpoint: str = ""


def provider_metadata() -> ProviderMetadata:
    """Return the configured issuer's metadata, from the cache when it is fresh."""
    issuer: str = settings.OIDC_ISSUER
    cached = _cache.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    metadata = fetch_metadata(issuer)
    _cache[issuer] = (time.monotonic(), metadata)
    return metadata


def forget_provider_metadata() -> None:
    """Drop the cached metadata (tests; an issuer that moved its endpoints)."""
    _cache.clear()


def fetch_metadata(issuer: str) -> ProviderMetadata:
    """Fetch and check the discovery document; raise ProviderUnavailable when it is unusable."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        logger.warning("OIDC discovery at %s failed: %s", url, exc)
        raise ProviderUnavailable(f"discovery failed: {exc}") from exc
    missing = [name for name in REQUIRED if not isinstance(document.get(name), str)]
    if missing:
        raise ProviderUnavailable(f"discovery document lacks {', '.join(missing)}")
    # OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
    if document["issuer"].rstrip("/") != issuer.rstrip("/"):
        raise ProviderUnavailable(
            f"discovery document names issuer {document['issuer']!r}, not {issuer!r}"
        )
    return ProviderMetadata(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=str(document.get("userinfo_endpoint") or ""),
        end_session_endpoint=str(document.get("end_session_endpoint") or ""),
    )
