"""Each language end to end in Chromium: sign-in, chat, share page and the spend report.

A page is "in" a language when <html lang> names it, its own words are the catalog's
translations (looked up here with gettext, not copied), and no English word of ours is
left on screen or in a label. The user's pick beats the browser's, and follows the user
to another browser; dates and money are written the locale's way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Browser, BrowserContext, Page, expect

from chat.upstream.catalog import MODELS
from tests.e2e.conftest import DESKTOP, chromium
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e

# The language served → what a browser of that country sends.
BROWSERS = {"ja": "ja-JP", "zh-hans": "zh-CN", "zh-hant": "zh-TW"}
# Words that stay as they are in every language: names, ids, units, key caps.
UNTRANSLATED = {
    "Ponder", "English", "Token", "Tokens", "Qwen", "QwQ", "QVQ", "VL", "Max", "Plus", "Flash",
    "Turbo", "DeepSeek", "Kimi", "Ctrl", "Shift", "Enter", "Esc", "Tab", "Alt", "Cmd", "USD",
    "CNY", "UTC", "CSV", "PNG", "JPEG", "WEBP", "GIF", "Markdown", "JSON", "API", "Model",
    "Studio", "MB", "KB", "AM", "PM", "US", "PostgreSQL", "SQLite", "Python", "Web",
}  # fmt: skip
# Model ids and names never change.
UNTRANSLATED |= {
    word for model in MODELS for word in re.findall(r"[A-Za-z]{2,}", f"{model.id} {model.label}")
}
# Text that is data, not UI: people's words, the model's words, names and ids.
NOT_UI = [
    ".bubble", ".answer", "[data-testid=thinking] .thinking-body", ".conversation-item",
    ".username", ".model-name", "[data-testid=model-select]", "pre", "code", ".katex",
    "#language-select", ".share-title", ".share-message", "h1.share-heading",
    "[data-testid=share-link-url]",
]  # fmt: skip
DATE = {
    "ja": re.compile(r"\d{4}/\d{1,2}/\d{1,2}"),
    "zh-hans": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"),
    "zh-hant": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"),
}
MONEY = {"ja": "$0.0123", "zh-hans": "US$0.0123", "zh-hant": "US$0.0123"}

_users = count(1)


@dataclass(frozen=True)
class World:
    username: str
    conversation_id: str
    share_token: str


@pytest.fixture
def world(chat_stack, transactional_db) -> World:
    """A staff admin with a priced, reasoned reply in a shared conversation."""
    from chat.models import Conversation
    from chat.sharing import services as sharing
    from tests.integration.reply_factories import make_reply

    user = make_user(f"polyglot{next(_users)}", is_staff=True, is_superuser=True)
    conversation = Conversation.objects.create(owner=user, title="3599")
    make_reply(
        user, conversation=conversation, model="qwen3-max", content="59 × 61",
        reasoning="3600 − 1", created_at=timezone.now() - timedelta(minutes=2),
        input_tokens=40, output_tokens=1800, reasoning_tokens=1500, cost="0.012300",
    )  # fmt: skip
    token = sharing.create_share(user, conversation.id, include_reasoning=True).token
    return World(user.username, str(conversation.id), token)


@pytest.fixture
def browser(world) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def context_for(browser: Browser, base_url: str, accept_language: str) -> BrowserContext:
    return browser.new_context(
        base_url=base_url,
        viewport=DESKTOP,
        locale=accept_language,
        extra_http_headers={"Accept-Language": accept_language},
    )


def translated(language: str, msgid: str) -> str:
    with translation.override(language):
        return translation.gettext(msgid)


def sign_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_test_id("composer")).to_be_visible()
    # The model list arrives once the page's modules run (and bind the pickers).
    expect(page.get_by_test_id("model-select")).to_have_value(re.compile(r".+"))


def english_words(page: Page, root: str = "body", data: tuple[str, ...] = ()) -> list[str]:
    """Latin-letter words of ours on screen or in labels under `root`, outside data."""
    found: list[str] = page.evaluate(
        """([rootSelector, notUi]) => {
          const root = document.querySelector(rootSelector);
          const skip = (el) => notUi.some((selector) => el.closest(selector));
          // Ids and tokens (letters mixed with digits or "_", e.g. a share link's) are data.
          const wordsOf = (text) =>
            text.replace(/[\\w-]*[\\d_][\\w-]*/g, " ").match(/[A-Za-z]{2,}/g) ?? [];
          const words = [];
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.parentElement;
            if (!el || skip(el) || ["SCRIPT", "STYLE", "NOSCRIPT"].includes(el.tagName)) continue;
            if (el.closest("[hidden]") || !el.getClientRects().length) continue;
            words.push(...wordsOf(node.textContent));
          }
          for (const el of root.querySelectorAll("[aria-label],[title],[placeholder],[alt]")) {
            if (skip(el)) continue;
            for (const name of ["aria-label", "title", "placeholder", "alt"]) {
              words.push(...wordsOf(el.getAttribute(name) ?? ""));
            }
          }
          return words;
        }""",
        [root, [*NOT_UI, *data]],
    )
    return sorted({word for word in found if word not in UNTRANSLATED})


def expect_in(page: Page, language: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert english_words(page) == [], f"English left on {page.url} in {language}"


@pytest.mark.parametrize("language", list(BROWSERS))
def test_every_page_is_served_in_the_browsers_language(browser, chat_stack, world, language):
    context = context_for(browser, chat_stack.base_url, BROWSERS[language])
    page = context.new_page()

    page.goto("/accounts/login/")
    expect(page.locator("form button[type=submit]").first).to_have_text(
        translated(language, "Sign in")
    )
    expect_in(page, language)

    sign_in(page, world.username)
    expect(page.get_by_test_id("new-conversation")).to_contain_text(
        translated(language, "New chat")
    )
    expect_in(page, language)

    page.goto(f"/c/{world.conversation_id}/")
    meta = page.locator("[data-role=assistant] .message-meta")
    expect(meta).to_contain_text(MONEY[language])
    assert DATE[language].search(meta.get_attribute("title") or ""), meta.get_attribute("title")
    expect_in(page, language)

    page.get_by_test_id("share").click()
    expect(page.get_by_test_id("share-include-reasoning")).to_be_visible()
    expect_in(page, language)

    page.goto(f"/s/{world.share_token}/")
    expect_in(page, language)

    page.goto("/admin/spend/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#content-main")).to_contain_text(translated(language, "Download CSV"))
    # The report's own words; its table cells are usernames, model ids and numbers.
    assert english_words(page, "#content-main", data=("td", "th a")) == []
    context.close()


def test_the_users_pick_beats_the_browser_and_follows_the_user(browser, chat_stack, world):
    japanese = context_for(browser, chat_stack.base_url, "ja-JP").new_page()
    sign_in(japanese, world.username)
    expect(japanese.locator("html")).to_have_attribute("lang", "ja")

    japanese.get_by_test_id("language-select").select_option("zh-hant")
    expect(japanese.locator("html")).to_have_attribute("lang", "zh-hant")
    expect(japanese.get_by_test_id("new-conversation")).to_contain_text(
        translated("zh-hant", "New chat")
    )

    # Another browser, in English: the pick is the user's, not this browser's.
    english = context_for(browser, chat_stack.base_url, "en-US").new_page()
    sign_in(english, world.username)
    expect(english.locator("html")).to_have_attribute("lang", "zh-hant")
    expect(english.get_by_test_id("language-select")).to_have_value("zh-hant")

    # Back to following the browser: each browser gets its own language again.
    english.get_by_test_id("language-select").select_option("")
    expect(english.locator("html")).to_have_attribute("lang", "en")
    japanese.reload()
    expect(japanese.locator("html")).to_have_attribute("lang", "ja")
