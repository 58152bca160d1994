"""Math, diagrams and task lists in a real browser, under the app's CSP."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from simulator.directives import encode_text
from tests.live import ROOT

from .test_chat_page import STREAM_TIMEOUT, send

pytestmark = pytest.mark.e2e

# Set PONDER_SCREENSHOT_DIR=docs/screenshots to refresh the README's pictures.
SCREENSHOTS = Path(os.environ.get("PONDER_SCREENSHOT_DIR") or ROOT / "var" / "test-screenshots")

MATH_REASONING = """We need $\\int_0^1 x^2\\,dx$. By the power rule:

$$\\int_0^1 x^n\\,dx = \\frac{1}{n+1}$$

It costs $5 and $10, which is no formula."""

MATH_ANSWER = """The integral is $\\int_0^1 x^2\\,dx = \\frac{1}{3}$, and \\(e^{i\\pi} + 1 = 0\\).

$$
\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}
$$

and in brackets:

\\[ \\sqrt{a^2 + b^2} \\]

- [x] integrate
- [ ] check the bounds

A bat and a ball cost $1.10; the ball costs $0.05.

Still open: $$x^2"""

DIAGRAM_ANSWER = """Here is the flow:

```mermaid
graph TD
  A[Question] --> B{Think}
  B -->|reason| C[Answer]
```
"""


def test_math_renders_in_the_answer_and_the_reasoning(chat):
    ask = f"Math [[sim:reasoning={encode_text(MATH_REASONING)} answer={encode_text(MATH_ANSWER)}]]"
    reply = send(chat, ask, thinking=True)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    answer = reply.get_by_test_id("answer")
    expect(answer.locator(".math-inline .katex")).to_have_count(2)
    expect(answer.locator(".math-display .katex-display")).to_have_count(2)
    expect(answer.locator(".katex-error")).to_have_count(0)
    # Prose dollars and a formula still being written stay text.
    expect(answer).to_contain_text("cost $1.10; the ball costs $0.05.")
    expect(answer.locator("p").last).to_have_text("Still open: $$x^2")
    boxes = answer.locator("input.task-check")
    expect(boxes).to_have_count(2)
    expect(boxes.first).to_be_checked()
    expect(boxes.first).to_be_disabled()
    expect(boxes.last).not_to_be_checked()

    pane = reply.get_by_test_id("thinking")
    pane.locator("summary").click()
    thinking = pane.locator(".thinking-text")
    expect(thinking.locator(".math-inline .katex")).to_have_count(1)
    expect(thinking.locator(".math-display .katex-display")).to_have_count(1)
    expect(thinking).to_contain_text("It costs $5 and $10, which is no formula.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reply.screenshot(path=SCREENSHOTS / "math.png")


def test_a_mermaid_block_becomes_a_diagram_with_a_code_toggle(chat):
    reply = send(chat, f"Draw [[sim:answer={encode_text(DIAGRAM_ANSWER)}]]", thinking=False)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    diagram = reply.get_by_test_id("diagram")
    expect(diagram.locator("svg")).to_be_visible(timeout=15_000)
    expect(diagram.locator("svg")).to_contain_text("Question")
    code = reply.locator(".code-block pre")
    expect(code).to_be_hidden()
    toggle = reply.get_by_test_id("diagram-toggle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reply.screenshot(path=SCREENSHOTS / "diagram.png")
    toggle.click()
    expect(code).to_be_visible()
    expect(code).to_contain_text("graph TD")
    expect(diagram).to_be_hidden()
    toggle.click()
    expect(diagram).to_be_visible()


SHARED_ANSWER = """The area is $\\frac{1}{3}$:

$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$

```python
def area(n):
    return 1 / (n + 1)
```
"""

SHARED_REASONING = "Note $x^2 \\ge 0$ on the interval."


@pytest.fixture
def superuser(username, transactional_db) -> str:
    """Make the test's user a superuser, before the browser starts (no ORM after)."""
    from accounts.models import User

    User.objects.filter(username=username).update(is_staff=True, is_superuser=True)
    return username


def test_share_dialog_copies_and_the_page_and_transcript_typeset_math(superuser, chat):
    from django.urls import reverse

    errors: list[str] = []
    chat.context.on("page", lambda page: page.on("pageerror", lambda e: errors.append(str(e))))
    chat.context.grant_permissions(["clipboard-read", "clipboard-write"])
    reasoning = encode_text(SHARED_REASONING)
    ask = f"Share [[sim:reasoning={reasoning} answer={encode_text(SHARED_ANSWER)}]]"
    reply = send(chat, ask, thinking=True)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    label = reply.locator(".model-name").inner_text()
    model_id = chat.get_by_test_id("model-select").input_value()
    assert label and label != model_id

    chat.get_by_test_id("share").click()
    dialog = chat.get_by_role("dialog", name="Share this chat")
    dialog.get_by_test_id("share-include-reasoning").check()
    dialog.get_by_role("button", name="Create link").click()
    url = dialog.get_by_test_id("share-url")
    expect(url).to_have_value(re.compile(r"/s/[\w-]{20,}/$"))
    dialog.get_by_role("button", name="Copy link").click()
    expect(dialog.locator("[data-share-copy]")).to_have_text("Copied")
    assert chat.evaluate("navigator.clipboard.readText()") == url.input_value()
    listed = dialog.get_by_test_id("share-link-url")
    expect(listed).to_have_text(url.input_value())
    expect(dialog.get_by_role("listitem")).to_contain_text("0 views")
    dialog.get_by_test_id("share-link-copy").click()
    expect(dialog.get_by_test_id("share-link-copy")).to_have_text("Copied")
    conversation = re.search(r"/c/([0-9a-f-]{36})/", chat.url).group(1)

    shared = chat.context.new_page()
    shared.goto(url.input_value())
    expect(shared.get_by_test_id("model-label")).to_have_text(label)
    answer = shared.get_by_test_id("answer")
    expect(answer.locator(".math-inline .katex")).to_have_count(1)
    expect(answer.locator(".math-display .katex-display")).to_have_count(1)
    expect(answer.locator("code .hljs-keyword").first).to_have_text("def")
    expect(shared.get_by_test_id("thinking").locator(".katex")).to_have_count(1)

    shared.goto(reverse("admin:chat_conversation_change", args=[conversation]))
    content = shared.get_by_test_id("transcript-content").last
    expect(content.locator(".math-display .katex-display")).to_have_count(1)
    expect(shared.get_by_test_id("transcript-reasoning").locator(".katex")).to_have_count(1)
    assert errors == []
