"""The seeds' verbatim SSE streams (DIGEST.md §3.1–§3.4) through both parsers."""

from __future__ import annotations

import pytest

from chat.upstream import ConnectionLost, Usage
from tests.unit.upstream.helpers import collect, fixture_body


@pytest.mark.asyncio
async def test_openai_seed_stream_gives_finish_and_usage() -> None:
    result = await collect(fixture_body("openai_stream_3_1.sse"), "openai")

    assert result.reasoning == ""  # the seed elides every text chunk
    assert result.content == ""
    assert result.usage == Usage(input_tokens=10, output_tokens=360, total_tokens=370)
    assert result.last.kind == "finish"
    assert result.last.finish_reason == "stop"
    assert result.last.request_id == "chatcmpl-e2edaf2c-8aaf-9e54-90e2-b21dd5045503"
    assert [e.kind for e in result.events] == ["usage", "finish"]


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk", [None, 1, 7])
async def test_dashscope_seed_stream_gives_texts_and_last_usage(chunk: int | None) -> None:
    result = await collect(fixture_body("dashscope_stream_3_2.sse"), "dashscope", chunk=chunk)

    assert result.reasoning == "Hmm,the user asks '"
    assert result.content == "help, feel free to let me know!"
    assert result.usage == Usage(input_tokens=11, output_tokens=367, total_tokens=378)
    assert result.last.kind == "finish"
    assert result.last.finish_reason == "stop"
    assert result.last.request_id == "25d58c29-c47b-9e8d-a0f1-d6c309ec58b1"


@pytest.mark.asyncio
async def test_dashscope_usage_is_emitted_only_when_it_changes() -> None:
    result = await collect(fixture_body("dashscope_stream_3_2.sse"), "dashscope")

    usages = [e.usage for e in result.events if e.kind == "usage"]
    # 11 events carry usage; the finish event repeats the previous one.
    assert len(usages) == 11
    assert [u.output_tokens for u in usages if u] == [3, 4, 5, 6, 7, 362, 363, 364, 365, 366, 367]


@pytest.mark.asyncio
async def test_dashscope_reasoning_comes_before_content() -> None:
    result = await collect(fixture_body("dashscope_stream_3_2.sse"), "dashscope")

    kinds = [e.kind for e in result.events if e.kind in ("reasoning", "content")]
    assert kinds == ["reasoning"] * 5 + ["content"] * 6


@pytest.mark.asyncio
async def test_dashscope_budget_seed_stream_reports_reasoning_tokens() -> None:
    result = await collect(fixture_body("dashscope_budget_stream_3_3.sse"), "dashscope")

    assert result.reasoning == "Okay,"
    assert result.content == "!"
    assert result.usage == Usage(
        input_tokens=11, output_tokens=138, reasoning_tokens=50, total_tokens=149
    )
    assert result.last.finish_reason == "stop"


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk", [None, 1])
async def test_dashscope_cjk_seed_event_is_exact_even_split_byte_by_byte(
    chunk: int | None,
) -> None:
    result = await collect(fixture_body("dashscope_cjk_stream_3_4.sse"), "dashscope", chunk=chunk)

    assert result.reasoning == "嗯"
    assert result.usage == Usage(input_tokens=11, output_tokens=3, total_tokens=14)
    # The seed shows only the first event: without a finish it is a lost connection.
    assert isinstance(result.error, ConnectionLost)
    assert result.error.retryable is False
