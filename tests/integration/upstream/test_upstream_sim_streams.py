"""Our client streams from the simulator over real HTTP, in both protocols."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from chat.upstream import ChatRequest, ChatTurn
from simulator import SimulatorThread
from simulator.script import pieces
from tests.integration.upstream.helpers import ask, directive, run

TRICKY = (
    "# Título\n\n<script>alert('x')</script>\n\n"
    '- 你好，世界！\n- こんにちは 🌏\n- emoji: 👩🏽‍💻 🚀\n\n```js\nconst s = "é";\n```\n'
)


def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.mark.asyncio
async def test_thinking_stream_has_reasoning_then_answer_and_exact_usage(
    upstream_sim: SimulatorThread, wire: str
) -> None:
    result = await run(
        upstream_sim.base_url, wire, ask(f"Why is the sky blue? {tag()}", enable_thinking=True)
    )

    kinds = [e.kind for e in result.events if e.kind in ("reasoning", "content")]
    assert kinds == sorted(kinds, key=lambda k: k != "reasoning")  # reasoning strictly first
    assert result.reasoning.startswith(("Okay", "Hmm", "Let me see"))
    assert "先思考" in result.content and "🚀" in result.content
    usage = result.usage
    assert usage is not None
    assert usage.reasoning_tokens == len(pieces(result.reasoning))
    assert usage.output_tokens == usage.reasoning_tokens + len(pieces(result.content))
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert result.last.kind == "finish" and result.last.finish_reason == "stop"
    assert result.last.request_id


@pytest.mark.asyncio
async def test_thinking_off_streams_no_reasoning(upstream_sim: SimulatorThread, wire: str) -> None:
    result = await run(upstream_sim.base_url, wire, ask(f"Hi {tag()}", enable_thinking=False))

    assert result.reasoning == ""
    assert result.content
    assert result.usage is not None and result.usage.reasoning_tokens == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("model", "thinks"), [("qwen-plus", False), ("qwen3-8b", True), ("qwq-plus", True)]
)
async def test_omitted_switch_follows_the_model_default(
    upstream_sim: SimulatorThread, wire: str, model: str, thinks: bool
) -> None:
    result = await run(upstream_sim.base_url, wire, ask(f"Hi {tag()}", model=model))

    assert bool(result.reasoning) is thinks


@pytest.mark.asyncio
async def test_budget_cuts_reasoning_at_exactly_the_budget(
    upstream_sim: SimulatorThread, wire: str
) -> None:
    text = f"Think long {tag()} {directive(reasoning_tokens=120, answer_tokens=5)}"
    result = await run(
        upstream_sim.base_url, wire, ask(text, enable_thinking=True, thinking_budget=50)
    )

    assert result.usage is not None and result.usage.reasoning_tokens == 50
    assert len(pieces(result.reasoning)) == 50
    assert len(pieces(result.content)) == 5


@pytest.mark.asyncio
@pytest.mark.parametrize("split", [0, 1])
async def test_exact_texts_survive_cjk_emoji_and_split_utf8(
    upstream_sim: SimulatorThread, wire: str, split: int
) -> None:
    reasoning = "思考中… 🤔 e\u0301"
    text = f"{tag()} {directive(reasoning=reasoning, answer=TRICKY, split_utf8=split)}"
    result = await run(upstream_sim.base_url, wire, ask(text, enable_thinking=True))

    assert result.reasoning == reasoning
    assert result.content == TRICKY
    assert result.last.kind == "finish"


@pytest.mark.asyncio
async def test_vision_models_take_data_url_images(upstream_sim: SimulatorThread, wire: str) -> None:
    image = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    req = ChatRequest(
        "qwen3-vl-plus",
        (
            ChatTurn(
                "user", f"What is this? {tag()} {directive(answer='一只猫 🐱')}", images=(image,)
            ),
        ),
        enable_thinking=True,
    )
    result = await run(upstream_sim.base_url, wire, req)

    assert result.reasoning
    assert result.content == "一只猫 🐱"
    assert result.usage is not None and result.usage.input_tokens > 256  # the image counts


@pytest.mark.asyncio
async def test_multi_turn_history_is_accepted(upstream_sim: SimulatorThread, wire: str) -> None:
    req = ChatRequest(
        "qwen-plus",
        (
            ChatTurn("system", "Be brief."),
            ChatTurn("user", "2+2?"),
            ChatTurn("assistant", "4", reasoning="never sent"),
            ChatTurn("user", f"3+3? /no_think {tag()} {directive(answer='6')}"),
        ),
    )
    result = await run(upstream_sim.base_url, wire, req)

    assert result.content == "6"


@pytest.mark.asyncio
async def test_many_concurrent_streams(upstream_sim: SimulatorThread, wire: str) -> None:
    marker = tag()

    async def one(index: int) -> str:
        text = f"{marker}-{index} {directive(answer=f'answer {index} ✓', reasoning_tokens=10)}"
        result = await run(upstream_sim.base_url, wire, ask(text, enable_thinking=True))
        assert result.last.kind == "finish"
        return result.content

    answers = await asyncio.gather(*(one(i) for i in range(60)))

    assert answers == [f"answer {i} ✓" for i in range(60)]
