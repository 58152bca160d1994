"""Edit and branch, custom instructions and presets, in a real browser; what went upstream
is read from the simulator's request log."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_chat_page import STREAM_TIMEOUT, send

pytestmark = pytest.mark.e2e

QUICK = "[[sim:answer_tokens=6]]"


def upstream_bodies(simulator: str, marker: str) -> list[dict]:
    """The chat requests the simulator received whose body mentions ``marker``."""
    requests = httpx.get(f"{simulator}/_sim/requests").json()
    return [r["body"] for r in requests if marker in json.dumps(r["body"])]


def messages_of(body: dict) -> list[dict]:
    return body["messages"] if "messages" in body else body["input"]["messages"]


def user_bubbles(page: Page):
    return page.locator("[data-testid=message][data-role=user] .bubble")


def test_editing_a_turn_branches_and_the_switcher_brings_the_old_branch_back(chat, simulator):
    first = send(chat, f"Alpha question {QUICK}", thinking=False)
    expect(first).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    second = send(chat, f"Beta question {QUICK}", thinking=False)
    expect(second).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)

    turn = chat.locator("[data-testid=message][data-role=user]").first
    turn.hover()
    turn.get_by_test_id("edit-message").click()
    turn.get_by_role("textbox").fill(f"Omega question {QUICK}")
    turn.get_by_test_id("edit-save").click()

    expect(user_bubbles(chat)).to_have_text([f"Omega question {QUICK}"])
    reply = chat.locator("[data-testid=message][data-role=assistant]")
    expect(reply).to_have_count(1)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    (body,) = upstream_bodies(simulator, "Omega question")
    sent = json.dumps(messages_of(body))
    assert "Alpha question" not in sent and "Beta question" not in sent

    switcher = chat.get_by_test_id("user-versions")
    expect(switcher.locator(".version-label")).to_have_text("2 / 2")
    switcher.get_by_role("button", name="Previous version").click()
    expect(user_bubbles(chat)).to_have_text([f"Alpha question {QUICK}", f"Beta question {QUICK}"])
    expect(chat.get_by_test_id("user-versions").first.locator(".version-label")).to_have_text(
        "1 / 2"
    )


def test_a_system_prompt_goes_upstream_first(chat, simulator):
    reply = send(chat, f"Hello there {QUICK}", thinking=False)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    chat.get_by_test_id("conversation-settings").click()
    chat.get_by_test_id("system-prompt").fill("Always answer like a pirate.")
    chat.get_by_test_id("system-prompt-save").click()
    expect(chat.get_by_test_id("system-prompt")).to_be_hidden()
    reply = send(chat, f"Second turn zebra {QUICK}", thinking=False)
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    (body,) = upstream_bodies(simulator, "Second turn zebra")
    assert messages_of(body)[0] == {"role": "system", "content": "Always answer like a pirate."}


def test_a_preset_starts_a_new_chat_with_its_model_and_prompt(chat, simulator):
    chat.get_by_test_id("model-select").select_option("qwq-plus")
    chat.get_by_test_id("preset-new").click()
    chat.get_by_test_id("preset-name").fill("Riddler")
    chat.get_by_test_id("preset-system-prompt").fill("Speak only in riddles.")
    chat.get_by_test_id("preset-save").click()
    item = chat.get_by_test_id("preset-item")
    expect(item).to_have_text("Riddler")

    chat.get_by_test_id("model-select").select_option("qwen-plus")
    item.get_by_role("button", name="Riddler", exact=True).click()
    expect(chat).to_have_url(re.compile(r"/c/[0-9a-f-]{36}/$"))
    expect(chat.get_by_test_id("model-select")).to_have_value("qwq-plus")
    reply = send(chat, f"Who am I talking to, walrus? {QUICK}")
    expect(reply).to_have_attribute("data-status", "complete", timeout=STREAM_TIMEOUT)
    # The reply's request (the title's, by a fast model, mentions the question too).
    (body,) = [b for b in upstream_bodies(simulator, "walrus") if b["model"] == "qwq-plus"]
    assert messages_of(body)[0] == {"role": "system", "content": "Speak only in riddles."}
