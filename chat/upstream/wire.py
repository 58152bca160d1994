"""Request-building rules shared by both protocols."""

from __future__ import annotations

from typing import Any

from chat.upstream.catalog import InvalidRequest, ModelInfo
from chat.upstream.request import ChatRequest


def check_images(request: ChatRequest, model: ModelInfo | None) -> None:
    """Raise InvalidRequest when images are sent to a model without vision."""
    has_images = any(turn.images for turn in request.messages)
    if has_images and model is not None and not model.vision:
        raise InvalidRequest(
            "vision_unsupported",
            f"{model.label} cannot read images; choose a vision model.",
            field="attachments",
        )


def thinking_fields(request: ChatRequest, model: ModelInfo | None) -> dict[str, Any]:
    """Return the ``enable_thinking`` / ``thinking_budget`` fields to send, in seed order."""
    fields: dict[str, Any] = {}
    enable = request.enable_thinking
    # Thinking-only models need no switch, and QVQ's samples never send one [002].
    if enable is not None and not (enable and model is not None and model.thinking == "always"):
        fields["enable_thinking"] = enable
    if request.thinking_budget is not None:
        fields["thinking_budget"] = request.thinking_budget
    return fields
