"""Keyboard, model picker, search snippets, and conversations that showed images."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from simulator.directives import encode_text
from tests.e2e.test_chat_page import (
    PLAIN_ANSWER,
    STREAM_TIMEOUT,
    conversation_id,
    send,
    stored_message,
)

pytestmark = pytest.mark.e2e


def test_the_composer_has_focus_and_question_mark_lists_the_shortcuts(chat):
    expect(chat.get_by_test_id("composer")).to_be_focused()
    chat.evaluate("document.activeElement.blur()")
    chat.keyboard.press("?")
    dialog = chat.get_by_test_id("shortcuts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Stop the reply being written")
    chat.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_escape_stops_a_streaming_reply(chat, api):
    answer = encode_text(PLAIN_ANSWER)
    reply = send(chat, f"Go slowly [[sim:rate=12 answer={answer}]]", thinking=False)
    expect(reply.get_by_test_id("answer")).to_contain_text("word003", timeout=STREAM_TIMEOUT)
    chat.keyboard.press("Escape")
    expect(reply).to_have_attribute("data-status", "cancelled", timeout=STREAM_TIMEOUT)
    stored = stored_message(api, reply.get_attribute("data-message-id"), conversation_id(chat))
    assert stored["status"] == "cancelled"


def test_the_picker_searches_folds_snapshots_and_keeps_favourites(chat):
    trigger = chat.locator("[data-model-trigger]")
    options = chat.get_by_test_id("model-option")
    trigger.click()
    search = chat.get_by_test_id("model-search")
    expect(search).to_be_focused()
    expect(options.filter(has_text="Qwen-Plus 2025-04-28")).to_have_count(0)  # folded

    search.fill("qwq")
    expect(options).to_have_count(4)
    for label in options.all_inner_texts():
        assert label.startswith("QwQ"), label
    expect(options.first).to_contain_text("Thinking")  # badges stay
    search.press("ArrowDown")
    search.press("Shift+Enter")  # favourite the second (QwQ-Plus Latest)
    search.press("Enter")
    expect(chat.get_by_test_id("model-select")).to_have_value("qwq-plus-latest")
    expect(trigger).to_have_text(re.compile("QwQ-Plus Latest"))
    expect(chat.locator("[data-model-popover]")).to_be_hidden()

    trigger.click()
    favourites = chat.get_by_role("group", name="Favourites")
    expect(favourites.get_by_test_id("model-option")).to_have_text(re.compile("QwQ-Plus Latest"))
    chat.keyboard.press("Escape")
    expect(trigger).to_be_focused()


def test_search_finds_words_across_markdown_and_shows_a_snippet(chat):
    reply = send(chat, "Plan a proof", thinking=False)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    chat.get_by_test_id("search").fill("Restate the problem")
    item = chat.get_by_test_id("conversation-item")
    expect(item).to_have_count(1)
    snippet = item.get_by_test_id("search-snippet")
    expect(snippet).to_contain_text("Restate the problem in your own words")
    expect(snippet.locator("mark").first).to_have_text("Restate")


def test_a_text_model_follows_up_on_an_image_and_retry_takes_the_picked_model(
    chat, api, simulator, tmp_path
):
    from PIL import Image

    picture = tmp_path / "red-square.png"
    Image.new("RGB", (64, 48), (220, 40, 40)).save(picture)
    select = chat.get_by_test_id("model-select")
    select.select_option("qwen3-vl-flash")
    chat.locator("[data-attach-input]").set_input_files(picture)
    expect(chat.locator(".attachment-chip:not(.is-uploading)")).to_have_count(1)
    first = send(chat, "What colour is this?", thinking=False)
    expect(first).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)

    notice = chat.get_by_test_id("vision-notice")
    expect(notice).to_be_hidden()
    select.select_option("qwen-plus")
    expect(notice).to_contain_text("Qwen-Plus can't see images")
    follow_up = send(chat, "And in French?", thinking=False)
    expect(follow_up).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    requests = httpx.get(f"{simulator}/_sim/requests").json()
    body = next(str(r["body"]) for r in reversed(requests) if "And in French" in str(r["body"]))
    assert "image_url" not in body and "data:image" not in body and "[image]" in body

    select.select_option("qwen-flash")  # regenerate takes the model the picker shows
    follow_up.get_by_role("button", name="Regenerate with Qwen-Flash").click()
    latest = chat.locator("[data-testid=message][data-role=assistant]").last
    expect(latest.get_by_label("Version 2 of 2")).to_be_visible()
    expect(latest).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    stored = stored_message(api, latest.get_attribute("data-message-id"), conversation_id(chat))
    assert stored["model"] == "qwen-flash"

    failed = send(chat, "Fail now [[sim:fault=error_body]]", thinking=False)
    expect(failed).to_have_attribute("data-status", "failed", timeout=STREAM_TIMEOUT)
    expect(failed.get_by_role("button", name="Retry", exact=True)).to_be_visible()
    expect(failed.locator(".message-meta")).not_to_have_text(re.compile(r"\d+\.\d s"))
