"""The simulator's pure parts: directives, pieces, scripts and byte formats."""

from __future__ import annotations

import json

from simulator.directives import (
    Directives,
    encode_text,
    parse_directives,
    strip_directives,
)
from simulator.formats import DashScopeFormat, OpenAIFormat, Tally
from simulator.script import build_script, pieces
from tests.unit.upstream.helpers import fixture_body


def test_directives_parse_and_merge() -> None:
    text = "Hi [[sim:fault=disconnect after=3]] there [[sim:rate=5 split_utf8=1]]"

    assert parse_directives(text) == Directives(
        fault="disconnect", after=3, rate=5.0, split_utf8=True
    )
    assert strip_directives(text) == "Hi  there"


def test_directives_ignore_unknown_keys_and_bad_values() -> None:
    assert parse_directives("[[sim:fault=explode after=x colour=red]]") == Directives()


def test_texts_travel_as_base64url() -> None:
    text = "# Title\n\n<script>alert(1)</script> 你好 👋🏽"

    assert parse_directives(f"[[sim:answer={encode_text(text)}]]").answer == text


def test_pieces_rebuild_the_text_exactly() -> None:
    text = "  Hello, world!\n\n```py\nx = 1\n```\n你好 👋🏽 end  "

    assert "".join(pieces(text)) == text
    assert "\n你" in pieces(text) and "好" in pieces(text)  # one CJK character per piece


def test_budget_cuts_reasoning_at_exactly_the_budget() -> None:
    script = build_script("Why?", Directives(reasoning_tokens=80), thinking=True, budget=50)

    assert len(script.reasoning) == 50


def test_no_reasoning_when_thinking_is_off() -> None:
    script = build_script("Why?", Directives(), thinking=False, budget=None)

    assert script.reasoning == ()
    assert script.answer


def test_default_answer_has_markdown_cjk_and_emoji() -> None:
    answer = build_script("Why?", Directives(), thinking=True, budget=None).answer_text

    assert "## " in answer and "```" in answer and "\n\n" in answer
    assert "先思考" in answer and "🚀" in answer


def test_scripts_are_deterministic_per_prompt() -> None:
    first = build_script("Tell me about tea", Directives(), thinking=True, budget=None)
    again = build_script("Tell me about tea", Directives(), thinking=True, budget=None)

    assert first == again


def test_sized_scripts_have_exactly_n_pieces() -> None:
    script = build_script(
        "x", Directives(reasoning_tokens=7, answer_tokens=300), thinking=True, budget=None
    )

    assert (len(script.reasoning), len(script.answer)) == (7, 300)


def _seed_lines(name: str) -> list[str]:
    return fixture_body(name).decode().split("\n")


def test_openai_chunks_have_the_seed_shape() -> None:
    fmt = OpenAIFormat("qwen-plus", include_usage=True)
    seed = [line for line in _seed_lines("openai_stream_3_1.sse") if line.startswith("data: {")]
    tally = Tally(10)

    ours = [fmt.opening().decode(), *fmt.closing(tally).decode().split("\n\n")]

    for mine, theirs in zip(ours, seed, strict=False):
        mine_json, seed_json = json.loads(mine.strip()[6:]), json.loads(theirs[6:])
        assert list(mine_json) == list(seed_json)
        assert json.dumps(mine_json["choices"]) == json.dumps(seed_json["choices"])
    assert fmt.closing(tally).endswith(b"data: [DONE]\n\n")


def test_dashscope_events_have_the_seed_framing() -> None:
    fmt = DashScopeFormat(multimodal=False, incremental=True)
    tally = Tally(11)
    tally.add("reasoning")

    event = fmt.piece("reasoning", "嗯", tally).decode()

    head, data = event.split("data:", 1)
    assert head == "id:1\nevent:result\n:HTTP_STATUS/200\n"
    assert event.endswith("}\n\n")
    assert '"reasoning_content":"嗯"' in data  # raw UTF-8, no \\u escapes
    payload = json.loads(data)
    seed = json.loads(_seed_lines("dashscope_cjk_stream_3_4.sse")[3][5:])
    assert list(payload) == list(seed)
    assert list(payload["output"]["choices"][0]["message"]) == list(
        seed["output"]["choices"][0]["message"]
    )
    assert payload["output"]["choices"][0]["finish_reason"] == "null"
