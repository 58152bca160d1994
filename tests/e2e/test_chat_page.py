"""The chat page in a real browser: streaming thinking, markdown answers, stop, reload."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Locator, Page, expect

from simulator.directives import encode_text

pytestmark = pytest.mark.e2e

STREAM_TIMEOUT = 30_000

# Plain words render as one paragraph whose text is exactly the markdown source, so
# what the page shows can be compared with what the server stored, character for character.
PLAIN_ANSWER = " ".join(f"word{i:03d}" for i in range(1, 161))
PLAIN_REASONING = " ".join(f"step{i:03d}" for i in range(1, 61))


def send(page: Page, text: str, *, thinking: bool | None = None, budget: str = "") -> Locator:
    """Type `text` with the given choices, press Enter; return the new reply's element."""
    replies = page.locator("[data-testid=message][data-role=assistant]")
    before = replies.count()
    toggle = page.get_by_test_id("thinking-toggle")
    if thinking is not None:
        toggle.set_checked(thinking, force=True)  # the styled switch covers the checkbox
    if budget:
        page.get_by_test_id("thinking-budget").fill(budget)
    composer = page.get_by_test_id("composer")
    composer.fill(text)
    composer.press("Enter")
    expect(replies).to_have_count(before + 1)
    return replies.last


def stored_message(api, message_id: str, conversation_id: str) -> dict:
    conversation = api.get(f"/api/conversations/{conversation_id}/").json()
    return next(m for m in conversation["messages"] if m["id"] == message_id)


def conversation_id(page: Page) -> str:
    match = re.search(r"/c/([0-9a-f-]{36})/", page.url)
    assert match, page.url
    return match.group(1)


def test_login_leads_to_an_empty_chat(chat):
    expect(chat).to_have_url(re.compile(r"/$"))
    expect(chat.get_by_role("heading", name="What are you pondering?")).to_be_visible()
    expect(chat.get_by_test_id("new-conversation")).to_be_visible()
    expect(chat.get_by_test_id("search")).to_be_visible()
    expect(chat.get_by_test_id("send")).to_be_disabled()
    expect(chat.get_by_test_id("stop")).to_be_hidden()
    expect(chat.get_by_test_id("simulator-banner")).to_have_count(0)  # a real key is set


def test_thinking_streams_open_then_closes_and_the_answer_renders_markdown(chat, api):
    reply = send(chat, "Is 3599 prime? [[sim:rate=40]]", thinking=True, budget="4000")
    pane = reply.get_by_test_id("thinking")
    summary = pane.locator("summary")
    expect(pane).to_have_attribute("open", "")
    expect(summary).to_have_text(re.compile(r"^Thinking… \d+ s$"))
    expect(chat.get_by_test_id("stop")).to_be_visible()
    expect(chat.get_by_test_id("send")).to_be_hidden()
    text = pane.locator(".thinking-text")
    first = len(text.text_content())
    expect(text).not_to_have_text(re.compile(rf"^.{{0,{first}}}$", re.S))  # it grows

    expect(reply.get_by_test_id("answer")).not_to_be_empty(timeout=STREAM_TIMEOUT)
    expect(pane).not_to_have_attribute("open", "")
    expect(summary).to_have_text(re.compile(r"^Thought for \d+\.\d s"))

    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    expect(summary).to_have_text(
        re.compile(r"^Thought for \d+\.\d s · [\d,]+ reasoning tokens of 4,000 budget$")
    )
    answer = reply.get_by_test_id("answer")
    expect(answer.locator("h2")).to_have_text("Summary")
    expect(answer.locator("ol > li strong").first).to_have_text("Restate")
    expect(answer.locator("pre code.hljs .hljs-keyword").first).to_have_text("def")
    expect(chat.get_by_test_id("send")).to_be_visible()

    stored = stored_message(api, reply.get_attribute("data-message-id"), conversation_id(chat))
    assert stored["status"] == "complete"
    assert stored["enable_thinking"] is True and stored["thinking_budget"] == 4000
    assert text.text_content() == stored["reasoning"]
    pane.locator("summary").click()  # the whole trace stays readable
    expect(pane.locator(".thinking-text")).to_be_visible()


def test_a_reply_without_thinking_has_no_pane(chat, api):
    reply = send(chat, "Say hello", thinking=False)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    expect(reply.get_by_test_id("answer")).not_to_be_empty()
    expect(reply.get_by_test_id("thinking")).to_have_count(0)
    stored = stored_message(api, reply.get_attribute("data-message-id"), conversation_id(chat))
    assert stored["enable_thinking"] is False and stored["reasoning"] == ""


def test_stop_mid_stream_keeps_the_partial_answer(chat, api):
    answer = encode_text(PLAIN_ANSWER)
    reply = send(chat, f"Go slowly [[sim:rate=12 answer={answer}]]", thinking=False)
    expect(reply.get_by_test_id("answer")).to_contain_text("word005", timeout=STREAM_TIMEOUT)
    chat.get_by_test_id("stop").click()

    expect(reply).to_have_attribute("data-status", "cancelled", timeout=STREAM_TIMEOUT)
    expect(reply.get_by_text("Stopped", exact=True)).to_be_visible()
    expect(chat.get_by_test_id("send")).to_be_visible()
    expect(chat.get_by_test_id("stop")).to_be_hidden()
    stored = stored_message(api, reply.get_attribute("data-message-id"), conversation_id(chat))
    assert stored["status"] == "cancelled"
    assert PLAIN_ANSWER.startswith(stored["content"]) and "word005" in stored["content"]
    assert len(stored["content"]) < len(PLAIN_ANSWER)
    assert reply.get_by_test_id("answer").inner_text() == stored["content"].strip()


def test_reload_mid_stream_resumes_without_loss_or_duplicates(chat, api):
    directives = (
        f"rate=25 reasoning={encode_text(PLAIN_REASONING)} answer={encode_text(PLAIN_ANSWER)}"
    )
    reply = send(chat, f"Count for me [[sim:{directives}]]", thinking=True)
    message_id = reply.get_attribute("data-message-id")
    expect(reply.get_by_test_id("thinking")).to_contain_text("step010", timeout=STREAM_TIMEOUT)

    chat.reload()  # while it reasons
    reply = chat.locator(f"[data-message-id='{message_id}']")
    pane = reply.get_by_test_id("thinking")
    expect(pane).to_have_attribute("open", "")
    expect(reply.get_by_test_id("answer")).to_contain_text("word010", timeout=STREAM_TIMEOUT)

    chat.reload()  # while it answers
    reply = chat.locator(f"[data-message-id='{message_id}']")
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    stored = stored_message(api, message_id, conversation_id(chat))
    assert stored["reasoning"] == PLAIN_REASONING
    assert stored["content"] == PLAIN_ANSWER
    assert reply.get_by_test_id("thinking").locator(".thinking-text").text_content() == (
        PLAIN_REASONING
    )
    assert reply.get_by_test_id("answer").inner_text() == PLAIN_ANSWER
    expect(reply.get_by_test_id("thinking").locator("summary")).to_have_text(
        re.compile(r"^Thought for \d+\.\d s · [\d,]+ reasoning tokens$")
    )


def test_a_dropped_websocket_reconnects_and_resumes_from_its_last_seq(chat, api):
    sockets, line = [], {"down": False}

    def relay(ws):  # pass frames through; while the line is down, refuse to connect
        if line["down"]:
            ws.close()
            return
        sockets.append((ws, ws.connect_to_server()))

    chat.route_web_socket(re.compile(r"/ws/conversations/"), relay)
    directives = (
        f"rate=40 reasoning={encode_text(PLAIN_REASONING)} answer={encode_text(PLAIN_ANSWER)}"
    )
    reply = send(chat, f"Keep going [[sim:{directives}]]", thinking=True)
    message_id = reply.get_attribute("data-message-id")
    expect(reply.get_by_test_id("thinking")).to_contain_text("step020", timeout=STREAM_TIMEOUT)
    line["down"] = True
    page_side, server_side = sockets[-1]
    server_side.close()
    page_side.close()
    # The reply ends while the page is cut off: no live event is left to reveal a gap,
    # so only the resume sent on reconnecting can bring the rest.
    deadline = time.monotonic() + 30
    while stored_message(api, message_id, conversation_id(chat))["status"] != "complete":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    line["down"] = False

    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    assert len(sockets) >= 2
    stored = stored_message(api, message_id, conversation_id(chat))
    assert stored["content"] == PLAIN_ANSWER
    pane_text = reply.get_by_test_id("thinking").locator(".thinking-text").text_content()
    assert pane_text == stored["reasoning"] == PLAIN_REASONING
    assert reply.get_by_test_id("answer").inner_text() == PLAIN_ANSWER


def test_a_snapshot_replaces_the_reply_and_the_stream_goes_on_from_its_seq(chat, api):
    # The server sends a snapshot when it cannot replay; here the route plays that part:
    # it holds back a run of events, then sends what they add up to as one snapshot.
    line = {"hold": False, "held": 0, "seq": 0, "reasoning": "", "content": "", "resumes": []}
    pages = []

    def relay(page_side):
        server_side = page_side.connect_to_server()
        pages.append(page_side)

        def from_page(message):
            event = json.loads(message)
            if event.get("type") == "resume":
                line["resumes"].append(event)
            server_side.send(message)

        def from_server(message):
            event = json.loads(message)
            if event.get("type") in ("delta", "status"):
                line["message_id"], line["seq"] = event["message_id"], event["seq"]
            if event.get("type") == "delta":
                line["reasoning"] += event.get("reasoning") or ""
                line["content"] += event.get("content") or ""
            if line["hold"]:
                line["held"] += 1
            else:
                page_side.send(message)

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    chat.route_web_socket(re.compile(r"/ws/conversations/"), relay)
    directives = (
        f"rate=25 reasoning={encode_text(PLAIN_REASONING)} answer={encode_text(PLAIN_ANSWER)}"
    )
    reply = send(chat, f"Sum it up [[sim:{directives}]]", thinking=True)
    expect(reply.get_by_test_id("thinking")).to_contain_text("step010", timeout=STREAM_TIMEOUT)
    line["hold"] = True
    deadline = time.monotonic() + 30
    while "word010" not in line["content"]:
        assert time.monotonic() < deadline
        chat.wait_for_timeout(100)
    assert line["held"] > 20
    line["resumes"].clear()
    snapshot = {
        "type": "snapshot",
        "message_id": line["message_id"],
        "seq": line["seq"],
        "reasoning": line["reasoning"],
        "content": line["content"],
        "status": "streaming",
    }
    pages[-1].send(json.dumps(snapshot))
    line["hold"] = False

    expect(reply.get_by_test_id("answer")).to_contain_text("word010")
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    assert line["resumes"] == []  # the events after the snapshot's seq left no gap
    stored = stored_message(api, line["message_id"], conversation_id(chat))
    assert stored["reasoning"] == PLAIN_REASONING and stored["content"] == PLAIN_ANSWER
    pane_text = reply.get_by_test_id("thinking").locator(".thinking-text").text_content()
    assert pane_text == PLAIN_REASONING  # replaced, not appended to
    assert reply.get_by_test_id("answer").inner_text() == PLAIN_ANSWER


HOSTILE_ANSWER = """Try these:

<script>window.__pwned = "script"</script>

<img src=x onerror="window.__pwned = 'img'">

[click me](javascript:window.__pwned='link') and <a href="javascript:window.__pwned='a'">raw</a>

<javascript:window.__pwned='autolink'> ![pic](javascript:window.__pwned='image')

[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) [fine](https://example.com)

```html
<svg onload="window.__pwned = 'svg'"></svg>
```
"""


def test_a_hostile_answer_executes_nothing(chat):
    directives = (
        f"answer={encode_text(HOSTILE_ANSWER)} "
        f"reasoning={encode_text('<img src=x onerror=window.__pwned=1>')}"
    )
    reply = send(chat, f"Be evil [[sim:{directives}]]", thinking=True)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    answer = reply.get_by_test_id("answer")
    expect(answer).to_contain_text('<script>window.__pwned = "script"</script>')
    expect(answer).to_contain_text("onerror=")
    safe = answer.get_by_role("link", name="fine")
    expect(safe).to_have_attribute("href", "https://example.com")
    expect(safe).to_have_attribute("rel", "noopener noreferrer")
    dom = chat.evaluate(
        """() => {
          const model = [...document.querySelectorAll("[data-testid=answer], .thinking-text")];
          const inside = model.flatMap((root) => [...root.querySelectorAll("*")]);
          const attrs = (els) => els.flatMap((el) => [...el.attributes]);
          return {
            pwned: window.__pwned ?? null,
            elements: [...new Set(inside.map((el) => el.tagName.toLowerCase()))]
              .filter((tag) => !["p", "a", "code", "pre", "span", "div", "button", "svg", "path",
                                  "rect"].includes(tag)),
            svgOutsideButtons: inside.filter((el) => el.tagName.toLowerCase() === "svg"
                                                     && !el.closest("button")).length,
            handlers: attrs([...document.querySelectorAll("*")])
              .filter((a) => a.name.startsWith("on")).map((a) => a.name),
            badUrls: attrs(inside).filter((a) => /^\\s*(javascript|vbscript|data):/i.test(a.value))
              .map((a) => `${a.name}=${a.value}`),
          };
        }"""
    )
    assert dom == {
        "pwned": None, "elements": [], "svgOutsideButtons": 0, "handlers": [], "badUrls": []
    }  # fmt: skip


def test_the_page_fits_a_phone_and_the_sidebar_slides_in(open_page):
    page = open_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    sidebar = page.locator("#sidebar")
    menu = page.get_by_role("button", name="Show the conversation list")
    expect(menu).to_be_visible()
    expect(sidebar).not_to_be_in_viewport()
    composer = page.get_by_test_id("composer")
    expect(composer).to_be_in_viewport()
    box = composer.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375

    reply = send(page, "Hello from a phone", thinking=True)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    scroller = page.locator("[data-scroller]")
    assert scroller.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    bubble = page.locator("[data-role=user] .bubble").last
    for element in (reply, bubble, composer, page.get_by_test_id("send")):
        box = element.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sidebar).to_be_in_viewport()
    expect(page.get_by_test_id("conversation-item")).to_have_count(1)
    expect(page.get_by_test_id("search")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(sidebar).not_to_be_in_viewport()


def luminance(page: Page, selector: str, prop: str) -> float:
    rgb = page.locator(selector).first.evaluate(
        f"(el) => getComputedStyle(el).{prop}.match(/[\\d.]+/g).slice(0, 3).map(Number)"
    )
    return sum(rgb) / (3 * 255)


def test_dark_mode_follows_the_system_setting(open_page):
    light = open_page(color_scheme="light")
    dark = open_page(color_scheme="dark")
    assert luminance(light, "body", "backgroundColor") > 0.9
    assert luminance(dark, "body", "backgroundColor") < 0.15
    assert luminance(dark, "body", "color") > 0.8
    assert luminance(dark, ".composer-box", "backgroundColor") < 0.2
    reply = send(dark, "Think in the dark", thinking=True)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    assert luminance(dark, "[data-testid=thinking]", "backgroundColor") < 0.2
    assert luminance(dark, "[data-testid=answer]", "color") > 0.8


def test_a_failed_reply_shows_its_error_and_retry_adds_a_version(chat, api):
    reply = send(chat, "Try once [[sim:fault=error_body times=1]]", thinking=False)
    expect(reply).to_have_attribute("data-status", "failed", timeout=STREAM_TIMEOUT)
    notice = reply.locator(".notice-failed")  # not an alert: the announcer says it
    expect(notice).to_be_visible()
    failed_id = reply.get_attribute("data-message-id")
    stored = stored_message(api, failed_id, conversation_id(chat))
    expect(notice).to_contain_text(stored["error"]["message"])

    notice.get_by_role("button", name="Retry").click()
    replies = chat.locator("[data-testid=message][data-role=assistant]")
    expect(replies).to_have_count(1)  # the new version replaces the old one on screen
    retry = replies.first
    expect(retry).not_to_have_attribute("data-message-id", failed_id)
    expect(retry).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    expect(retry.get_by_label("Version 2 of 2")).to_be_visible()

    retry.get_by_role("button", name="Previous version").click()
    expect(replies.first).to_have_attribute("data-message-id", failed_id)
    expect(replies.first.get_by_label("Version 1 of 2")).to_be_visible()
    expect(replies.first.get_by_role("button", name="Previous version")).to_be_disabled()
    chat.wait_for_load_state("networkidle")
    assert stored_message(api, failed_id, conversation_id(chat))["is_active_version"] is True

    chat.reload()  # the chosen version sticks
    expect(chat.locator("[data-testid=message][data-role=assistant]")).to_have_attribute(
        "data-message-id", failed_id
    )


def test_model_choices_follow_the_model_and_stick_per_conversation(chat):
    select = chat.get_by_test_id("model-select")
    toggle = chat.get_by_test_id("thinking-toggle")
    budget = chat.get_by_test_id("thinking-budget")
    select.select_option("qwq-plus")  # thinking only, no budget
    expect(toggle).to_be_checked()
    expect(toggle).to_be_disabled()
    expect(budget).to_be_hidden()
    expect(chat.locator("[data-model-kind]")).to_have_text("Thinking only")
    select.select_option("qwen3-vl-plus")  # hybrid with vision
    expect(chat.locator("[data-model-kind]")).to_have_text("Hybrid thinkingVision")
    expect(toggle).to_be_enabled()

    select.select_option("qwen3-max")
    reply = send(chat, "Remember my choices", thinking=True, budget="2000")
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    first_url = chat.url

    chat.get_by_test_id("new-conversation").click()
    expect(chat).to_have_url(re.compile(r"/$"))
    select.select_option("qwq-plus")
    chat.get_by_test_id("conversation-item").first.click()
    expect(chat).to_have_url(first_url)
    expect(select).to_have_value("qwen3-max")
    expect(toggle).to_be_checked()
    expect(budget).to_have_value("2000")
    chat.reload()
    expect(select).to_have_value("qwen3-max")
    expect(budget).to_have_value("2000")


def test_the_sidebar_searches_renames_deletes_and_exports(chat):
    for text in ("Plan a trip to Kyoto", "Explain monads simply"):
        chat.get_by_test_id("new-conversation").click()
        reply = send(chat, text, thinking=True)
        expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    items = chat.get_by_test_id("conversation-item")
    expect(items).to_have_text(["Explain monads simply", "Plan a trip to Kyoto"])

    with chat.expect_download() as download:
        chat.get_by_role("button", name="Export this conversation").click()
        chat.get_by_role("menuitem", name="Export as Markdown").click()
    markdown = download.value.path().read_text()
    assert markdown.startswith("# Explain monads simply\n")
    assert "## You\n\nExplain monads simply" in markdown
    assert "<details>\n<summary>Thinking</summary>" in markdown

    chat.get_by_test_id("search").fill("kyoto")
    expect(items.locator("a")).to_have_text(["Plan a trip to Kyoto"])  # + a snippet below
    chat.get_by_test_id("search").fill("")
    expect(items).to_have_count(2)

    items.first.hover()
    items.first.get_by_role("button", name="Rename “Explain monads simply”").click()
    title = chat.get_by_role("textbox", name="New title")
    title.fill("Monads, gently")
    title.press("Enter")
    expect(items.first).to_have_text("Monads, gently")
    expect(chat.locator("[data-conversation-title]")).to_have_text("Monads, gently")

    items.first.get_by_role("button", name="Delete “Monads, gently”").click()
    chat.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(items).to_have_text(["Plan a trip to Kyoto"])
    expect(chat).to_have_url(re.compile(r"/$"))
    chat.reload()
    expect(items).to_have_text(["Plan a trip to Kyoto"])


def test_the_share_dialog_makes_a_link_and_revokes_it(chat, browser):
    reasoning = "A private chain of thought"
    reply = send(chat, f"Share me [[sim:reasoning={encode_text(reasoning)}]]", thinking=True)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    chat.get_by_test_id("share").click()
    dialog = chat.get_by_role("dialog", name="Share this chat")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("share-include-reasoning").check()
    dialog.get_by_role("button", name="Create link").click()
    url_box = dialog.get_by_test_id("share-url")
    expect(url_box).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/s/[\w-]{20,}/$"))
    url = url_box.input_value()
    expect(dialog.get_by_role("listitem")).to_contain_text("with reasoning")

    stranger = browser.new_context()  # no session: anyone with the link
    try:
        shared = stranger.new_page()
        assert shared.goto(url).status == 200
        expect(shared.get_by_test_id("thinking")).to_contain_text(reasoning)

        dialog.get_by_role("button", name=re.compile(r"^Revoke link")).click()
        expect(dialog.get_by_role("listitem")).to_have_count(0)
        assert shared.goto(url).status == 404
    finally:
        stranger.close()


def test_an_image_goes_to_a_vision_model_and_shows_in_the_transcript(chat, api, tmp_path):
    from PIL import Image

    picture = tmp_path / "red-square.png"
    Image.new("RGB", (64, 48), (220, 40, 40)).save(picture)
    attach = chat.locator("[data-attach]")
    chat.get_by_test_id("model-select").select_option("qwen-plus")
    expect(attach).to_be_disabled()
    expect(attach).to_have_attribute("aria-label", re.compile("can't read images"))

    chat.get_by_test_id("model-select").select_option("qvq-max")
    expect(attach).to_be_enabled()
    chat.locator("[data-attach-input]").set_input_files(picture)
    expect(chat.locator(".attachment-chip:not(.is-uploading)")).to_have_count(1)
    reply = send(chat, "What colour is this?")
    expect(reply.get_by_test_id("thinking")).to_be_visible(timeout=STREAM_TIMEOUT)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    expect(chat.locator(".attachment-chip")).to_have_count(0)

    shown = chat.locator("[data-role=user] .attachments img")
    expect(shown).to_have_count(1)
    assert shown.evaluate("(img) => img.complete && img.naturalWidth") == 64
    stored = api.get(f"/api/conversations/{conversation_id(chat)}/").json()["messages"][0]
    assert [a["width"] for a in stored["attachments"]] == [64]


def test_the_page_follows_the_stream_until_the_reader_scrolls_up(chat):
    paragraphs = "\n\n".join(f"Paragraph {i:02d}. " + "lorem ipsum " * 6 for i in range(1, 33))
    reply = send(
        chat, f"Long one [[sim:rate=110 answer={encode_text(paragraphs)}]]", thinking=False
    )
    answer = reply.get_by_test_id("answer")
    scroller = chat.locator("[data-scroller]")
    distance_to_bottom = "(el) => el.scrollHeight - el.scrollTop - el.clientHeight"
    expect(answer).to_contain_text("Paragraph 12", timeout=STREAM_TIMEOUT)
    assert scroller.evaluate(distance_to_bottom) < 50  # following

    box = scroller.bounding_box()
    chat.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    chat.mouse.wheel(0, -300)
    chat.wait_for_timeout(300)
    top = scroller.evaluate("(el) => el.scrollTop")
    expect(answer).to_contain_text("Paragraph 25", timeout=STREAM_TIMEOUT)
    assert abs(scroller.evaluate("(el) => el.scrollTop") - top) <= 2  # left where it was
    jump = chat.get_by_role("button", name="Scroll to the latest message")
    expect(jump).to_be_visible()

    jump.click()
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    chat.wait_for_timeout(300)
    assert scroller.evaluate(distance_to_bottom) < 50  # following again
    expect(jump).to_be_hidden()
