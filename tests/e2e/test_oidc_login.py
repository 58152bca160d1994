"""Company sign-in in Chromium against a real OpenID Provider (oidc-provider under Node).

One stack serves every test here: daphne with PONDER_OIDC_* pointing at the provider, in
SSO-only mode (PONDER_PASSWORD_LOGIN=0). The provider's development login form takes any
password; the login typed there becomes the ``sub``, and its claims (groups included) are
whatever the test last wrote with ``set_account``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import CHROMIUM_ARGS, DESKTOP
from tests.factories import PASSWORD, make_user
from tests.live import ROOT, LiveProcess, child_env, free_port, start_daphne
from tests.oidc.provider import OpenIDProvider, django_env, start_provider

pytestmark = pytest.mark.e2e

T = TypeVar("T")
SCREENSHOTS = ROOT / "var" / "test-screenshots"


class OIDCStack:
    def __init__(self, provider: OpenIDProvider, web: LiveProcess, base_url: str) -> None:
        self.provider, self.web, self.base_url = provider, web, base_url


@pytest.fixture(scope="session")
def oidc_stack(
    simulator, django_db_setup, django_db_blocker, tmp_path_factory
) -> Iterator[OIDCStack]:
    # Static files are collected by the session's autouse fixture (tests/conftest.py).
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    provider = start_provider(site, tmp_path_factory.mktemp("oidc"))
    env = child_env(simulator, **django_env(provider, PONDER_PASSWORD_LOGIN="0"))
    with django_db_blocker.unblock():
        web, base_url = start_daphne(env, name="daphne-oidc", port=port)
    yield OIDCStack(provider, web, base_url)
    web.stop()
    provider.stop()


@pytest.fixture
def people(oidc_stack, transactional_db) -> None:
    """A superuser and a member of staff with passwords (made before Playwright's loop starts)."""
    make_user("root", is_staff=True, is_superuser=True)
    make_user("staffer", is_staff=True)


@pytest.fixture
def browser(people) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, oidc_stack) -> Iterator[Callable[[], Page]]:
    """Return a function opening a page in a fresh context (no Ponder or issuer session)."""
    contexts = []

    def open_() -> Page:
        context = browser.new_context(base_url=oidc_stack.base_url, viewport=DESKTOP)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def orm(query: Callable[[], T]) -> T:
    """Run an ORM query off Playwright's thread (Django refuses it next to a running loop)."""

    def run() -> T:
        from django.db import connection

        try:
            return query()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def user_state(sub: str) -> dict[str, Any] | None:
    def query() -> dict[str, Any] | None:
        from accounts.models import User

        user = User.objects.filter(oidc_subject=sub).first()
        if user is None:
            return None
        return {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "is_staff": user.is_staff,
        }

    return orm(query)


def audit_entries(action: str) -> list[dict[str, Any]]:
    def query() -> list[dict[str, Any]]:
        from chat.models import AuditEntry

        entries = AuditEntry.objects.filter(action=action).order_by("id")
        return [{"actor": e.actor, "detail": e.detail} for e in entries]

    return orm(query)


def sign_in_at_issuer(page: Page, login: str) -> None:
    """From Ponder's sign-in page, go through the issuer's login form."""
    page.goto("/accounts/login/")
    page.get_by_test_id("sso-login").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()


def test_first_company_sign_in_creates_the_user_with_groups(new_page, oidc_stack):
    oidc_stack.provider.set_account(
        "sub-ada",
        preferred_username="ada",
        email="ada@example.com",
        given_name="Ada",
        family_name="Lovelace",
        groups=["engineering", "research"],
    )
    page = new_page()
    page.goto("/accounts/login/")
    button = page.get_by_test_id("sso-login")
    expect(button).to_have_text("Sign in with Example Corp")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "oidc-login-page.png")

    sign_in_at_issuer(page, "sub-ada")

    expect(page.get_by_test_id("composer")).to_be_visible()
    assert user_state("sub-ada") | {"id": 0} == {
        "id": 0,
        "username": "ada",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "groups": ["engineering", "research"],
        "is_staff": False,
    }
    assert [e["actor"] for e in audit_entries("sign_in")] == ["ada"]


def test_a_later_sign_in_replaces_the_groups_with_the_claims(new_page, oidc_stack):
    provider = oidc_stack.provider
    provider.set_account("sub-bo", preferred_username="bo", groups=["sales", "support"])
    sign_in_at_issuer(new_page(), "sub-bo")
    first = user_state("sub-bo")
    assert first is not None and first["groups"] == ["sales", "support"]

    provider.set_account("sub-bo", preferred_username="bo", groups=["support", "management"])
    page = new_page()
    sign_in_at_issuer(page, "sub-bo")

    expect(page.get_by_test_id("composer")).to_be_visible()
    second = user_state("sub-bo")
    assert second is not None
    assert (second["id"], second["groups"]) == (first["id"], ["management", "support"])


def test_sign_out_ends_the_session_and_signs_out_at_the_issuer(new_page, oidc_stack):
    oidc_stack.provider.set_account("sub-cy", preferred_username="cy")
    page = new_page()
    sign_in_at_issuer(page, "sub-cy")
    expect(page.get_by_test_id("composer")).to_be_visible()

    page.locator("form.logout button").click()

    page.wait_for_url(f"{oidc_stack.provider.issuer}/session/end**")
    assert "id_token_hint=" in page.url
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert [e["actor"] for e in audit_entries("sign_out")] == ["cy"]


def test_a_tampered_state_is_refused_and_nobody_is_signed_in(new_page, oidc_stack):
    oidc_stack.provider.set_account("sub-dee", preferred_username="dee")
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_test_id("sso-login").click()  # a flow starts: this session has a state
    expect(page.locator("input[name=login]")).to_be_visible()

    page.goto("/oidc/callback/?code=stolen&state=forged")

    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("alert")).to_contain_text("Company sign-in did not work")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    failures = audit_entries("sign_in_failed")
    assert [e["detail"] for e in failures] == [{"method": "oidc", "reason": "state"}]


def test_a_tampered_nonce_is_refused(new_page, oidc_stack):
    """The issuer signs a token for a nonce this session never sent: a replayed token."""
    oidc_stack.provider.set_account("sub-eve", preferred_username="eve")
    page = new_page()
    # Start the flow without following the redirect (the context's cookie jar keeps
    # Ponder's session), then go to the issuer with another nonce.
    start = page.request.get("/oidc/authenticate/", max_redirects=0)
    authorize = urlsplit(start.headers["location"])
    query = dict(parse_qsl(authorize.query)) | {"nonce": "not-the-nonce-ponder-sent"}
    page.goto(authorize._replace(query=urlencode(query)).geturl())
    page.locator("input[name=login]").fill("sub-eve")
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("alert")).to_contain_text("reason: nonce")
    assert user_state("sub-eve") is None
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    failures = audit_entries("sign_in_failed")
    assert [e["detail"] for e in failures] == [{"method": "oidc", "reason": "nonce"}]


def test_sso_only_refuses_a_staff_password_but_not_a_superusers(new_page):
    page = new_page()
    page.goto("/accounts/login/")
    expect(page.get_by_label("Password")).to_be_hidden()  # tucked away for administrators
    page.get_by_text("Administrator sign-in").click()
    page.get_by_label("Username").fill("staffer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("alert")).to_contain_text("Password sign-in is for administrators only")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.get_by_text("Administrator sign-in").click()
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("composer")).to_be_visible()
