"""Checking an ID token: signature, algorithm, issuer, audience, lifetime and nonce.

mozilla-django-oidc (5.0) checks the signature and nonce but neither audience nor issuer
(it decodes with ``verify_aud: False``); a token the issuer minted for another
application must not sign anyone in here, so the whole check is ours.
"""

from __future__ import annotations

from typing import Any

import jwt

from .errors import OIDCRefused

ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 60  # clock skew between Ponder and the issuer

_REASONS: list[tuple[type[jwt.PyJWTError], str]] = [
    (jwt.InvalidAudienceError, "audience"),
    (jwt.InvalidIssuerError, "issuer"),
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAlgorithmError, "algorithm"),
    (jwt.InvalidSignatureError, "signature"),
    (jwt.MissingRequiredClaimError, "claims"),
]


def decode_id_token(
    token: str, key: Any, *, issuer: str, client_id: str, nonce: str | None
) -> dict[str, Any]:
    """Return the claims of a valid ID token; raise OIDCRefused naming what is wrong.

    ``nonce`` is the one this session sent with its authorization request: the token
    must carry exactly it, so a token obtained for another sign-in cannot be replayed.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=client_id,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as exc:
        reason = next((code for kind, code in _REASONS if isinstance(exc, kind)), "token")
        raise OIDCRefused(reason, f"ID token refused: {exc}") from exc
    # OpenID Connect Core §3.1.3.7: with several audiences, azp must be this client.
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OIDCRefused("audience", "ID token has several audiences and azp is not ours")
    if nonce is None or claims.get("nonce") != nonce:
        raise OIDCRefused("nonce", "ID token nonce does not match this sign-in")
    return claims
