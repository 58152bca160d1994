"""Why a company sign-in did not happen.

    Exception
    ├── OIDCRefused          the callback was refused (forged, replayed, wrong token)
    └── ProviderUnavailable  the issuer could not be asked (down, misconfigured)

Each carries a short ``reason`` code: the audit log's ``sign_in_failed`` detail.
They are not ``SuspiciousOperation``s on purpose: mozilla-django-oidc swallows those
inside its backend, and the reason would be lost.
"""

from __future__ import annotations


class OIDCRefused(Exception):
    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class ProviderUnavailable(Exception):
    reason = "provider_unavailable"
