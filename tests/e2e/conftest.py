"""The chat page in Debian's Chromium against a live stack (daphne + Celery + simulator).

Playwright's sync API runs an event loop in the test's thread, where Django refuses ORM
calls; so users are made before the browser starts, and what the server stored is read
back over the JSON API (`tests.live.Session`), never with the ORM.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.factories import PASSWORD, make_user
from tests.live import ROOT, LiveStack, Session, start_stack

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 812}

_usernames = count(1)


@pytest.fixture(scope="session")
def chat_stack(simulator, django_db_setup, django_db_blocker) -> Iterator[LiveStack]:
    """daphne and a worker as in production (DJANGO_DEBUG=0: whitenoise + manifest)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        check=True,
    )
    with django_db_blocker.unblock():
        stack = start_stack(simulator)
    yield stack
    stack.stop()


@pytest.fixture
def username(chat_stack, transactional_db) -> str:
    """A fresh staff user; transactional_db so the live processes see the row."""
    name = f"staff{next(_usernames)}"
    make_user(name)
    return name


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright (whose own browser download does not work here).

    Start it after the test's rows are written: Playwright's loop then owns the thread,
    where Django refuses ORM calls.
    """
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def browser(username) -> Iterator[Browser]:
    # Depends on `username`: the user exists before Playwright's loop starts, and the
    # browser is gone before transactional_db flushes the database.
    with chromium() as launched:
        yield launched


@dataclass
class PageWatch:
    """What a page did that it should not: script errors, console errors, dialogs."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))


@pytest.fixture
def open_page(browser, chat_stack, username) -> Iterator[Callable[..., Page]]:
    """Return a function opening a logged-in chat page; contexts close at teardown."""
    contexts: list[tuple[BrowserContext, PageWatch]] = []

    def open_(**context_options) -> Page:
        context_options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=chat_stack.base_url, **context_options)
        page = context.new_page()
        watch = PageWatch()
        watch.attach(page)
        contexts.append((context, watch))
        log_in(page, username)
        return page

    yield open_
    for context, watch in contexts:
        context.close()
        assert watch.errors == [], watch.errors
        assert watch.dialogs == [], watch.dialogs


@pytest.fixture
def chat(open_page) -> Page:
    """A logged-in chat page on a desktop screen, light theme."""
    return open_page()


@pytest.fixture
def api(chat_stack, username) -> Iterator[Session]:
    """The same user over the JSON API, to read back what the server stored."""
    session = Session(chat_stack.base_url, username)
    yield session
    session.close()


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("composer")).to_be_visible()
    # The model list arrives over the API; the composer can send once it is there.
    expect(page.get_by_test_id("model-select")).to_have_value(re.compile(r".+"))
