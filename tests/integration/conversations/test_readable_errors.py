"""Validation messages name fields as people do; the error's ``field`` keeps the API name."""

from __future__ import annotations

import json

import pytest

from chat.models import Conversation


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        (0, "The thinking budget must be between 1 and 10,000,000."),
        ("many", "The thinking budget must be a whole number."),
    ],
)
def test_a_bad_budget_is_explained_without_internal_names(alice, alice_client, budget, message):
    conversation = Conversation.objects.create(owner=alice)
    response = alice_client.post(
        f"/api/conversations/{conversation.id}/messages/",
        data=json.dumps({"content": "Hi", "model": "qwen-plus", "thinking_budget": budget}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "out_of_range" if budget == 0 else "invalid_type",
        "message": message,
        "field": "thinking_budget",
    }
