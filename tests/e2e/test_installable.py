"""Ponder as an installable app, in Chromium: the manifest, the service worker, offline."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, log_in
from tests.e2e.test_chat_page import STREAM_TIMEOUT, send

pytestmark = pytest.mark.e2e

CACHED_PATHS = """async () => {
  const found = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    found[name] = (await cache.keys()).map((request) => new URL(request.url).pathname);
  }
  return found;
}"""


def app_manifest(page: Page) -> dict:
    """What Chromium itself makes of the page's manifest: its URL, errors and fields."""
    session = page.context.new_cdp_session(page)
    try:
        return session.send("Page.getAppManifest")
    finally:
        session.detach()


def test_the_manifest_is_valid_and_its_icons_load(chat):
    manifest = app_manifest(chat)
    assert manifest["url"], "no <link rel=manifest>"
    assert manifest["errors"] == []
    response = chat.request.get(manifest["url"])
    assert response.headers["content-type"].startswith("application/manifest+json")
    fields = response.json()
    assert (fields["name"], fields["start_url"], fields["display"]) == ("Ponder", "/", "standalone")
    for icon in fields["icons"]:
        image = chat.request.get(urljoin(manifest["url"], icon["src"]))
        assert image.ok, icon
        assert image.headers["content-type"].startswith(icon["type"]), icon
    touch_icon = chat.locator("link[rel=apple-touch-icon]").get_attribute("href")
    assert chat.request.get(urljoin(chat.url, touch_icon)).headers["content-type"] == "image/png"
    expect(chat.locator("meta[name=theme-color]")).to_have_count(2)  # light and dark


def test_the_service_worker_shows_the_offline_page_and_keeps_nothing_else(
    browser, chat_stack, username
):
    # A context of its own, not the `chat` fixture's: going offline makes the browser log
    # the failed loads as console errors, which that fixture counts as the page's faults.
    context = browser.new_context(base_url=chat_stack.base_url, viewport=DESKTOP)
    try:
        chat = context.new_page()
        log_in(chat, username)
        check_offline_behaviour(chat)
    finally:
        context.close()


def check_offline_behaviour(chat: Page) -> None:
    chat.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert chat.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    # Under the worker's control: the page's API calls, a reply, the JS catalog.
    chat.reload()
    expect(chat.get_by_test_id("model-select")).not_to_have_value("")
    reply = send(chat, "Is 3599 prime?", thinking=True)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    stylesheets = chat.evaluate(
        "[...document.styleSheets].map((sheet) => sheet.href && new URL(sheet.href).pathname)"
    )
    cached = chat.evaluate(CACHED_PATHS)
    [(name, paths)] = cached.items()  # one cache, the worker's
    assert name.startswith("ponder-offline-")
    base_css = next(path for path in stylesheets if path and "/css/base." in path)
    # Exactly the offline page and its two stylesheets: no API answer, no conversation page,
    # no /jsi18n/, though all of them went through the worker.
    assert len(paths) == 3 and {"/offline/", base_css} <= set(paths), paths
    [other] = set(paths) - {"/offline/", base_css}
    assert re.fullmatch(r"/static/css/offline\.[0-9a-f]+\.css", other), paths

    conversation = urlsplit(chat.url).path
    chat.context.set_offline(True)
    try:
        for path in (conversation, "/"):
            response = chat.goto(path)
            assert response is not None and response.ok
            expect(chat.get_by_test_id("offline")).to_be_visible()
            # Styled from the cache: the card has its border radius.
            radius = chat.get_by_test_id("offline").evaluate(
                "(el) => getComputedStyle(el).borderTopLeftRadius"
            )
            assert radius == "18px"
        assert chat.evaluate(CACHED_PATHS) == cached  # going offline stored nothing either
    finally:
        chat.context.set_offline(False)
    chat.goto(conversation)
    expect(chat.get_by_test_id("message")).to_have_count(2)
