"""Rough token estimates for when the upstream reports no usage."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from chat.upstream.events import Usage

# Han, kana, Hangul, CJK punctuation and full-width forms: about one token each.
_CJK_RE = re.compile(
    "[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
)


def estimate_tokens(text: str) -> int:
    """Return a rough token count: one per CJK character, one per 4 other characters."""
    if not text:
        return 0
    cjk = len(_CJK_RE.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


def estimate_usage(prompt_texts: Iterable[str], reasoning: str, content: str) -> Usage:
    """Return an estimated Usage for a request whose upstream reported none."""
    input_tokens = sum(estimate_tokens(text) for text in prompt_texts)
    reasoning_tokens = estimate_tokens(reasoning)
    output_tokens = reasoning_tokens + estimate_tokens(content)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning_tokens,
        total_tokens=input_tokens + output_tokens,
        estimated=True,
    )
