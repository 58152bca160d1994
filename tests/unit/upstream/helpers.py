"""Shared helpers for the upstream unit tests (plain functions, no fixtures)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chat.upstream import ChatRequest, ChatTurn, StreamEvent, UpstreamClient, UpstreamConfig
from chat.upstream.errors import UpstreamError
from chat.upstream.events import Usage

FIXTURES = Path(__file__).parent / "fixtures"
SSE = {"content-type": "text/event-stream;charset=UTF-8"}


@dataclass
class Result:
    """Everything one stream yielded, folded."""

    events: list[StreamEvent] = field(default_factory=list)

    @property
    def reasoning(self) -> str:
        return "".join(e.text for e in self.events if e.kind == "reasoning")

    @property
    def content(self) -> str:
        return "".join(e.text for e in self.events if e.kind == "content")

    @property
    def usage(self) -> Usage | None:
        usages = [e.usage for e in self.events if e.kind == "usage"]
        return usages[-1] if usages else None

    @property
    def last(self) -> StreamEvent:
        return self.events[-1]

    @property
    def error(self) -> UpstreamError | None:
        return self.last.error if self.last.kind == "error" else None


def fixture_body(name: str) -> bytes:
    """Return a seed stream; the digest's code blocks cannot show the final blank line."""
    body = (FIXTURES / name).read_bytes()
    return body if body.endswith(b"\n\n") else body + b"\n"


def seed_bodies() -> dict[str, Any]:
    return json.loads((FIXTURES / "seed_request_bodies.json").read_text("utf-8"))


def request(text: str = "Who are you?", model: str = "qwen-plus", **kwargs: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatTurn("user", text),), **kwargs)


async def _pieces(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def config(protocol: str = "openai", **overrides: Any) -> UpstreamConfig:
    values: dict[str, Any] = {
        "base_url": "https://dashscope-intl.aliyuncs.com/",
        "api_key": "sk-unit-test-key",
        "protocol": protocol,
        "retry_backoff": 0.001,
    }
    values.update(overrides)
    return UpstreamConfig(**values)


async def collect(
    source: bytes | Callable[[httpx.Request], httpx.Response],
    protocol: str = "openai",
    *,
    chunk: int | None = None,
    req: ChatRequest | None = None,
    **overrides: Any,
) -> Result:
    """Stream ``source`` (an SSE body, or a MockTransport handler) through UpstreamClient."""
    if callable(source):
        handler = source
    else:
        body = source

        def handler(_: httpx.Request) -> httpx.Response:
            content: Any = _pieces(body, chunk) if chunk else body
            return httpx.Response(200, headers=SSE, content=content)

    result = Result()
    transport = httpx.MockTransport(handler)
    async with UpstreamClient(config(protocol, **overrides), transport=transport) as client:
        async for event in client.stream(req or request()):
            result.events.append(event)
    return result
