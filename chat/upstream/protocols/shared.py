"""What both protocols share: request-building rules, and reading a stream chunk into events."""

from __future__ import annotations

from typing import Any

from chat.upstream.catalog import VISION_UNSUPPORTED, InvalidRequest, ModelInfo
from chat.upstream.errors import ProtocolError
from chat.upstream.events import StreamEvent, Usage
from chat.upstream.request import ChatRequest, ChatTurn
from chat.upstream.transport import fastjson


def check_images(request: ChatRequest, model: ModelInfo | None) -> None:
    """Raise InvalidRequest when images are sent to a model without vision."""
    has_images = any(turn.images or turn.video_frames for turn in request.messages)
    if has_images and model is not None and not model.vision:
        raise InvalidRequest(
            "vision_unsupported",
            VISION_UNSUPPORTED,
            field="attachments",
            params={"model": model.label},
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


def with_echoed_reasoning(
    message: dict[str, Any], turn: ChatTurn, model: ModelInfo | None
) -> dict[str, Any]:
    """Return ``message``, with an assistant turn's reasoning if the model wants it back."""
    if turn.role == "assistant" and turn.reasoning and model is not None and model.echo_reasoning:
        message["reasoning_content"] = turn.reasoning
    return message


def _as_int(value: Any) -> int:
    """Return a JSON token count as an int (0 when missing or not a number)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def reported_usage(
    input_tokens: Any, output_tokens: Any, *, reasoning: Any, cached: Any, total: Any
) -> Usage:
    """Return the provider's token counts as Usage; a missing total is input + output."""
    inputs, outputs = _as_int(input_tokens), _as_int(output_tokens)
    return Usage(
        input_tokens=inputs,
        output_tokens=outputs,
        reasoning_tokens=_as_int(reasoning),
        cached_tokens=_as_int(cached),
        total_tokens=_as_int(total) or inputs + outputs,
    )


def json_object(data: str, request_id: str | None) -> dict[str, Any]:
    """Return one SSE payload as a JSON object; raise ProtocolError when it is not one."""
    try:
        chunk = fastjson.loads(data)
    except ValueError:
        raise ProtocolError.build(
            "malformed_chunk", "a stream event was not valid JSON", request_id=request_id
        ) from None
    if not isinstance(chunk, dict):
        raise ProtocolError.build("malformed_chunk", "a stream event was not a JSON object")
    return chunk


def text_events(reasoning: Any, content: Any, request_id: str | None) -> list[StreamEvent]:
    """Return a chunk's reasoning and answer text as events, leaving out what is empty."""
    events: list[StreamEvent] = []
    if isinstance(reasoning, str) and reasoning:
        events.append(StreamEvent("reasoning", text=reasoning, request_id=request_id))
    if isinstance(content, str) and content:
        events.append(StreamEvent("content", text=content, request_id=request_id))
    return events


def finish_reason(value: Any) -> str | None:
    """Return a choice's finish reason, or None while it runs (null, "" or "null")."""
    return value if isinstance(value, str) and value and value != "null" else None
