"""The DashScope native protocol: request body and SSE event parsing.

Wire format (DIGEST.md §2.3, §3.2–§3.6): header ``X-DashScope-SSE: enable``;
events ``id:N`` / ``event:result`` / ``:HTTP_STATUS/200`` / ``data:{json}``;
``finish_reason`` is the string ``"null"`` until the end; ``usage`` is cumulative
on every event. The multimodal endpoint returns ``message.content`` as a list
(``[]`` while reasoning, ``[{"text": ...}]`` for the answer) and may omit
``reasoning_content``. Errors arrive as ``event:error`` with ``code``/``message``.
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
from chat.upstream.request import (
    DASHSCOPE_MULTIMODAL_PATH,
    DASHSCOPE_TEXT_PATH,
    ChatRequest,
    ChatTurn,
)

SSE_HEADERS = {"X-DashScope-SSE": "enable"}


def path_for(model_id: str) -> str:
    """Return the DashScope endpoint path the model is served on."""
    model = get_model(model_id)
    if model is not None and model.endpoint == "multimodal":
        return DASHSCOPE_MULTIMODAL_PATH
    return DASHSCOPE_TEXT_PATH


def _message(turn: ChatTurn, model: ModelInfo | None, multimodal: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"role": turn.role}
    if multimodal:
        parts: list[dict[str, str | list[str]]] = []
        if turn.role == "user":
            parts.extend({"image": url} for url in turn.images)
            if turn.video_frames:
                parts.append({"video": list(turn.video_frames)})
        parts.append({"text": turn.content})
        message["content"] = parts
    else:
        message["content"] = turn.content
    return with_echoed_reasoning(message, turn, model)


def build_body(request: ChatRequest) -> dict[str, Any]:
    """Return the JSON body for the model's DashScope generation endpoint."""
    model = get_model(request.model)
    check_images(request, model)
    multimodal = path_for(request.model) == DASHSCOPE_MULTIMODAL_PATH
    parameters: dict[str, Any] = thinking_fields(request, model)
    parameters["incremental_output"] = True
    if not multimodal:
        # The multimodal endpoint's format is always "message"; its samples omit it [002].
        parameters["result_format"] = "message"
    return {
        "model": request.model,
        "input": {"messages": [_message(turn, model, multimodal) for turn in request.messages]},
        "parameters": parameters,
    }


def parse_usage(usage: dict[str, Any]) -> Usage:
    """Return our Usage for a DashScope ``usage`` object."""
    output_details = usage.get("output_tokens_details") or {}
    prompt_details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    return reported_usage(
        usage.get("input_tokens"),
        usage.get("output_tokens"),
        reasoning=output_details.get("reasoning_tokens"),
        cached=prompt_details.get("cached_tokens"),
        total=usage.get("total_tokens"),
    )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


class DashScopeStreamParser:
    """Turn the ``data:`` payloads of one DashScope stream into StreamEvents."""

    def __init__(self) -> None:
        self.request_id: str | None = None
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.done = False  # DashScope has no terminator: the body just ends

    def feed(self, event: str, data: str) -> list[StreamEvent]:
        """Return the events in one SSE event; raise UpstreamError for an error event."""
        chunk = json_object(data, self.request_id)
        if isinstance(chunk.get("request_id"), str):
            self.request_id = chunk["request_id"]
        if event == "error" or (chunk.get("code") and not chunk.get("output")):
            raise error_from_payload(chunk, request_id=self.request_id)
        events = self._output(chunk.get("output") or {})
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            parsed = parse_usage(usage)
            if parsed != self.usage:
                self.usage = parsed
                events.append(StreamEvent("usage", usage=parsed, request_id=self.request_id))
        return events

    def _output(self, output: dict[str, Any]) -> list[StreamEvent]:
        choices = output.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            message = choices[0].get("message") or {}
            reasoning = message.get("reasoning_content")
            content = _text(message.get("content"))
            reason = choices[0].get("finish_reason")
        else:  # result_format "text"
            reasoning, content = None, _text(output.get("text"))
            reason = output.get("finish_reason")
        self.finish_reason = finish_reason(reason) or self.finish_reason
        return text_events(reasoning, content, self.request_id)
