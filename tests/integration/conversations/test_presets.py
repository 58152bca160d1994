"""Presets ("assistants"): CRUD, validation against the catalog and the user's policy,
and the conversation one starts."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group

from accounts.models import GroupPolicy
from chat.models import Preset

PRESET = {
    "name": "  French tutor ",
    "model": "qwen-plus",
    "enable_thinking": True,
    "thinking_budget": 500,
    "system_prompt": "Answer in French.",
}


def call(client, method, path, body=None):
    return getattr(client, method)(
        path, data=json.dumps(body or {}), content_type="application/json"
    )


def test_a_preset_is_created_listed_changed_and_deleted(alice_client):
    created = call(alice_client, "post", "/api/presets/", PRESET)
    assert created.status_code == 201
    preset = created.json()
    assert preset == {**PRESET, "name": "French tutor", "id": preset["id"]}
    assert alice_client.get("/api/presets/").json() == {"results": [preset]}
    changed = call(
        alice_client, "patch", f"/api/presets/{preset['id']}/",
        {**PRESET, "name": "Tutor", "enable_thinking": False, "thinking_budget": None},
    )  # fmt: skip
    assert changed.status_code == 200
    assert changed.json()["name"] == "Tutor" and changed.json()["thinking_budget"] is None
    assert call(alice_client, "delete", f"/api/presets/{preset['id']}/").status_code == 204
    assert alice_client.get("/api/presets/").json() == {"results": []}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"model": "no-such-model"}, "model"),
        ({"thinking_budget": 0}, "thinking_budget"),
        ({"system_prompt": "x" * 8001}, "system_prompt"),
    ],
)
def test_a_bad_preset_is_400_and_not_saved(alice_client, change, field):
    response = call(alice_client, "post", "/api/presets/", {**PRESET, **change})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert Preset.objects.count() == 0


def test_a_model_the_policy_does_not_allow_is_refused(alice, alice_client):
    group = Group.objects.create(name="interns")
    GroupPolicy.objects.create(group=group, allowed_models=["qwen-flash"])
    alice.groups.add(group)
    response = call(alice_client, "post", "/api/presets/", PRESET)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "model_not_allowed"
    assert Preset.objects.count() == 0


def test_other_users_preset_is_404(alice_client, bob_client):
    preset = call(alice_client, "post", "/api/presets/", PRESET).json()
    assert call(bob_client, "patch", f"/api/presets/{preset['id']}/", PRESET).status_code == 404
    assert call(bob_client, "delete", f"/api/presets/{preset['id']}/").status_code == 404
    started = call(bob_client, "post", "/api/conversations/", {"preset": preset["id"]})
    assert started.status_code == 404
    assert bob_client.get("/api/presets/").json() == {"results": []}


def test_a_preset_starts_a_conversation_with_its_settings(alice_client):
    preset = call(alice_client, "post", "/api/presets/", PRESET).json()
    started = call(alice_client, "post", "/api/conversations/", {"preset": preset["id"]})
    assert started.status_code == 201
    conversation = started.json()
    assert conversation["system_prompt"] == "Answer in French."
    assert conversation["settings"] == {
        "model": "qwen-plus", "enable_thinking": True, "thinking_budget": 500,
    }  # fmt: skip
