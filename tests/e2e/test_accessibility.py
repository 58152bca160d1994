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
from playwright.sync_api import Browser, BrowserContext, Page, expect

from simulator.directives import encode_text
from tests.e2e.conftest import DESKTOP, chromium
from tests.e2e.test_chat_page import (
    PLAIN_ANSWER,
    STREAM_TIMEOUT,
    conversation_id,
    send,
    stored_message,
)
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
def axe_browser(fixtures) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


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
def test_every_page_meets_wcag_21_aa_in_both_themes(axe_browser, chat_stack, fixtures, language):
    found: list[str] = []

    def check(page: Page, where: str) -> None:
        found.extend(describe(f"{language} {where}", axe_violations(page)))

    anonymous = new_context(axe_browser, chat_stack.base_url, language)
    signed_in = new_context(axe_browser, chat_stack.base_url, language)
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
            guest.goto("/offline/")  # what the service worker shows without a connection
            check(guest, f"{theme} offline page")
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


# --- the streaming states, spoken ------------------------------------------------------

RECORD_ANNOUNCEMENTS = """() => {
  window.__announced = [];
  window.__answerChanges = 0;
  const region = document.querySelector("[data-announcer]");
  new MutationObserver(() => {
    const text = region.textContent.trim();
    if (text) window.__announced.push(text);
  }).observe(region, { childList: true, characterData: true, subtree: true });
  new MutationObserver(() => { window.__answerChanges += 1; }).observe(
    document.querySelector("[data-transcript]"),
    { childList: true, characterData: true, subtree: true },
  );
}"""

# How a screen reader treats changes inside an element: the nearest live setting up the tree.
LIVE_SETTING = """(el) => {
  for (let node = el; node; node = node.parentElement) {
    const live = node.getAttribute("aria-live");
    if (live) return live;
    const role = node.getAttribute("role");
    if (role === "status" || role === "log") return "polite";
    if (role === "alert") return "assertive";
  }
  return "off";
}"""


def announced_after(page: Page, count_before: int) -> list[str]:
    page.wait_for_function("(before) => window.__announced.length > before", arg=count_before)
    page.wait_for_timeout(400)  # anything else that would follow
    return page.evaluate("window.__announced")[count_before:]


def test_the_live_region_speaks_each_replys_states_not_its_tokens(chat, api):
    chat.evaluate(RECORD_ANNOUNCEMENTS)
    reply = send(chat, "Is 3599 prime? [[sim:rate=60]]", thinking=True)
    expect(reply.get_by_test_id("answer")).not_to_be_empty(timeout=STREAM_TIMEOUT)
    assert reply.get_by_test_id("answer").evaluate(LIVE_SETTING) == "off"
    assert reply.locator(".thinking-text").evaluate(LIVE_SETTING) == "off"
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    assert announced_after(chat, 0) == ["Thinking…", "Answer complete"]
    assert chat.evaluate("window.__answerChanges") > 20  # many tokens, two announcements

    second = send(chat, "Say hello", thinking=False)
    expect(second).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    assert announced_after(chat, 2) == ["Answer complete"]

    slow = send(
        chat, f"Go slowly [[sim:rate=12 answer={encode_text(PLAIN_ANSWER)}]]", thinking=False
    )
    expect(slow.get_by_test_id("answer")).to_contain_text("word003", timeout=STREAM_TIMEOUT)
    chat.get_by_test_id("stop").click()
    expect(slow).to_have_attribute("data-status", "cancelled", timeout=STREAM_TIMEOUT)
    assert announced_after(chat, 3) == ["Stopped"]

    failed = send(chat, "Fail now [[sim:fault=error_body]]", thinking=False)
    expect(failed).to_have_attribute("data-status", "failed", timeout=STREAM_TIMEOUT)
    error = stored_message(api, failed.get_attribute("data-message-id"), conversation_id(chat))
    assert announced_after(chat, 4) == [f"Failed: {error['error']['message']}"]


def ax_disclosures(page: Page) -> list[dict]:
    """Chromium's accessibility tree: every disclosure control, its name and state."""
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()
    found = []
    for node in nodes:
        if node.get("ignored") or node.get("role", {}).get("value") != "DisclosureTriangle":
            continue
        states = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
        found.append(
            {
                "name": node.get("name", {}).get("value"),
                "expanded": states.get("expanded"),
                "focusable": states.get("focusable"),
            }
        )
    return found


def test_the_thinking_pane_is_a_disclosure_that_names_its_state_and_duration(chat):
    reply = send(chat, "Is 3599 prime?", thinking=True, budget="4000")
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    summary = reply.get_by_test_id("thinking").locator("summary")
    [closed] = ax_disclosures(chat)
    assert re.fullmatch(r"Thought for \d+\.\d s · [\d,]+ reasoning tokens of 4,000 budget",
                        closed["name"]), closed  # fmt: skip
    assert closed["expanded"] is False and closed["focusable"] is True

    summary.focus()
    chat.keyboard.press("Enter")
    expect(reply.locator(".thinking-text")).to_be_visible()
    assert ax_disclosures(chat)[0]["expanded"] is True
    chat.keyboard.press("Space")
    expect(reply.locator(".thinking-text")).to_be_hidden()
    assert ax_disclosures(chat)[0]["expanded"] is False


# --- where the keyboard is ---------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getBoundingClientRect();
  return {
    name: [el.tagName.toLowerCase(), el.dataset.testid, el.getAttribute("aria-label"),
           (el.textContent || "").trim().slice(0, 30)].filter(Boolean).join(" | "),
    box: { x: box.x, y: box.y, width: box.width, height: box.height },
  };
}"""


def test_sequential_focus_starts_at_the_skip_link(open_page):
    page = open_page()
    # Put the start of sequential navigation at the top, as a fresh load without script does.
    page.evaluate(
        "() => { document.body.tabIndex = -1; document.body.focus();"
        " document.body.removeAttribute('tabindex'); }"
    )
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0  # shown while focused
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("composer")).to_be_focused()


@pytest.mark.parametrize("theme", THEMES)
def test_every_tab_stop_shows_that_it_has_focus(open_page, theme):
    """Tab through the chat page with a finished reply: focus must change what each stop looks like."""
    page = open_page(color_scheme=theme, reduced_motion="reduce")
    reply = send(page, "Is 3599 prime?", thinking=True)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    page.mouse.move(0, 0)
    page.evaluate(
        "() => { document.body.tabIndex = -1; document.body.focus();"
        " document.body.removeAttribute('tabindex'); }"
    )
    seen: list[str] = []
    unmarked: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or (seen and focused["name"] == seen[0]):
            break
        seen.append(focused["name"])
        box = focused["box"]
        margin = 5  # the outline and its offset lie outside the element
        clip = {
            "x": max(box["x"] - margin, 0), "y": max(box["y"] - margin, 0),
            "width": box["width"] + 2 * margin, "height": box["height"] + 2 * margin,
        }  # fmt: skip
        with_focus = page.screenshot(clip=clip)
        page.evaluate("document.activeElement.blur()")
        if page.screenshot(clip=clip) == with_focus:
            unmarked.append(focused["name"])
    assert len(seen) > 15, seen  # went round the sidebar, the reply's actions and the composer
    assert unmarked == [], f"no visible focus on: {unmarked}"
