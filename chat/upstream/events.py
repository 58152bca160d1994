"""The one event type both upstream protocols are parsed into.

A stream is a sequence of ``StreamEvent``s: ``reasoning`` deltas first, then
``content`` deltas, ``usage`` whenever the upstream reports it, and exactly one
terminal event — ``finish`` when the model completed, ``error`` when it did not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from chat.upstream.errors import UpstreamError

EventKind = Literal["reasoning", "content", "usage", "finish", "error"]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one request, as the upstream reports them."""

    input_tokens: int = 0
    output_tokens: int = 0  # includes reasoning tokens, as the API reports
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = False

    def as_json(self) -> dict[str, int]:
        """Return the API's ``usage`` object (docs/api.md)."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cached_tokens": self.cached_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One thing that happened in an upstream stream."""

    kind: EventKind
    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    error: UpstreamError | None = None
    request_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict of the set fields (for logs and debugging)."""
        data: dict[str, Any] = {"kind": self.kind}
        if self.text:
            data["text"] = self.text
        if self.usage is not None:
            data["usage"] = self.usage.as_json()
        if self.finish_reason is not None:
            data["finish_reason"] = self.finish_reason
        if self.error is not None:
            data["error"] = self.error.as_json()
        if self.request_id is not None:
            data["request_id"] = self.request_id
        return data
