"""Company sign-in through Django: the sign-in page, the flow's start, its callback, sign-out,
and SSO-only mode. The issuer is stood in for at its network edge (discovery, token, keys);
tests/e2e/test_oidc_login.py runs the same flow against a real OpenID Provider.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import SESSION_KEY

from accounts.oidc import discovery
from accounts.oidc.backend import BACKEND_PATH, OIDCBackend
from accounts.oidc.discovery import ProviderMetadata
from accounts.oidc.errors import ProviderUnavailable
from accounts.password.forms import SSO_ONLY_MESSAGE
from chat.models import AuditEntry
from config.middleware import content_security_policy
from tests.factories import PASSWORD

ISSUER = "https://login.example.com/tenant"
METADATA = ProviderMetadata(
    issuer=ISSUER,
    authorization_endpoint=f"{ISSUER}/authorize",
    token_endpoint=f"{ISSUER}/token",
    jwks_uri=f"{ISSUER}/keys",
    end_session_endpoint=f"{ISSUER}/logout",
)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def company(settings, monkeypatch):
    """Company sign-in configured; discovery answers METADATA without the network."""
    settings.OIDC_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = "ponder"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_NAME = "Example Corp"
    discovery.forget_provider_metadata()
    monkeypatch.setattr(discovery, "fetch_metadata", lambda issuer: METADATA)
    yield
    discovery.forget_provider_metadata()


@pytest.fixture
def issuer_tokens(monkeypatch):
    """The token endpoint answers with the ID token a test puts in ``minted``."""
    minted: dict[str, str] = {}
    public = jwt.PyJWK.from_dict(
        {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "alg": "RS256"}
    )
    monkeypatch.setattr(
        OIDCBackend,
        "get_token",
        lambda self, payload: {"id_token": minted["id_token"], "access_token": ""},
    )
    monkeypatch.setattr(OIDCBackend, "retrieve_matching_jwk", lambda self, token: public)
    return minted


def id_token(*, nonce: str, **changes) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": "ponder", "sub": "sub-1", "nonce": nonce, "iat": now, "exp": now + 60,
        "preferred_username": "ada", "email": "ada@example.com", "groups": ["research"],
    } | changes  # fmt: skip
    return jwt.encode(claims, KEY, algorithm="RS256")


def start_flow(client) -> dict[str, str]:
    """Start a sign-in; return the authorization request's parameters."""
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == METADATA.authorization_endpoint
    )
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def failures() -> list[dict]:
    return [e.detail for e in AuditEntry.objects.filter(action="sign_in_failed").order_by("id")]


def test_without_an_issuer_there_is_no_company_sign_in(alice, client):
    page = client.get("/accounts/login/").content.decode()
    assert 'data-testid="sso-login"' not in page
    assert 'name="password"' in page
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_the_sign_in_page_offers_company_sign_in_next_to_passwords(alice, client, company):
    page = client.get("/accounts/login/?next=/c/1/").content.decode()
    assert 'data-testid="sso-login"' in page
    assert "Sign in with Example Corp" in page
    assert 'href="/oidc/authenticate/?next=/c/1/"' in page
    assert "or with a password" in page and "Administrator sign-in" not in page


def test_the_flow_starts_with_state_nonce_and_a_pkce_challenge(alice, client, company):
    params = start_flow(client)

    assert params["response_type"] == "code"
    assert params["client_id"] == "ponder"
    assert params["redirect_uri"] == "http://testserver/oidc/callback/"
    assert params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url of a SHA-256
    stored = client.session["oidc_states"][params["state"]]
    assert stored["nonce"] == params["nonce"] and len(stored["code_verifier"]) >= 43


def test_a_good_callback_signs_in_and_is_audited(alice, client, company, issuer_tokens):
    params = start_flow(client)
    issuer_tokens["id_token"] = id_token(nonce=params["nonce"])

    response = client.get(f"/oidc/callback/?code=c0de&state={params['state']}")

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_backend"] == BACKEND_PATH
    (entry,) = AuditEntry.objects.filter(action="sign_in")
    assert entry.actor == "ada"
    assert failures() == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"aud": "another-app"}, "audience"), ({"nonce": "replayed"}, "nonce"),
     ({"iss": "https://evil.example.com"}, "issuer")],
)  # fmt: skip
def test_a_forged_id_token_is_refused(alice, client, company, issuer_tokens, changes, reason):
    params = start_flow(client)
    issuer_tokens["id_token"] = id_token(**({"nonce": params["nonce"]} | changes))

    response = client.get(f"/oidc/callback/?code=c0de&state={params['state']}")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session
    assert failures() == [{"method": "oidc", "reason": reason}]
    assert not AuditEntry.objects.filter(action="sign_in").exists()


def test_an_unknown_state_is_refused(alice, client, company):
    start_flow(client)

    response = client.get("/oidc/callback/?code=c0de&state=forged", follow=True)

    assert "Company sign-in did not work" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert failures() == [{"method": "oidc", "reason": "state"}]


def test_a_state_is_used_once(alice, client, company, issuer_tokens):
    params = start_flow(client)
    issuer_tokens["id_token"] = id_token(nonce=params["nonce"])
    client.get(f"/oidc/callback/?code=c0de&state={params['state']}")
    client.logout()

    client.get(f"/oidc/callback/?code=c0de&state={params['state']}")

    assert SESSION_KEY not in client.session


def test_an_error_from_the_issuer_is_recorded(alice, client, company):
    params = start_flow(client)
    client.get(f"/oidc/callback/?error=access_denied&state={params['state']}")
    assert failures() == [{"method": "oidc", "reason": "provider_error", "error": "access_denied"}]


def test_an_unreachable_issuer_is_a_message_not_an_error(alice, client, company, monkeypatch):
    def down(issuer):
        raise ProviderUnavailable("connection refused")

    monkeypatch.setattr(discovery, "fetch_metadata", down)
    response = client.get("/oidc/authenticate/", follow=True)
    assert "Company sign-in is unavailable right now" in response.content.decode()


def test_signing_out_after_company_sign_in_signs_out_at_the_issuer(
    alice, client, company, issuer_tokens
):
    params = start_flow(client)
    issuer_tokens["id_token"] = id_token(nonce=params["nonce"])
    client.get(f"/oidc/callback/?code=c0de&state={params['state']}")

    response = client.post("/accounts/logout/")

    location = urlsplit(response["Location"])
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == METADATA.end_session_endpoint
    assert query["id_token_hint"] == issuer_tokens["id_token"]
    assert query["post_logout_redirect_uri"] == "http://testserver/accounts/login/"
    assert SESSION_KEY not in client.session


def test_signing_out_after_a_password_stays_here(alice, client, company):
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"


@pytest.fixture
def sso_only(settings, company):
    settings.PASSWORD_LOGIN = False


def test_sso_only_shows_the_company_button_and_tucks_passwords_away(alice, client, sso_only):
    page = client.get("/accounts/login/").content.decode()
    assert 'data-testid="sso-login"' in page
    assert "Administrator sign-in" in page and "or with a password" not in page


def test_sso_only_refuses_a_staff_password(alice, client, sso_only):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    assert SSO_ONLY_MESSAGE in response.content.decode()
    assert SESSION_KEY not in client.session


def test_sso_only_lets_a_superuser_use_a_password(admin_user, client, sso_only):
    response = client.post("/accounts/login/", {"username": "charlie", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(admin_user.pk)


def test_sso_only_refuses_staff_passwords_at_the_admin_too(alice, admin_user, client, sso_only):
    alice.is_staff = True
    alice.save()

    refused = client.post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert SSO_ONLY_MESSAGE in refused.content.decode()
    assert SESSION_KEY not in client.session

    allowed = client.post("/admin/login/", {"username": "charlie", "password": PASSWORD})
    assert allowed.status_code == 302


def test_forms_may_lead_to_the_issuer_and_nowhere_else():
    assert "form-action 'self';" in content_security_policy("")
    policy = content_security_policy("https://login.example.com/tenant/v2.0")
    assert "form-action 'self' https://login.example.com;" in policy
