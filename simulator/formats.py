"""Byte-exact chunks of both wire formats, with the seeds' key order (DIGEST.md §3)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

Channel = str  # "reasoning" | "answer"


def dumps(payload: Any) -> str:
    """Return compact JSON with raw UTF-8, as Model Studio sends it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class Tally:
    """Running token counts of one response."""

    __slots__ = ("input_tokens", "reasoning_tokens", "answer_tokens")

    def __init__(self, input_tokens: int) -> None:
        self.input_tokens = input_tokens
        self.reasoning_tokens = 0
        self.answer_tokens = 0

    def add(self, channel: Channel) -> None:
        if channel == "reasoning":
            self.reasoning_tokens += 1
        else:
            self.answer_tokens += 1

    @property
    def output_tokens(self) -> int:
        return self.reasoning_tokens + self.answer_tokens


class OpenAIFormat:
    """``data: {json}`` chunks of ``/compatible-mode/v1/chat/completions``."""

    content_type = "text/event-stream;charset=UTF-8"

    def __init__(self, model: str, *, include_usage: bool) -> None:
        self.model = model
        self.include_usage = include_usage
        self.id = f"chatcmpl-{uuid.uuid4()}"
        self.created = int(time.time())

    @property
    def request_id(self) -> str:
        return self.id

    def _chunk(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> bytes:
        payload = {
            "choices": choices,
            "object": "chat.completion.chunk",
            "usage": usage,
            "created": self.created,
            "system_fingerprint": None,
            "model": self.model,
            "id": self.id,
        }
        return f"data: {dumps(payload)}\n\n".encode()

    def opening(self) -> bytes:
        delta = {"content": None, "role": "assistant", "reasoning_content": ""}
        return self._chunk(
            [{"delta": delta, "index": 0, "logprobs": None, "finish_reason": None}], None
        )

    def piece(self, channel: Channel, text: str, tally: Tally) -> bytes:
        if channel == "reasoning":
            delta = {"content": None, "reasoning_content": text}
        else:
            delta = {"content": text, "reasoning_content": None}
        return self._chunk(
            [{"delta": delta, "index": 0, "logprobs": None, "finish_reason": None}], None
        )

    def closing(self, tally: Tally, finish_reason: str = "stop") -> bytes:
        delta = {"content": "", "reasoning_content": None}
        data = self._chunk(
            [{"finish_reason": finish_reason, "delta": delta, "index": 0, "logprobs": None}], None
        )
        if self.include_usage:
            data += self._chunk([], self.usage(tally))
        return data + b"data: [DONE]\n\n"

    def usage(self, tally: Tally) -> dict[str, Any]:
        return {
            "prompt_tokens": tally.input_tokens,
            "completion_tokens": tally.output_tokens,
            "total_tokens": tally.input_tokens + tally.output_tokens,
            "completion_tokens_details": {"reasoning_tokens": tally.reasoning_tokens},
            "prompt_tokens_details": {"cached_tokens": 0},
        }

    def malformed(self) -> bytes:
        return b'data: {"choices":[{"delta":{"content":"unterminated\n\n'

    def error(self, code: str, error_type: str, message: str) -> bytes:
        body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
        return f"data: {dumps(body)}\n\n".encode()

    def whole(self, reasoning: str, answer: str, tally: Tally) -> dict[str, Any]:
        message: dict[str, Any] = {"content": answer, "role": "assistant"}
        if reasoning:
            message["reasoning_content"] = reasoning
        return {
            "choices": [
                {"message": message, "finish_reason": "stop", "index": 0, "logprobs": None}
            ],
            "object": "chat.completion",
            "usage": self.usage(tally),
            "created": self.created,
            "system_fingerprint": None,
            "model": self.model,
            "id": self.id,
        }


class DashScopeFormat:
    """``id:/event:/:HTTP_STATUS/data:`` events of the native generation endpoints."""

    content_type = "text/event-stream;charset=UTF-8"

    def __init__(self, *, multimodal: bool, incremental: bool) -> None:
        self.multimodal = multimodal
        self.incremental = incremental
        self.request_id = str(uuid.uuid4())
        self._seq = 0
        self._reasoning = ""
        self._answer = ""

    def _event(self, message: dict[str, Any], finish_reason: str, tally: Tally) -> bytes:
        self._seq += 1
        payload = {
            "output": {"choices": [{"message": message, "finish_reason": finish_reason}]},
            "usage": self.usage(tally),
            "request_id": self.request_id,
        }
        return f"id:{self._seq}\nevent:result\n:HTTP_STATUS/200\ndata:{dumps(payload)}\n\n".encode()

    def _message(self, reasoning: str, answer: str) -> dict[str, Any]:
        if not self.multimodal:
            return {"content": answer, "reasoning_content": reasoning, "role": "assistant"}
        if answer:  # the multimodal answer events carry no reasoning_content at all
            return {"content": [{"text": answer}], "role": "assistant"}
        if reasoning:
            return {"content": [], "reasoning_content": reasoning, "role": "assistant"}
        return {"content": [], "role": "assistant"}

    def opening(self) -> bytes:
        return b""

    def piece(self, channel: Channel, text: str, tally: Tally) -> bytes:
        if channel == "reasoning":
            self._reasoning += text
            shown = text if self.incremental else self._reasoning
            return self._event(self._message(shown, ""), "null", tally)
        self._answer += text
        shown = text if self.incremental else self._answer
        return self._event(self._message("", shown), "null", tally)

    def closing(self, tally: Tally, finish_reason: str = "stop") -> bytes:
        if self.incremental:
            message = self._message("", "")
        else:
            message = self._message(self._reasoning, self._answer)
        return self._event(message, finish_reason, tally)

    def usage(self, tally: Tally) -> dict[str, Any]:
        return {
            "total_tokens": tally.input_tokens + tally.output_tokens,
            "output_tokens": tally.output_tokens,
            "input_tokens": tally.input_tokens,
            "output_tokens_details": {"reasoning_tokens": tally.reasoning_tokens},
            "prompt_tokens_details": {"cached_tokens": 0},
        }

    def malformed(self) -> bytes:
        self._seq += 1
        head = f"id:{self._seq}\nevent:result\n:HTTP_STATUS/200\n".encode()
        return head + b'data:{"output":{"choices":[{"message":{"content":"unterminated\n\n'

    def error(self, code: str, status: int, message: str) -> bytes:
        self._seq += 1
        body = dumps({"code": code, "message": message, "request_id": self.request_id})
        return f"id:{self._seq}\nevent:error\n:HTTP_STATUS/{status}\ndata:{body}\n\n".encode()

    def whole(self, reasoning: str, answer: str, tally: Tally) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant"}
        message["content"] = [{"text": answer}] if self.multimodal else answer
        if reasoning:
            message["reasoning_content"] = reasoning
        return {
            "output": {"choices": [{"finish_reason": "stop", "message": message}]},
            "usage": self.usage(tally),
            "request_id": self.request_id,
        }
