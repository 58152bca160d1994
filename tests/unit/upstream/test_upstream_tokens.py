"""Rough token estimates for streams that report no usage."""

from __future__ import annotations

import pytest

from chat.upstream import Usage, estimate_tokens, estimate_usage


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("a", 1),
        ("abcd", 1),
        ("abcde", 2),
        ("你好", 2),
        ("こんにちは", 5),
        ("hello 世界", 4),  # 2 CJK + ceil(6 / 4)
    ],
)
def test_estimate_tokens(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_estimate_usage_marks_itself_estimated() -> None:
    usage = estimate_usage(["Who are you?"], "Let me think", "I am Qwen.")

    assert usage == Usage(
        input_tokens=3, output_tokens=6, reasoning_tokens=3, total_tokens=9, estimated=True
    )
