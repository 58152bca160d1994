"""The public share page in a real browser: hostile model text renders inert.

Data is made with the ORM before the browser starts: Playwright's sync API keeps an
event loop in this thread, where Django refuses ORM calls.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, sync_playwright

from chat.models import Conversation, Message, ShareLink
from chat.sharing import services as sharing

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

HOSTILE_ANSWER = """Here you go.

<script>window.__pwned = "script";</script>

<img src=x onerror="window.__pwned = 'img'">

[click me](javascript:window.__pwned='link') and <a href="javascript:window.__pwned='a'">raw</a>

<svg onload="window.__pwned = 'svg'"></svg> <iframe src="javascript:alert(1)"></iframe>
"""

FRIENDLY_ANSWER = """**No.** 3599 is not prime: it is one less than a square.

> 3599 = 60² − 1² = (60 − 1)(60 + 1) = 59 × 61

| factor | prime? |
|-------:|--------|
| 59 | yes |
| 61 | yes |

A quick check in Python:

```python
n = 3599
print([d for d in range(2, int(n ** 0.5) + 1) if n % d == 0])  # [59]
```

So the answer is **59 × 61**; see [difference of squares](https://en.wikipedia.org/wiki/Difference_of_two_squares).
"""

FRIENDLY_REASONING = """The user asks whether 3599 is prime.
3599 is close to 3600 = 60². So 3599 = 60² − 1 = (60 − 1)(60 + 1) = 59 · 61.
Check: 59 · 61 = 3599. Both 59 and 61 are prime. So 3599 is not prime."""


@pytest.fixture(autouse=True)
def plain_static_files(settings) -> None:
    """Let the live server find stylesheets by their plain names.

    Its static handler looks files up with the finders, which do not know the hashed
    names the manifest storage puts in pages.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@contextmanager
def browser_page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1000})
            yield page
        finally:
            browser.close()


def make_shared_conversation(owner, title, question, answer, reasoning) -> str:
    """Make a one-turn conversation and share it with its reasoning; return the token."""
    conversation = Conversation.objects.create(owner=owner, title=title)
    start = timezone.now() - timedelta(minutes=1)
    asked = Message.objects.create(
        conversation=conversation, role="user", content=question, created_at=start
    )
    Message.objects.create(
        conversation=conversation, role="assistant", reply_to=asked, content=answer,
        reasoning=reasoning, model="qwen3-max", status=Message.Status.COMPLETE,
        created_at=start, first_token_at=start + timedelta(seconds=1),
        answer_started_at=start + timedelta(seconds=13.4), reasoning_tokens=1532,
    )  # fmt: skip
    return sharing.create_share(owner, conversation.id, include_reasoning=True).token


def test_hostile_model_text_renders_without_running_anything(alice, live_server):
    token = make_shared_conversation(
        alice, "<script>window.__pwned='title'</script>", "<img src=x onerror=alert(1)>",
        HOSTILE_ANSWER, "<script>window.__pwned = 'reasoning'</script>",
    )  # fmt: skip
    with browser_page() as page:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        response = page.goto(f"{live_server.url}/s/{token}/")
        assert response is not None and response.status == 200
        assert "default-src 'none'" in response.headers["content-security-policy"]

        answer = page.get_by_test_id("answer")
        assert "Here you go." in answer.inner_text()
        # The markup shows as text, not as elements.
        assert "<script>" in answer.inner_text()
        page.get_by_test_id("thinking").locator("summary").click()
        assert "<script>" in page.get_by_test_id("thinking").inner_text()
        page.get_by_text("raw").click()  # the raw <a> is text: clicking it does nothing

        dom = page.evaluate(
            """() => {
              const all = [...document.querySelectorAll("*")];
              return {
                pwned: window.__pwned ?? null,
                // Only the page's own scripts: static ones (KaTeX, highlight.js, typesetting,
                // the theme) and the translation catalog.
                scripts: [...document.scripts].filter(
                  (s) => !s.src || new URL(s.src).origin !== location.origin ||
                         !(new URL(s.src).pathname.startsWith("/static/") ||
                           new URL(s.src).pathname === "/jsi18n/")).length,
                tags: all.filter((el) => ["IMG", "SVG", "IFRAME", "svg"].includes(el.tagName))
                         .map((el) => el.tagName),
                handlers: all.flatMap((el) => [...el.attributes])
                             .filter((attr) => attr.name.startsWith("on")).map((attr) => attr.name),
                jsLinks: all.flatMap((el) => [...el.attributes])
                            .filter((attr) => /^\\s*javascript:/i.test(attr.value))
                            .map((attr) => attr.value),
              };
            }"""
        )
        assert dom == {"pwned": None, "scripts": 0, "tags": [], "handlers": [], "jsLinks": []}
        assert dialogs == []
        assert errors == []
        assert page.title().startswith("<script>")


def test_share_page_shows_markdown_and_a_closed_thinking_pane(alice, live_server, tmp_path):
    token = make_shared_conversation(
        alice, "Is 3599 prime?", "Is 3,599 a prime number? Show your reasoning.",
        FRIENDLY_ANSWER, FRIENDLY_REASONING,
    )  # fmt: skip
    with browser_page() as page:
        console_errors: list[str] = []
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server.url}/s/{token}/")
        pane = page.get_by_test_id("thinking")
        summary = pane.locator("summary")
        assert summary.inner_text() == "Thought for 12.4 s · 1,532 reasoning tokens"
        assert pane.get_attribute("open") is None
        assert not page.get_by_text("close to 3600").is_visible()
        summary.click()  # a native <details>: opens with no script
        assert page.get_by_text("close to 3600").is_visible()
        answer = page.get_by_test_id("answer")
        assert answer.locator("table td").first.inner_text() == "59"
        assert "range(2" in answer.locator("pre code").inner_text()
        link = answer.get_by_role("link", name="difference of squares")
        assert link.get_attribute("rel") == "nofollow noopener noreferrer"
        # The stylesheets load under the strict CSP: the user's bubble is styled.
        radius = page.get_by_test_id("message").first.evaluate(
            "(el) => getComputedStyle(el).borderTopLeftRadius"
        )
        assert radius == "14px"
        assert console_errors == []
        shot = tmp_path / "share-page.png"
        page.screenshot(path=str(shot), full_page=True)
    # Set PONDER_SCREENSHOT_DIR to keep the picture (docs/screenshots/ in the repository).
    if target := os.environ.get("PONDER_SCREENSHOT_DIR"):
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / shot.name)
    assert ShareLink.objects.get().view_count == 1
