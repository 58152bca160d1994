"""Helpers for talking to the simulator over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx

from chat.upstream import ChatRequest, ChatTurn, UpstreamClient, UpstreamConfig
from simulator import encode_text
from tests.unit.upstream.helpers import Result

API_KEY = "sk-sim-test-key"


def sim_config(base_url: str, protocol: str, **overrides: Any) -> UpstreamConfig:
    values: dict[str, Any] = {
        "base_url": base_url,
        "api_key": API_KEY,
        "protocol": protocol,
        "retry_backoff": 0.01,
        "read_timeout": 10.0,
    }
    values.update(overrides)
    return UpstreamConfig(**values)


def directive(**values: object) -> str:
    """Return a ``[[sim:...]]`` directive; str values for reasoning/answer are encoded."""
    parts = []
    for key, value in values.items():
        if key in ("reasoning", "answer"):
            value = encode_text(str(value))
        parts.append(f"{key}={value}")
    return f"[[sim:{' '.join(parts)}]]"


def ask(text: str, model: str = "qwen-plus", **kwargs: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatTurn("user", text),), **kwargs)


async def run(base_url: str, protocol: str, req: ChatRequest, **overrides: Any) -> Result:
    """Stream ``req`` from the simulator with a fresh UpstreamClient."""
    result = Result()
    async with UpstreamClient(sim_config(base_url, protocol, **overrides)) as client:
        async for event in client.stream(req):
            result.events.append(event)
    return result


def sim_requests(base_url: str) -> list[dict[str, Any]]:
    return httpx.get(f"{base_url}/_sim/requests", timeout=5).json()


def requests_with(base_url: str, marker: str) -> list[dict[str, Any]]:
    """Return the logged requests whose body mentions ``marker``."""
    import json

    return [
        r for r in sim_requests(base_url) if marker in json.dumps(r["body"], ensure_ascii=False)
    ]


def wait_for(predicate: Any, timeout: float = 5.0) -> Any:
    """Poll ``predicate`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)
