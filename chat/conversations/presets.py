"""Presets ("assistants"): a saved model, thinking settings and system prompt, and the
conversations they start."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from accounts.policy import policy_for
from chat.errors import BadRequest, NotFound
from chat.models import Conversation, Preset

from .services import check_reply_settings

MAX_NAME_CHARS = 80
MAX_SYSTEM_PROMPT_CHARS = 8000
MAX_PRESETS = 100


@dataclass(frozen=True, slots=True)
class PresetIn:
    name: str
    model: str
    enable_thinking: bool | None
    thinking_budget: int | None
    system_prompt: str


def preset_json(preset: Preset) -> dict[str, Any]:
    return {
        "id": str(preset.id),
        "name": preset.name,
        "model": preset.model,
        "enable_thinking": preset.enable_thinking,
        "thinking_budget": preset.thinking_budget,
        "system_prompt": preset.system_prompt,
    }


def access_preset(user: User, preset_id: uuid.UUID) -> Preset:
    """Return the user's preset, or raise NotFound."""
    try:
        return Preset.objects.get(id=preset_id, owner=user)
    except Preset.DoesNotExist:
        raise NotFound("preset") from None


def list_presets(user: User) -> list[Preset]:
    return list(Preset.objects.filter(owner=user))


def checked(user: User, values: PresetIn) -> PresetIn:
    """Validate a preset against the catalog and the user's policy, as a send would."""
    if not values.name.strip():
        raise BadRequest(gettext("The name cannot be empty."), code="required", field="name")
    reply = check_reply_settings(
        policy_for(user), values.model, values.enable_thinking, values.thinking_budget
    )
    return PresetIn(
        name=values.name.strip(),
        model=reply.model.id,
        enable_thinking=values.enable_thinking,
        thinking_budget=reply.thinking_budget if reply.enable_thinking else None,
        system_prompt=values.system_prompt.strip(),
    )


def create_preset(user: User, values: PresetIn) -> Preset:
    values = checked(user, values)
    if Preset.objects.filter(owner=user).count() >= MAX_PRESETS:
        message = gettext("You can keep at most %(limit)s presets.") % {"limit": MAX_PRESETS}
        raise BadRequest(message, code="too_many")
    return Preset.objects.create(owner=user, **asdict(values))


def update_preset(user: User, preset_id: uuid.UUID, values: PresetIn) -> Preset:
    preset = access_preset(user, preset_id)
    for name, value in asdict(checked(user, values)).items():
        setattr(preset, name, value)
    preset.save()
    return preset


def delete_preset(user: User, preset_id: uuid.UUID) -> None:
    access_preset(user, preset_id).delete()


def start_conversation(user: User, preset_id: uuid.UUID) -> Conversation:
    """Start a conversation with a preset's system prompt, its model chosen in the composer.

    The preset is checked again: the user's policy may have changed since it was saved.
    """
    preset = access_preset(user, preset_id)
    checked(user, PresetIn(**{f.name: getattr(preset, f.name) for f in fields(PresetIn)}))
    return Conversation.objects.create(
        owner=user,
        system_prompt=preset.system_prompt,
        model=preset.model,
        enable_thinking=preset.enable_thinking,
        thinking_budget=preset.thinking_budget,
        updated_at=timezone.now(),
    )
