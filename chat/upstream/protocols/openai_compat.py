"""The OpenAI-compatible protocol: request body and SSE chunk parsing.

Wire format (DIGEST.md §2.2, §3.1): ``data: {json}`` events, reasoning in
``choices[0].delta.reasoning_content``, the answer in ``.content`` (either may
be null or ""), a chunk with ``finish_reason``, a usage-only chunk with
``choices: []``, then ``data: [DONE]``.
"""

from __future__ import annotations

from typing import Any

from chat.upstream.catalog import ModelInfo, get_model
from chat.upstream.errors import error_from_payload
from chat.upstream.events import StreamEvent, Usage
from chat.upstream.protocols.shared import (
    check_images,
    finish_reason,
    json_object,
    reported_usage,
    text_events,
    thinking_fields,
    with_echoed_reasoning,
)
from chat.upstream.request import ChatRequest, ChatTurn


def _message(turn: ChatTurn, model: ModelInfo | None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": turn.role}
    if (turn.images or turn.video_frames) and turn.role == "user":
        parts: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": url}} for url in turn.images
        ]
        if turn.video_frames:
            parts.append({"type": "video", "video": list(turn.video_frames)})
        parts.append({"type": "text", "text": turn.content})
        message["content"] = parts
    else:
        message["content"] = turn.content
    return with_echoed_reasoning(message, turn, model)


def build_body(request: ChatRequest) -> dict[str, Any]:
    """Return the JSON body for ``/compatible-mode/v1/chat/completions``."""
    model = get_model(request.model)
    check_images(request, model)
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_message(turn, model) for turn in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    body.update(thinking_fields(request, model))
    return body


def parse_usage(usage: dict[str, Any]) -> Usage:
    """Return our Usage for an OpenAI-style ``usage`` object."""
    completion_details = usage.get("completion_tokens_details") or {}
    prompt_details = usage.get("prompt_tokens_details") or {}
    return reported_usage(
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        reasoning=completion_details.get("reasoning_tokens"),
        cached=prompt_details.get("cached_tokens"),
        total=usage.get("total_tokens"),
    )


class OpenAIStreamParser:
    """Turn the ``data:`` payloads of one OpenAI-compatible stream into StreamEvents."""

    def __init__(self) -> None:
        self.request_id: str | None = None
        self.finish_reason: str | None = None
        self.done = False

    def feed(self, event: str, data: str) -> list[StreamEvent]:
        """Return the events in one SSE event; raise UpstreamError for an error chunk."""
        if data.strip() == "[DONE]":
            self.done = True
            return []
        chunk = json_object(data, self.request_id)
        if isinstance(chunk.get("id"), str):
            self.request_id = chunk["id"]
        if chunk.get("error") or event == "error":
            raise error_from_payload(chunk, request_id=self.request_id)
        events: list[StreamEvent] = []
        for choice in chunk.get("choices") or ():
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                events.extend(self._choice(choice))
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            events.append(
                StreamEvent("usage", usage=parse_usage(usage), request_id=self.request_id)
            )
        return events

    def _choice(self, choice: dict[str, Any]) -> list[StreamEvent]:
        delta = choice.get("delta") or {}
        self.finish_reason = finish_reason(choice.get("finish_reason")) or self.finish_reason
        return text_events(delta.get("reasoning_content"), delta.get("content"), self.request_id)
