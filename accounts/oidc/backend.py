"""mozilla-django-oidc's authentication backend, fitted to Ponder.

The library runs the code exchange, fetches the signing key from the JWKS endpoint,
stores the ID token for sign-out and calls userinfo. Ponder changes four things:
endpoints come from discovery (on use, not at start-up), the ID token is checked in
full (``tokens.decode_id_token``), users are matched by ``sub`` (``users``), and a
refused callback raises ``OIDCRefused`` with its reason instead of returning None.
"""

from __future__ import annotations

from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from ..models import User
from . import users
from .discovery import provider_metadata
from .errors import OIDCRefused
from .tokens import decode_id_token

BACKEND_PATH = "accounts.oidc.backend.OIDCBackend"


class OIDCBackend(OIDCAuthenticationBackend):
    OIDC_RP_SIGN_ALGO = "RS256"
    OIDC_RP_IDP_SIGN_KEY = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds every backend for every authenticate() call, password sign-ins
        # included: nothing here may need the issuer (the library's __init__ reads the
        # endpoint settings, which Ponder discovers on use instead).
        self.UserModel = get_user_model()

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return provider_metadata().token_endpoint

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return provider_metadata().userinfo_endpoint

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return provider_metadata().jwks_uri

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return str(settings.OIDC_RP_CLIENT_ID)

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return str(settings.OIDC_RP_CLIENT_SECRET)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        """Sign in from the OIDC callback; answer None to every other way in (passwords).

        Only the callback view passes ``nonce``: a password form whose URL happens to
        carry ``code`` and ``state`` must not start a token exchange.
        """
        if request is None or "nonce" not in kwargs or not settings.OIDC_ISSUER:
            return None
        user: User | None = super().authenticate(request, **kwargs)
        if user is None:  # the library swallowed a SuspiciousOperation (and logged it)
            raise OIDCRefused("claims", "the issuer's claims were not accepted")
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """Return the claims of a valid ID token; raise OIDCRefused.

        The library also sends signed (``application/jwt``) userinfo here, without a
        nonce: that is refused, as userinfo as plain JSON is what issuers send by default.
        """
        try:
            key = self.retrieve_matching_jwk(token)
        except (SuspiciousOperation, KeyError, jwt.PyJWTError) as exc:
            raise OIDCRefused("signing_key", f"no usable signing key: {exc}") from exc
        metadata = provider_metadata()
        return decode_id_token(
            token,
            key,
            issuer=metadata.issuer,
            client_id=self.OIDC_RP_CLIENT_ID,
            nonce=kwargs.get("nonce"),
        )

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Return the ID token's claims updated with userinfo's (groups may be in either)."""
        info: dict[str, Any] = {}
        if access_token and provider_metadata().userinfo_endpoint:
            info = super().get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core §5.3.2: userinfo about someone else must not be used.
        if info.get("sub", payload["sub"]) != payload["sub"]:
            raise OIDCRefused("userinfo_subject", "userinfo names another subject")
        return {**payload, **info}

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        claims = self.get_userinfo(access_token, id_token, payload)
        user = users.sign_in_user(
            claims, groups_claim=settings.OIDC_GROUPS_CLAIM, request=self.request
        )
        if not user.is_active:
            raise OIDCRefused("inactive", f"user {user.pk} is deactivated")
        return user
