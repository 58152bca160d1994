"""Request bodies equal the seeds' curl bodies (DIGEST.md §2.2–§2.4, §8.3)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chat.upstream import ChatRequest, ChatTurn, InvalidRequest, catalog
from chat.upstream.protocols import dashscope, openai_compat
from chat.upstream.request import (
    DASHSCOPE_MULTIMODAL_PATH,
    DASHSCOPE_TEXT_PATH,
    UpstreamConfig,
    normalize_base_url,
)
from tests.unit.upstream.helpers import seed_bodies

SEEDS = seed_bodies()
IMAGE = (
    "https://img.alicdn.com/imgextra/i1/O1CN01gDEY8M1W114Hi3XcN_!!6000000002727-0-tps-1024-406.jpg"
)
PROBLEM = "この問題を解いてください"


def seed(section: str, index: int = 0) -> dict[str, Any]:
    return SEEDS[section][index]["body"]


def ask(text: str, model: str = "qwen-plus", **kwargs: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatTurn("user", text),), **kwargs)


def test_openai_body_matches_seed_2_2() -> None:
    body = openai_compat.build_body(ask("Who are you", enable_thinking=True))

    assert body == seed("2.2")
    assert list(body) == list(seed("2.2"))  # same key order as the seed


def test_dashscope_body_matches_seed_2_3() -> None:
    body = dashscope.build_body(ask("Who are you?", enable_thinking=True))

    assert body == seed("2.3")
    assert "X-DashScope-SSE: enable" in SEEDS["2.3"][0]["headers"]
    assert dashscope.SSE_HEADERS == {"X-DashScope-SSE": "enable"}


def test_budget_bodies_match_seed_2_4() -> None:
    oa = openai_compat.build_body(ask("Who are you", enable_thinking=True, thinking_budget=50))
    ds = dashscope.build_body(ask("Who are you?", enable_thinking=True, thinking_budget=50))

    assert oa == seed("2.4", 0)
    assert ds == seed("2.4", 1)
    assert list(ds["parameters"]) == list(seed("2.4", 1)["parameters"])


def vision_ask(model: str, **kwargs: Any) -> ChatRequest:
    return ChatRequest(
        model=model, messages=(ChatTurn("user", PROBLEM, images=(IMAGE,)),), **kwargs
    )


def test_qvq_openai_body_matches_seed_8_3() -> None:
    # resolve_thinking says a thinking-only model thinks; the switch is not sent for it.
    thinking, budget = catalog.resolve_thinking(catalog.get_model("qvq-max"), None, None)
    body = openai_compat.build_body(vision_ask("qvq-max", enable_thinking=thinking))

    assert body == seed("8.3", 0)


def test_qvq_dashscope_body_is_seed_8_3_plus_incremental_output() -> None:
    body = dashscope.build_body(vision_ask("qvq-max", enable_thinking=True))

    assert body == {**seed("8.3", 1), "parameters": {"incremental_output": True}}
    assert dashscope.path_for("qvq-max") == DASHSCOPE_MULTIMODAL_PATH
    assert SEEDS["8.3"][1]["url"].endswith(DASHSCOPE_MULTIMODAL_PATH)


def test_qwen3_vl_bodies_match_seed_8_3() -> None:
    request = vision_ask("qwen3-vl-plus", enable_thinking=True, thinking_budget=81920)

    assert openai_compat.build_body(request) == seed("8.3", 2)
    assert dashscope.build_body(request) == seed("8.3", 3)


def test_qwen35_uses_the_multimodal_endpoint_with_list_content() -> None:
    image = SEEDS["8.3"][4]["body"]["input"]["messages"][0]["content"][0]["image"]
    request = ChatRequest(
        "qwen3.5-plus",
        (ChatTurn("user", "What products are shown in the image?", images=(image,)),),
    )
    body = dashscope.build_body(request)

    assert body["input"] == seed("8.3", 4)["input"]
    assert dashscope.path_for("qwen3.5-plus") == DASHSCOPE_MULTIMODAL_PATH
    assert dashscope.path_for("qwen-plus") == DASHSCOPE_TEXT_PATH


HISTORY = (
    ChatTurn("system", "Be brief."),
    ChatTurn("user", "What is 2+2?"),
    ChatTurn("assistant", "4", reasoning="Two plus two is four."),
    ChatTurn("user", "And 3+3? /no_think"),
)


def test_history_sends_earlier_answers_but_never_their_reasoning() -> None:
    request = ChatRequest("qwen-plus", HISTORY, enable_thinking=True)

    assert openai_compat.build_body(request)["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3? /no_think"},  # soft switch passes through
    ]
    assert dashscope.build_body(request)["input"]["messages"][2] == {
        "role": "assistant",
        "content": "4",
    }


def test_echo_reasoning_is_a_catalog_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    echoing = dataclasses.replace(catalog.get_model("qwen-plus"), echo_reasoning=True)
    monkeypatch.setitem(catalog._BY_ID, "qwen-plus", echoing)
    request = ChatRequest("qwen-plus", HISTORY)

    assert openai_compat.build_body(request)["messages"][2] == {
        "role": "assistant",
        "content": "4",
        "reasoning_content": "Two plus two is four.",
    }
    assert dashscope.build_body(request)["input"]["messages"][2]["reasoning_content"] == (
        "Two plus two is four."
    )


def test_multimodal_history_uses_text_lists_and_data_urls() -> None:
    data_url = "data:image/png;base64,iVBORw0KGgo="
    request = ChatRequest(
        "qwen3-vl-plus",
        (
            ChatTurn("user", "What is this?", images=(data_url,)),
            ChatTurn("assistant", "A cat."),
            ChatTurn("user", "Sure?"),
        ),
    )

    assert dashscope.build_body(request)["input"]["messages"] == [
        {"role": "user", "content": [{"image": data_url}, {"text": "What is this?"}]},
        {"role": "assistant", "content": [{"text": "A cat."}]},
        {"role": "user", "content": [{"text": "Sure?"}]},
    ]
    assert openai_compat.build_body(request)["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "text", "text": "What is this?"},
    ]


def test_enable_thinking_none_sends_no_field() -> None:
    assert "enable_thinking" not in openai_compat.build_body(ask("hi"))
    assert dashscope.build_body(ask("hi"))["parameters"] == {
        "incremental_output": True,
        "result_format": "message",
    }


def test_disabling_thinking_is_sent_as_false() -> None:
    assert openai_compat.build_body(ask("hi", enable_thinking=False))["enable_thinking"] is False


@pytest.mark.parametrize("build", [openai_compat.build_body, dashscope.build_body])
def test_images_for_a_text_model_are_refused(build: Any) -> None:
    request = ChatRequest("qwen-plus", (ChatTurn("user", "hi", images=(IMAGE,)),))

    with pytest.raises(InvalidRequest) as caught:
        build(request)

    assert caught.value.field == "attachments"


@pytest.mark.parametrize(
    "base_url",
    [
        "https://dashscope-intl.aliyuncs.com",
        "https://dashscope-intl.aliyuncs.com/",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        "https://dashscope-intl.aliyuncs.com/api/v1/",
    ],
)
def test_base_url_is_normalised_to_scheme_and_host(base_url: str) -> None:
    assert normalize_base_url(base_url) == "https://dashscope-intl.aliyuncs.com"


def test_config_repr_hides_the_api_key() -> None:
    config = UpstreamConfig("https://x", "sk-secret-value")

    assert "sk-secret-value" not in repr(config)


def test_config_refuses_an_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="protocol"):
        UpstreamConfig("https://x", "sk-1", protocol="DashScope")  # type: ignore[arg-type]
