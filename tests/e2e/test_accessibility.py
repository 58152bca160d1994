"""WCAG 2.1 A/AA on every kind of page, light and dark, in every language, with axe-core.

axe-core (package.json, pinned) is injected into each page as it stands after the
interaction that matters (reasoning pane open, share dialog open, charts drawn).
The contexts bypass the CSP only so that the injected script may run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.e2e.conftest import CHROMIUM_ARGS, DESKTOP
from tests.e2e.test_share_page import FRIENDLY_ANSWER, FRIENDLY_REASONING
from tests.factories import PASSWORD, make_user
from tests.live import ROOT

pytestmark = pytest.mark.e2e

AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = ["en", "ja", "zh-hans", "zh-hant"]
THEMES = ["light", "dark"]

_users = count(1)


@dataclass(frozen=True)
class Fixtures:
    username: str
    conversation_id: str
    share_token: str


@pytest.fixture
def fixtures(chat_stack, transactional_db) -> Fixtures:
    """An admin with a shared conversation whose reply reasoned, and spend to report.

    The replies are written with the ORM before the browser starts (Playwright's loop
    then owns this thread). One is unpriced, so the report lists it with links.
    """
    from chat.models import Conversation, Message
    from chat.sharing import services as sharing
    from tests.integration.reply_factories import make_reply

    user = make_user(f"a11y{next(_users)}", is_staff=True, is_superuser=True)
    conversation = Conversation.objects.create(owner=user, title="Is 3599 prime?")
    start = timezone.now() - timedelta(minutes=2)
    asked = Message.objects.create(
        conversation=conversation, role="user", created_at=start,
        content="Is 3,599 a prime number? Show your reasoning.",
    )  # fmt: skip
    Message.objects.create(
        conversation=conversation, role="assistant", reply_to=asked, content=FRIENDLY_ANSWER,
        reasoning=FRIENDLY_REASONING, model="qwen3-max", status=Message.Status.COMPLETE,
        created_at=start, first_token_at=start + timedelta(seconds=1),
        answer_started_at=start + timedelta(seconds=13.4), completed_at=start + timedelta(seconds=20),
        input_tokens=40, output_tokens=1800, reasoning_tokens=1532, total_tokens=1840,
    )  # fmt: skip
    make_reply(
        user, model="qwen-plus", created_at=start, input_tokens=1200, output_tokens=300,
        cost="0.000900",
    )  # fmt: skip
    token = sharing.create_share(user, conversation.id, include_reasoning=True).token
    return Fixtures(user.username, str(conversation.id), token)


@pytest.fixture
def browser(fixtures) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def new_context(browser: Browser, base_url: str, language: str) -> BrowserContext:
    return browser.new_context(
        base_url=base_url,
        viewport=DESKTOP,
        locale=language,
        extra_http_headers={"Accept-Language": language},
        bypass_csp=True,
    )


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the page as it is; return its WCAG 2.1 A/AA violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    return page.evaluate(
        """async (tags) => {
          const result = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
          }));
        }""",
        WCAG_21_AA,
    )


def describe(where: str, violations: list[dict]) -> list[str]:
    lines = []
    for violation in violations:
        lines.append(
            f"[{where}] {violation['id']} ({violation['impact']}, {len(violation['nodes'])} "
            f"nodes): {violation['help']}"
        )
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}: {summary}")
    return lines


def expect_ponder_theme(page: Page, theme: str) -> None:
    expect(page.locator("html")).to_have_attribute("data-theme", theme)


def log_in(page: Page, username: str) -> None:
    """Sign in by field names: the labels are in the page's language."""
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page.get_by_test_id("composer")).to_be_visible()


def visit_login(page: Page, theme: str) -> None:
    page.goto("/accounts/login/")
    expect_ponder_theme(page, theme)


def visit_empty_chat(page: Page, theme: str) -> None:
    page.goto("/")
    expect(page.get_by_test_id("model-select")).to_have_value(re.compile(r".+"))
    expect(page.locator("[data-empty-state]")).to_be_visible()
    expect_ponder_theme(page, theme)


def visit_conversation(page: Page, theme: str, fixtures: Fixtures) -> None:
    page.goto(f"/c/{fixtures.conversation_id}/")
    expect(page.get_by_test_id("model-select")).to_have_value(re.compile(r".+"))
    reply = page.locator("[data-testid=message][data-role=assistant]")
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator("pre code.hljs")).to_be_visible()  # highlighted: its colours count
    pane = reply.get_by_test_id("thinking")
    pane.locator("summary").click()
    expect(pane.locator(".thinking-text")).to_be_visible()
    expect_ponder_theme(page, theme)


def open_share_dialog(page: Page) -> None:
    page.get_by_test_id("share").click()
    dialog = page.locator("[data-share-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-share-list] li")).to_have_count(1)  # the live link, listed


def visit_share_page(page: Page, theme: str, fixtures: Fixtures) -> None:
    page.goto(f"/s/{fixtures.share_token}/")
    expect(page.get_by_test_id("answer").locator("table")).to_be_visible()
    expect(page.locator("pre code.hljs")).to_be_visible()
    expect_ponder_theme(page, theme)


def visit_spend_report(page: Page) -> None:
    page.goto("/admin/spend/")
    expect(page.get_by_test_id("spend-row").first).to_be_visible()
    expect(page.get_by_test_id("spend-unpriced").locator("a").first).to_be_visible()
    # Chart.js has drawn: the canvases have their size.
    expect(page.locator("#chart-tokens")).to_have_attribute("style", re.compile("width"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_meets_wcag_21_aa_in_both_themes(browser, chat_stack, fixtures, language):
    found: list[str] = []

    def check(page: Page, where: str) -> None:
        found.extend(describe(f"{language} {where}", axe_violations(page)))

    anonymous = new_context(browser, chat_stack.base_url, language)
    signed_in = new_context(browser, chat_stack.base_url, language)
    try:
        guest = anonymous.new_page()
        page = signed_in.new_page()
        log_in(page, fixtures.username)
        assert page.locator("html").get_attribute("lang") == language
        for theme in THEMES:
            # The theme choice is "system" (the default): it follows the emulated scheme,
            # and so do the Django admin's pages.
            for tab in (guest, page):
                tab.emulate_media(color_scheme=theme)
            visit_login(guest, theme)
            check(guest, f"{theme} login")
            visit_empty_chat(page, theme)
            check(page, f"{theme} empty chat")
            visit_conversation(page, theme, fixtures)
            check(page, f"{theme} conversation, reasoning open")
            open_share_dialog(page)
            check(page, f"{theme} share dialog")
            visit_share_page(page, theme, fixtures)
            check(page, f"{theme} share page")
            visit_spend_report(page)
            check(page, f"{theme} spend report")
    finally:
        anonymous.close()
        signed_in.close()
    assert not found, "axe found WCAG 2.1 AA violations:\n" + "\n".join(found)
