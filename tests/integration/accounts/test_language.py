"""Which language a page is served in: the user's pick, else the cookie, else the browser."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings

from tests.factories import PASSWORD

LANG = re.compile(r'<html lang="([^"]+)"')


def html_lang(response) -> str:
    match = LANG.search(response.content.decode())
    assert match, "the page has no <html lang>"
    return match.group(1)


@pytest.mark.parametrize(
    ("accept", "served"),
    [
        ("ja,en;q=0.5", "ja"),
        ("zh-CN,zh;q=0.9", "zh-hans"),
        ("zh-TW", "zh-hant"),
        ("zh-HK,en;q=0.5", "zh-hant"),
        ("fr-FR,de;q=0.8", "en"),
        ("", "en"),
    ],
)
def test_the_sign_in_page_follows_the_browser(client, alice, accept, served):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=accept)
    assert html_lang(response) == served
    assert response["Content-Language"] == served


def test_the_users_pick_wins_over_the_browser(client, alice):
    client.force_login(alice)
    alice.language = "zh-hant"
    alice.save()
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ja")
    assert html_lang(response) == "zh-hant"


def test_picking_a_language_saves_it_and_sets_the_cookie(client, alice):
    client.force_login(alice)
    response = client.patch(
        "/api/settings/", json.dumps({"language": "ja"}), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["language"] == "ja"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    alice.refresh_from_db()
    assert alice.language == "ja"
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "ja"


def test_following_the_browser_again_clears_the_pick_and_the_cookie(client, alice):
    client.force_login(alice)
    client.patch("/api/settings/", {"language": "ja"}, content_type="application/json")
    response = client.patch("/api/settings/", {"language": ""}, content_type="application/json")
    assert response.json()["language"] == ""
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted
    alice.refresh_from_db()
    assert alice.language == ""
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")) == "zh-hans"


def test_an_unknown_language_is_refused_and_nothing_is_saved(client, alice):
    client.force_login(alice)
    alice.default_system_prompt = "Be brief."
    alice.save()
    response = client.patch(
        "/api/settings/",
        {"language": "fr", "default_system_prompt": "changed"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "language"
    alice.refresh_from_db()
    assert (alice.language, alice.default_system_prompt) == ("", "Be brief.")


def test_saving_the_system_prompt_alone_keeps_the_language(client, alice):
    client.force_login(alice)
    alice.language = "ja"
    alice.save()
    response = client.patch(
        "/api/settings/", {"default_system_prompt": "Be brief."}, content_type="application/json"
    )
    assert response.json() == {"default_system_prompt": "Be brief.", "language": "ja"}


def test_the_sign_in_pages_picker_sets_the_cookie(client, alice):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert html_lang(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja")) == "zh-hans"


def test_a_pick_on_the_sign_in_page_becomes_the_users(client, alice):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    signed_in = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert signed_in.status_code == 302
    alice.refresh_from_db()
    assert alice.language == "zh-hans"
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="ja")) == "zh-hans"


def test_the_sign_in_page_pick_does_not_override_an_earlier_choice(client, alice):
    alice.language = "ja"
    alice.save()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    alice.refresh_from_db()
    assert alice.language == "ja"


def test_following_the_browser_ignores_a_cookie_left_by_an_earlier_pick(client, alice):
    """A pick undone in one browser is undone in all: signed-in pages ignore the cookie."""
    client.force_login(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"  # left from an earlier pick
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="ja")) == "ja"


def test_the_javascript_catalog_is_served_per_language(client, db):
    response = client.get("/jsi18n/?l=ja", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
    assert b"django.gettext" in response.content or b"gettext" in response.content
