"""Parser edge cases both protocols must survive, fed through httpx.MockTransport."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat.upstream import ConnectionLost, ContentRejected, ProtocolError, RateLimited, Usage
from chat.upstream.protocols.dashscope import DashScopeStreamParser
from chat.upstream.protocols.openai_compat import OpenAIStreamParser
from tests.unit.upstream.helpers import collect

CHUNK_ID = "chatcmpl-11111111-2222-3333-4444-555555555555"
REQUEST_ID = "25d58c29-c47b-9e8d-a0f1-d6c309ec58b1"


def oa(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> str:
    choices = [] if delta is None else [{"delta": delta, "index": 0, "finish_reason": finish}]
    chunk = {"choices": choices, "object": "chat.completion.chunk", "usage": None, "id": CHUNK_ID}
    chunk.update(extra)
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"


def ds(message: dict[str, Any], finish: str = "null", output_tokens: int = 1) -> str:
    usage = {"input_tokens": 5, "output_tokens": output_tokens, "total_tokens": 5 + output_tokens}
    payload = {
        "output": {"choices": [{"message": message, "finish_reason": finish}]},
        "usage": usage,
        "request_id": REQUEST_ID,
    }
    data = json.dumps(payload, ensure_ascii=False)
    return f"id:1\nevent:result\n:HTTP_STATUS/200\ndata:{data}\n\n"


OPENAI_FULL = (
    oa({"content": None, "role": "assistant", "reasoning_content": ""})
    + oa({"content": None, "reasoning_content": "Think"})
    + oa({"content": "", "reasoning_content": " hard"})
    + oa({"reasoning_content": None, "content": None})
    + oa({"content": "你好", "reasoning_content": None})
    + oa({"content": " 👋", "reasoning_content": None})
    + oa({"content": "", "reasoning_content": None}, finish="stop")
    + oa(
        None,
        usage={
            "prompt_tokens": 10,
            "completion_tokens": 6,
            "total_tokens": 16,
            "completion_tokens_details": {"reasoning_tokens": 2},
            "prompt_tokens_details": {"cached_tokens": 4},
        },
    )
    + "data: [DONE]\n\n"
)


@pytest.mark.asyncio
async def test_openai_stream_drops_empty_deltas_and_reads_usage_details() -> None:
    result = await collect(OPENAI_FULL.encode(), "openai")

    assert [(e.kind, e.text) for e in result.events if e.text] == [
        ("reasoning", "Think"),
        ("reasoning", " hard"),
        ("content", "你好"),
        ("content", " 👋"),
    ]
    assert result.usage == Usage(
        input_tokens=10, output_tokens=6, reasoning_tokens=2, cached_tokens=4, total_tokens=16
    )
    assert [e.kind for e in result.events[-2:]] == ["usage", "finish"]
    assert result.last.finish_reason == "stop"
    assert all(e.request_id == CHUNK_ID for e in result.events)


@pytest.mark.asyncio
async def test_openai_stream_split_into_single_bytes_is_exact() -> None:
    result = await collect(OPENAI_FULL.encode(), "openai", chunk=1)

    assert result.reasoning == "Think hard"
    assert result.content == "你好 👋"


@pytest.mark.asyncio
async def test_openai_finish_without_done_still_finishes() -> None:
    body = OPENAI_FULL.replace("data: [DONE]\n\n", "")
    result = await collect(body.encode(), "openai")

    assert result.last.kind == "finish"


@pytest.mark.asyncio
async def test_openai_error_chunk_ends_the_stream_keeping_text() -> None:
    error = {"error": {"code": "data_inspection_failed", "message": "Output data may contain."}}
    body = oa({"content": "partial", "reasoning_content": None}) + f"data: {json.dumps(error)}\n\n"
    result = await collect(body.encode(), "openai")

    assert result.content == "partial"
    assert isinstance(result.error, ContentRejected)
    assert result.error.code == "data_inspection_failed"
    assert result.error.retryable is False


@pytest.mark.asyncio
async def test_openai_malformed_chunk_is_a_protocol_error() -> None:
    body = oa({"content": "ok"}) + 'data: {"choices":[{"delta":\n\n'
    result = await collect(body.encode(), "openai")

    assert result.content == "ok"
    assert isinstance(result.error, ProtocolError)
    assert [e.kind for e in result.events] == ["content", "error"]


@pytest.mark.asyncio
async def test_stream_ending_without_finish_is_connection_lost() -> None:
    body = oa({"content": "half an answ"})
    result = await collect(body.encode(), "openai")

    assert result.content == "half an answ"
    assert isinstance(result.error, ConnectionLost)
    assert result.error.code == "stream_incomplete"
    assert result.error.retryable is False


@pytest.mark.asyncio
async def test_dashscope_multimodal_content_lists_and_missing_reasoning() -> None:
    body = (
        ds({"content": [], "reasoning_content": "看", "role": "assistant"})
        + ds({"content": [], "reasoning_content": None, "role": "assistant"})
        + ds({"content": [{"text": "A cat"}], "role": "assistant"}, output_tokens=2)
        + ds({"content": [{"text": " 🐱"}], "role": "assistant"}, output_tokens=3)
        + ds({"content": [], "role": "assistant"}, finish="stop", output_tokens=3)
    )
    result = await collect(body.encode(), "dashscope")

    assert result.reasoning == "看"
    assert result.content == "A cat 🐱"
    assert result.usage == Usage(input_tokens=5, output_tokens=3, total_tokens=8)
    assert result.last.kind == "finish"


@pytest.mark.asyncio
async def test_dashscope_error_event_mid_stream() -> None:
    error = {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded."}
    body = (
        ds({"content": "par", "reasoning_content": "", "role": "assistant"})
        + f"id:2\nevent:error\n:HTTP_STATUS/429\ndata:{json.dumps(error)}\n\n"
    )
    result = await collect(body.encode(), "dashscope")

    assert result.content == "par"
    assert isinstance(result.error, RateLimited)
    assert result.error.retryable is False  # text already arrived
    assert result.error.request_id == REQUEST_ID


def test_dashscope_parser_treats_finish_reason_null_string_as_running() -> None:
    parser = DashScopeStreamParser()
    event = ds({"content": "x", "reasoning_content": "", "role": "assistant"})
    data = event.split("data:", 1)[1].strip()

    parser.feed("result", data)

    assert parser.finish_reason is None


def test_openai_parser_ignores_choices_other_than_the_first() -> None:
    parser = OpenAIStreamParser()
    chunk = {"choices": [{"index": 1, "delta": {"content": "other"}}], "id": CHUNK_ID}

    assert parser.feed("", json.dumps(chunk)) == []
