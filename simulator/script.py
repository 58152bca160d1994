"""What the simulated model says: deterministic reasoning and answer pieces."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from simulator.directives import Directives

# A piece is what one chunk carries: a word with its leading space, or one
# other character (so CJK and emoji arrive one per chunk, as real models do).
_PIECE_RE = re.compile(r"\s*(?:[A-Za-z0-9_']+|\S)|\s+")

_OPENERS = (
    "Okay, the user asks",
    "Hmm, the user wants to know",
    "Let me see. The question is",
)
_MIDDLES = (
    "First I should restate the question in my own words and check the key terms.",
    "I should break this into smaller steps and check each one against an example.",
    "The main risk is an answer that is too vague, so I will be concrete.",
)

_REASONING = """{opener}: "{topic}". Let me think about what they actually need.

{middle} Then I can outline the main points, consider an example or two, and look \
for edge cases that could trip up a simple answer.

A good reply starts with a short summary and then gives the details in a clear \
structure. I will keep it friendly, add a short note in Chinese, and end with an offer \
to help further."""

_ANSWER = """Here is a short answer to **{topic}**.

## Summary

1. **Restate** the problem in your own words.
2. **Break it down** into smaller steps.
3. **Check** the result against an example.

Some detail, with a bit of `inline code`:

```python
def answer() -> int:
    return 42
```

> 小贴士：先思考，再回答。🙂

Feel free to ask a follow-up question! 🚀"""


def pieces(text: str) -> list[str]:
    """Split ``text`` into chunk-sized pieces whose concatenation is exactly ``text``."""
    return _PIECE_RE.findall(text)


def _sized(text: str, count: int | None) -> list[str]:
    base = pieces(text)
    if count is None or not base:
        return base
    repeated = base * (count // len(base) + 1)
    return repeated[:count]


@dataclass(frozen=True, slots=True)
class Script:
    """The pieces one response streams, reasoning first."""

    reasoning: tuple[str, ...]
    answer: tuple[str, ...]

    @property
    def reasoning_text(self) -> str:
        return "".join(self.reasoning)

    @property
    def answer_text(self) -> str:
        return "".join(self.answer)


def title_for(prompt: str) -> str:
    """Return what a model asked for a title answers: the question's first few words."""
    lines = [line for line in prompt.splitlines() if line.strip()] or ["Untitled"]
    words = re.sub(r"^\s*user:\s*", "", lines[0], flags=re.IGNORECASE).split()
    return " ".join(words[:6]) or "Untitled"


def build_script(
    prompt: str, directives: Directives, *, thinking: bool, budget: int | None, title: bool = False
) -> Script:
    """Return the response for ``prompt``: same prompt and directives, same script.

    A request whose system prompt asks for a title gets a title, as a model would give.
    """
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    topic = " ".join(prompt.split())[:60] or "your question"
    reasoning: list[str] = []
    if thinking:
        default = _REASONING.format(
            opener=_OPENERS[digest[0] % len(_OPENERS)],
            middle=_MIDDLES[digest[1] % len(_MIDDLES)],
            topic=topic,
        )
        text = directives.reasoning if directives.reasoning is not None else default
        reasoning = _sized(text, directives.reasoning_tokens)
        if budget is not None:
            reasoning = reasoning[:budget]  # the budget cuts reasoning off mid-sentence
    default_answer = title_for(prompt) if title else _ANSWER.format(topic=topic)
    text = directives.answer if directives.answer is not None else default_answer
    return Script(tuple(reasoning), tuple(_sized(text, directives.answer_tokens)))
