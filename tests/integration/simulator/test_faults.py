"""Every simulator fault, in both protocols, through our client over real HTTP."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from chat.upstream import (
    ConnectionLost,
    ContentRejected,
    ProtocolError,
    RateLimited,
    ServerError,
    UpstreamClient,
    UpstreamTimeout,
)
from simulator import SimulatorThread
from simulator.script import pieces
from tests.integration.upstream.helpers import (
    ask,
    directive,
    requests_with,
    run,
    sim_config,
    wait_for,
)

ANSWER = "Première ligne 你好 👋 and then some more words to stream slowly."


def prompt(**faults: object) -> tuple[str, str]:
    """Return (marker, prompt text) for a thinking-off stream of ANSWER with ``faults``."""
    marker = uuid.uuid4().hex[:10]
    return marker, f"{marker} {directive(answer=ANSWER, **faults)}"


@pytest.mark.asyncio
@pytest.mark.parametrize(("fault", "status"), [("429", 429), ("500", 500)])
async def test_errors_before_the_first_byte_are_retried_then_succeed(
    upstream_sim: SimulatorThread, wire: str, fault: str, status: int
) -> None:
    marker, text = prompt(fault=fault, times=2)

    result = await run(upstream_sim.base_url, wire, ask(text, enable_thinking=False))

    assert result.content == ANSWER
    assert result.last.kind == "finish"
    seen = requests_with(upstream_sim.base_url, marker)
    assert [r["status"] for r in seen] == [status, status, 200]


@pytest.mark.asyncio
async def test_persistent_429_is_a_retryable_error_after_max_retries(
    upstream_sim: SimulatorThread, wire: str
) -> None:
    marker, text = prompt(fault=429)

    result = await run(upstream_sim.base_url, wire, ask(text), max_retries=2)

    assert [e.kind for e in result.events] == ["error"]
    assert isinstance(result.error, RateLimited)
    assert result.error.retryable is True
    assert result.error.code in ("Throttling.RateQuota", "limit_requests")
    assert result.error.request_id
    assert len(requests_with(upstream_sim.base_url, marker)) == 3


@pytest.mark.asyncio
async def test_persistent_500_is_a_server_error(upstream_sim: SimulatorThread, wire: str) -> None:
    _, text = prompt(fault=500)

    result = await run(upstream_sim.base_url, wire, ask(text), max_retries=1)

    assert isinstance(result.error, ServerError)


@pytest.mark.asyncio
async def test_retry_after_is_honoured(upstream_sim: SimulatorThread, wire: str) -> None:
    _, text = prompt(fault=429, times=1, retry_after=0)
    started = time.monotonic()

    result = await run(upstream_sim.base_url, wire, ask(text), retry_backoff=30.0)

    assert result.last.kind == "finish"
    assert time.monotonic() - started < 5  # Retry-After: 0 beat the 30 s backoff


@pytest.mark.asyncio
async def test_provider_error_body_is_readable_and_not_retried(
    upstream_sim: SimulatorThread, wire: str
) -> None:
    marker, text = prompt(fault="error_body")

    result = await run(upstream_sim.base_url, wire, ask(text))

    assert isinstance(result.error, ContentRejected)
    assert result.error.retryable is False
    assert result.error.http_status == 400
    assert "Input data may contain inappropriate content." in result.error.message
    assert len(requests_with(upstream_sim.base_url, marker)) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fault", "error_type", "outcome"),
    [
        ("disconnect", ConnectionLost, "fault:disconnect"),
        ("malformed", ProtocolError, None),
        ("stream_error", ContentRejected, "fault:stream_error"),
    ],
)
async def test_mid_stream_failures_keep_the_text_so_far(
    upstream_sim: SimulatorThread,
    wire: str,
    fault: str,
    error_type: type[Exception],
    outcome: str | None,
) -> None:
    marker, text = prompt(fault=fault, after=5)

    result = await run(upstream_sim.base_url, wire, ask(text, enable_thinking=False))

    assert result.content == "".join(pieces(ANSWER)[:5])
    assert isinstance(result.error, error_type)
    assert result.error.retryable is False
    assert result.last.kind == "error"
    seen = requests_with(upstream_sim.base_url, marker)
    assert len(seen) == 1  # never retried once text arrived
    if outcome:
        assert seen[0]["outcome"] == outcome


@pytest.mark.asyncio
async def test_disconnect_before_any_text_is_retried(
    upstream_sim: SimulatorThread, wire: str
) -> None:
    marker, text = prompt(fault="disconnect", after=0, times=1)

    result = await run(upstream_sim.base_url, wire, ask(text, enable_thinking=False))

    assert result.content == ANSWER
    assert len(requests_with(upstream_sim.base_url, marker)) == 2


@pytest.mark.asyncio
async def test_stall_longer_than_read_timeout_is_a_timeout(
    upstream_sim: SimulatorThread, wire: str
) -> None:
    marker, text = prompt(fault="stall", after=3, seconds=30)

    result = await run(upstream_sim.base_url, wire, ask(text), read_timeout=0.3)

    assert result.content == "".join(pieces(ANSWER)[:3])
    assert isinstance(result.error, UpstreamTimeout)
    assert result.error.retryable is False
    outcome = wait_for(
        lambda: requests_with(upstream_sim.base_url, marker)[0]["outcome"] != "pending"
    )
    assert outcome  # the simulator noticed the client leave instead of stalling 30 s
    assert requests_with(upstream_sim.base_url, marker)[0]["outcome"] == "client_disconnected"


@pytest.mark.asyncio
async def test_short_stall_within_read_timeout_completes(
    upstream_sim: SimulatorThread, wire: str
) -> None:
    _, text = prompt(fault="stall", after=3, seconds=0.2)

    result = await run(upstream_sim.base_url, wire, ask(text), read_timeout=5)

    assert result.content == ANSWER


@pytest.mark.asyncio
async def test_cancelling_closes_the_upstream_connection(
    upstream_sim: SimulatorThread, wire: str
) -> None:
    marker, text = prompt(rate=20)
    got_text = asyncio.Event()

    async def consume(client: UpstreamClient) -> None:
        async for event in client.stream(ask(text)):
            if event.kind == "content":
                got_text.set()

    async with UpstreamClient(sim_config(upstream_sim.base_url, wire)) as client:
        task = asyncio.create_task(consume(client))
        await asyncio.wait_for(got_text.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        def outcome() -> str:
            return requests_with(upstream_sim.base_url, marker)[0]["outcome"]

        assert wait_for(lambda: outcome() == "client_disconnected", timeout=3)
        sent = requests_with(upstream_sim.base_url, marker)[0]["pieces_sent"]
        assert sent < len(pieces(ANSWER))
