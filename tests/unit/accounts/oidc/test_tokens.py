"""ID token checks: only a token signed by the issuer, for us, for this sign-in, passes."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.oidc.errors import OIDCRefused
from accounts.oidc.tokens import decode_id_token

ISSUER = "https://login.example.com"
CLIENT_ID = "ponder"
NONCE = "n-0S6_WzA2Mj"

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key: Any = KEY, algorithm: str = "RS256", **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "sub": "248289761001", "aud": CLIENT_ID, "nonce": NONCE,
        "iat": now, "exp": now + 300,
    } | changes  # fmt: skip
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm=algorithm)


def decode(raw: str, nonce: str | None = NONCE) -> dict[str, Any]:
    return decode_id_token(raw, KEY.public_key(), issuer=ISSUER, client_id=CLIENT_ID, nonce=nonce)


def refusal(raw: str, nonce: str | None = NONCE) -> str:
    with pytest.raises(OIDCRefused) as caught:
        decode(raw, nonce)
    return caught.value.reason


def test_a_good_token_gives_its_claims():
    assert decode(token())["sub"] == "248289761001"


def test_a_token_for_another_audience_is_refused():
    assert refusal(token(aud="someone-else")) == "audience"


def test_several_audiences_need_azp_naming_us():
    assert refusal(token(aud=[CLIENT_ID, "other"])) == "audience"
    assert decode(token(aud=[CLIENT_ID, "other"], azp=CLIENT_ID))["azp"] == CLIENT_ID


def test_a_token_from_another_issuer_is_refused():
    assert refusal(token(iss="https://evil.example.com")) == "issuer"


def test_a_wrong_or_missing_nonce_is_refused():
    assert refusal(token(nonce="another-sign-in")) == "nonce"
    assert refusal(token(nonce=None)) == "nonce"
    assert refusal(token(), nonce=None) == "nonce"


def test_a_token_signed_with_another_key_is_refused():
    assert refusal(token(key=OTHER_KEY)) == "signature"


def test_an_expired_token_is_refused():
    assert refusal(token(exp=int(time.time()) - 120)) == "expired"


def test_a_token_signed_with_the_client_secret_is_refused():
    """HS256 with a public value as the key is the classic algorithm-confusion forgery."""
    assert refusal(token(key="x" * 32, algorithm="HS256")) == "algorithm"


def test_a_token_without_sub_is_refused():
    assert refusal(token(sub=None)) == "claims"
