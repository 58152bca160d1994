"""The official openai and dashscope SDKs parse the simulator's streams like our client does.

This is the proof that the simulator speaks the real wire formats: two independent
clients, written by the vendors, read the same reasoning, answer and usage.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

import dashscope
import openai
import pytest
from dashscope import Generation, MultiModalConversation

from chat.upstream import ChatRequest, ChatTurn, ContentRejected
from simulator import SimulatorThread
from tests.integration.upstream.helpers import API_KEY, directive, run

IMAGE = (
    "https://img.alicdn.com/imgextra/i1/O1CN01gDEY8M1W114Hi3XcN_!!6000000002727-0-tps-1024-406.jpg"
)


def prompt() -> str:
    return f"Who are you? {uuid.uuid4().hex[:8]}"


@pytest.fixture
def dashscope_at_sim(upstream_sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{upstream_sim.base_url}/api/v1")


def openai_sdk_stream(base_url: str, text: str, **extra: Any) -> tuple[str, str, Any]:
    client = openai.OpenAI(
        api_key=API_KEY, base_url=f"{base_url}/compatible-mode/v1", max_retries=0
    )
    reasoning, answer, usage = "", "", None
    try:
        stream = client.chat.completions.create(
            model="qwen-plus",
            messages=[{"role": "user", "content": text}],
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"enable_thinking": True, **extra},
        )
        for chunk in stream:
            if not chunk.choices:
                usage = chunk.usage
                continue
            delta = chunk.choices[0].delta
            if getattr(delta, "reasoning_content", None) is not None:
                reasoning += delta.reasoning_content
            if delta.content:
                answer += delta.content
    finally:
        client.close()
    return reasoning, answer, usage


@pytest.mark.asyncio
async def test_openai_sdk_reads_what_our_client_reads(upstream_sim: SimulatorThread) -> None:
    text = prompt()

    reasoning, answer, usage = openai_sdk_stream(upstream_sim.base_url, text)
    ours = await run(
        upstream_sim.base_url, "openai", ChatRequest("qwen-plus", (ChatTurn("user", text),), True)
    )

    assert reasoning and answer
    assert (reasoning, answer) == (ours.reasoning, ours.content)
    assert ours.usage is not None
    assert usage.prompt_tokens == ours.usage.input_tokens
    assert usage.completion_tokens == ours.usage.output_tokens
    assert usage.total_tokens == ours.usage.total_tokens
    assert usage.completion_tokens_details.reasoning_tokens == ours.usage.reasoning_tokens
    assert usage.prompt_tokens_details.cached_tokens == 0


def test_openai_sdk_honours_the_budget(upstream_sim: SimulatorThread) -> None:
    text = f"{prompt()} {directive(reasoning_tokens=90)}"

    _, _, usage = openai_sdk_stream(upstream_sim.base_url, text, thinking_budget=40)

    assert usage.completion_tokens_details.reasoning_tokens == 40


def test_openai_sdk_raises_on_an_in_stream_error(upstream_sim: SimulatorThread) -> None:
    text = f"{prompt()} {directive(fault='stream_error', after=3)}"

    with pytest.raises(openai.APIError, match="Output data may contain inappropriate content"):
        openai_sdk_stream(upstream_sim.base_url, text)


def test_openai_sdk_maps_a_429(upstream_sim: SimulatorThread) -> None:
    with pytest.raises(openai.RateLimitError):
        openai_sdk_stream(upstream_sim.base_url, f"{prompt()} {directive(fault=429)}")


def generation_call(text: str, **extra: Any) -> list[Any]:
    """Stream ``text`` from qwen-plus with the DashScope SDK, as the seeds' samples do."""
    return list(
        Generation.call(
            api_key=API_KEY,
            model="qwen-plus",
            messages=[{"role": "user", "content": text}],
            result_format="message",
            stream=True,
            incremental_output=True,
            **extra,
        )
    )


def dashscope_fold(responses: Any) -> tuple[str, str, dict[str, Any]]:
    """Fold SDK responses as the seeds' sample code does (DIGEST.md §3.6)."""
    reasoning, answer, usage = "", "", {}
    for response in responses:
        assert response.status_code == HTTPStatus.OK, (response.code, response.message)
        message = response.output.choices[0].message
        chunk_reasoning = message.get("reasoning_content", None)
        content = message.content
        if isinstance(content, list):
            content = "".join(part["text"] for part in content)
        if chunk_reasoning:
            reasoning += chunk_reasoning
        if content:
            answer += content
        usage = dict(response.usage)
    return reasoning, answer, usage


@pytest.mark.asyncio
async def test_dashscope_generation_reads_what_our_client_reads(
    upstream_sim: SimulatorThread, dashscope_at_sim: None
) -> None:
    text = prompt()

    reasoning, answer, usage = dashscope_fold(generation_call(text, enable_thinking=True))
    ours = await run(
        upstream_sim.base_url,
        "dashscope",
        ChatRequest("qwen-plus", (ChatTurn("user", text),), True),
    )

    assert reasoning and answer
    assert (reasoning, answer) == (ours.reasoning, ours.content)
    assert ours.usage is not None
    assert usage["input_tokens"] == ours.usage.input_tokens
    assert usage["output_tokens"] == ours.usage.output_tokens
    assert usage["total_tokens"] == ours.usage.total_tokens
    assert usage["output_tokens_details"]["reasoning_tokens"] == ours.usage.reasoning_tokens


@pytest.mark.asyncio
@pytest.mark.parametrize("model", ["qwen3-vl-plus", "qvq-max"])
async def test_dashscope_multimodal_reads_what_our_client_reads(
    upstream_sim: SimulatorThread, dashscope_at_sim: None, model: str
) -> None:
    text = f"この問題を解いてください {uuid.uuid4().hex[:8]}"
    extra = {"enable_thinking": True} if model == "qwen3-vl-plus" else {}

    responses = MultiModalConversation.call(
        api_key=API_KEY,
        model=model,
        messages=[{"role": "user", "content": [{"image": IMAGE}, {"text": text}]}],
        stream=True,
        incremental_output=True,
        **extra,
    )
    reasoning, answer, usage = dashscope_fold(responses)
    turn = ChatTurn("user", text, images=(IMAGE,))
    ours = await run(
        upstream_sim.base_url,
        "dashscope",
        ChatRequest(model, (turn,), extra.get("enable_thinking")),
    )

    assert reasoning and answer
    assert (reasoning, answer) == (ours.reasoning, ours.content)
    assert ours.usage is not None
    assert usage["output_tokens"] == ours.usage.output_tokens
    assert usage["input_tokens"] == ours.usage.input_tokens


def test_dashscope_sdk_reports_an_in_stream_error(
    upstream_sim: SimulatorThread, dashscope_at_sim: None
) -> None:
    responses = generation_call(f"{prompt()} {directive(fault='stream_error', after=3)}")

    last = responses[-1]
    assert [r.status_code for r in responses[:-1]] == [200] * 3
    assert last.status_code == 400
    assert last.code == "DataInspectionFailed"


@pytest.mark.asyncio
async def test_dashscope_sdk_and_our_client_read_the_same_error_body(
    upstream_sim: SimulatorThread, dashscope_at_sim: None
) -> None:
    text = f"{prompt()} {directive(fault='error_body')}"

    responses = generation_call(text)
    ours = await run(
        upstream_sim.base_url, "dashscope", ChatRequest("qwen-plus", (ChatTurn("user", text),))
    )

    assert responses[-1].status_code == 400
    assert isinstance(ours.error, ContentRejected)
    assert (responses[-1].code, ours.error.code) == ("DataInspectionFailed",) * 2
    assert responses[-1].message in ours.error.message
