"""The chat page in Chromium while Redis restarts (with its data) mid-stream.

The page must end with the complete reply, its text equal to what the server stored,
without being reloaded. Playwright's sync API runs an event loop in this thread, where
Django refuses ORM calls: the user is made first, and the stored reply is read back over
the JSON API.
"""

from __future__ import annotations

import re
import signal
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect, sync_playwright

from simulator.directives import encode_text
from tests.e2e.conftest import log_in
from tests.factories import make_user
from tests.faults.harness import record_summary
from tests.live import Session

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
# Plain words render as one paragraph whose text is exactly the markdown source.
REASONING = " ".join(f"step{i:03d}" for i in range(1, 121))
ANSWER = " ".join(f"word{i:03d}" for i in range(1, 121))
SLOW = f"[[sim:rate=30 reasoning={encode_text(REASONING)} answer={encode_text(ANSWER)}]]"
FAULT = "browser: Redis restarted with its data mid-stream"
TERMINAL = ("complete", "cancelled", "failed", "interrupted")


def stored_reply(api: Session, page: Page, message_id: str) -> dict:
    match = re.search(r"/c/([0-9a-f-]{36})/", page.url)
    assert match, page.url
    conversation = api.get(f"/api/conversations/{match.group(1)}/").json()
    return next(m for m in conversation["messages"] if m["id"] == message_id)


def test_chat_page_ends_complete_after_a_redis_restart(faults):
    stack = faults.stack()
    username = "browserfault"
    make_user(username)  # before Playwright's loop starts in this thread
    api = Session(stack.base_url, username)
    faults.sessions.append(api)
    started, verdict = time.monotonic(), "no verdict (the test stopped early)"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            try:
                context = chromium.new_context(
                    base_url=stack.base_url, viewport={"width": 1280, "height": 860}
                )
                page = context.new_page()
                log_in(page, username)
                verdict = run_scenario(page, api, stack)
            except AssertionError as failure:
                verdict = "0/1 intact — " + str(failure).splitlines()[0][:300]
                raise
            finally:
                chromium.close()
    finally:
        record_summary(FAULT, faults.vendor, verdict, time.monotonic() - started)


def run_scenario(page: Page, api: Session, stack) -> str:
    page.get_by_test_id("thinking-toggle").set_checked(True, force=True)
    replies = page.locator("[data-testid=message][data-role=assistant]")
    composer = page.get_by_test_id("composer")
    composer.fill(f"Count slowly {SLOW}")
    composer.press("Enter")
    expect(replies).to_have_count(1)
    reply = replies.first
    message_id = reply.get_attribute("data-message-id")
    thinking = reply.get_by_test_id("thinking").locator(".thinking-text")
    expect(thinking).to_contain_text("step030", timeout=20_000)

    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    stack.redis.stop(signal.SIGTERM)
    time.sleep(3)
    stack.redis.start()

    # Wait up to 30 s for the page to show a final status; stop early once the database
    # has held its final status for 10 s (the page would have had it by then).
    deadline, stored_final_since = time.monotonic() + 30, None
    while reply.get_attribute("data-status") not in TERMINAL and time.monotonic() < deadline:
        if stored_reply(api, page, message_id)["status"] in TERMINAL:
            stored_final_since = stored_final_since or time.monotonic()
            if time.monotonic() - stored_final_since > 10:
                break
        page.wait_for_timeout(500)
    shown = reply.get_attribute("data-status")
    if shown != "complete":
        stored = stored_reply(api, page, message_id)
        raise AssertionError(
            f"message {message_id}: the page did not show it complete without a reload after "
            f"Redis came back: it shows data-status={shown!r}, "
            f"{len(thinking.text_content() or '')} reasoning chars and "
            f"{len(reply.get_by_test_id('answer').inner_text())} answer chars; the database "
            f"says {stored['status']!r} with {len(stored['reasoning'])} reasoning and "
            f"{len(stored['content'])} content chars"
        ) from None
    try:
        same_document = page.evaluate("window.__sameDocument === true")
    except PlaywrightError:
        same_document = False
    assert same_document, f"message {message_id}: the page reloaded to show the reply"
    stored = stored_reply(api, page, message_id)
    answer = reply.get_by_test_id("answer").inner_text()
    assert stored["status"] == "complete", stored
    assert answer == stored["content"].strip(), (
        f"message {message_id}: the page's answer ({len(answer)} chars) differs from the "
        f"stored content ({len(stored['content'])} chars)"
    )
    assert thinking.text_content() == stored["reasoning"], (
        f"message {message_id}: the page's thinking text differs from the stored reasoning"
    )
    return "1/1 intact"
