"""People read the API's messages in their language; codes, ids and product names stay.

A catalog made for the test stands in for the translators' work (tests/catalog.py).
"""

from __future__ import annotations

import json

import pytest

from chat.models import Conversation, Message
from chat.upstream.catalog import QWEN3_OPEN_SOURCE, THINKING_REQUIRED
from chat.upstream.errors import UpstreamTimeout
from tests.catalog import install_catalog

JAPANESE = {
    UpstreamTimeout.summary: "Model Studio が応答しなくなりました。",
    "%(summary)s (%(detail)s)": "%(summary)s（%(detail)s）",
    QWEN3_OPEN_SOURCE: "Qwen3 オープンソース",
    THINKING_REQUIRED: "%(model)s は常に考えます。深い思考はオフにできません。",
    "field\x04The thinking budget": "思考予算",
    "%(field)s must be a whole number.": "%(field)sは整数で指定してください。",
    "No such conversation.": "その会話はありません。",
}


@pytest.fixture
def japanese(settings, tmp_path):
    install_catalog(settings, tmp_path, "ja", JAPANESE)


def failed_reply(owner) -> Conversation:
    conversation = Conversation.objects.create(owner=owner)
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, status="failed",
        error_code="timeout",
        error_message=UpstreamTimeout.build("timeout", "no data for 60 s").message,
    )  # fmt: skip
    return conversation


def test_a_stored_error_is_read_in_the_browsers_language(japanese, alice, alice_client):
    conversation = failed_reply(alice)
    path = f"/api/conversations/{conversation.id}/"
    reply = alice_client.get(path, HTTP_ACCEPT_LANGUAGE="ja").json()["messages"][1]
    assert reply["error"] == {
        "code": "timeout",
        "message": "Model Studio が応答しなくなりました。（no data for 60 s）",
    }
    english = alice_client.get(path, HTTP_ACCEPT_LANGUAGE="en").json()["messages"][1]
    assert english["error"]["message"] == "Model Studio stopped responding. (no data for 60 s)"
    assert Message.objects.get(id=reply["id"]).error_message.startswith("Model Studio stopped")


def test_the_users_own_pick_wins_over_the_browser(japanese, alice, alice_client):
    alice.language = "ja"
    alice.save(update_fields=["language"])
    conversation = failed_reply(alice)
    page = alice_client.get(f"/api/conversations/{conversation.id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.json()["messages"][1]["error"]["message"].startswith("Model Studio が")


def test_refusals_are_worded_in_the_language_with_their_values(japanese, alice, alice_client):
    conversation = Conversation.objects.create(owner=alice)

    def send(**body):
        return alice_client.post(
            f"/api/conversations/{conversation.id}/messages/",
            data=json.dumps({"content": "Hi", **body}),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="ja",
        ).json()["error"]

    assert send(model="qwq-plus", enable_thinking=False) == {
        "code": "thinking_required",
        "message": "QwQ-Plus は常に考えます。深い思考はオフにできません。",
        "field": "enable_thinking",
    }
    assert send(model="qwen-plus", thinking_budget="many")["message"] == (
        "思考予算は整数で指定してください。"
    )


def test_not_found_is_said_in_the_language(japanese, alice_client):
    missing = "/api/conversations/00000000-0000-0000-0000-000000000000/"
    assert alice_client.get(missing, HTTP_ACCEPT_LANGUAGE="ja").json()["error"] == {
        "code": "not_found",
        "message": "その会話はありません。",
        "field": None,
    }


def test_model_families_are_translated_and_ids_and_labels_are_not(japanese, alice_client):
    models = alice_client.get("/api/models/", HTTP_ACCEPT_LANGUAGE="ja").json()["models"]
    qwen3_32b = next(model for model in models if model["id"] == "qwen3-32b")
    assert (qwen3_32b["family"], qwen3_32b["label"]) == ("Qwen3 オープンソース", "Qwen3-32B")
    assert {model["family"] for model in models} >= {"Qwen3", "QwQ", "DeepSeek"}
