"""UpstreamClient: requests, retries before the first byte, errors as events, cancellation."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from chat.upstream import (
    ConnectionLost,
    ContentRejected,
    RateLimited,
    RequestRejected,
    ServerError,
    UpstreamClient,
    UpstreamTimeout,
)
from chat.upstream.client import _retry_after
from tests.unit.upstream.helpers import SSE, collect, config, request

OK_STREAM = (
    b'data: {"choices":[{"delta":{"content":"Hi"},"index":0,"finish_reason":null}],"id":"c1"}\n\n'
    b'data: {"choices":[{"delta":{"content":""},"index":0,"finish_reason":"stop"}],"id":"c1"}\n\n'
    b"data: [DONE]\n\n"
)
DASHSCOPE_429 = json.dumps({"code": "Throttling.RateQuota", "message": "slow down"}).encode()


def flaky(*failures: httpx.Response | Exception) -> tuple[list[httpx.Request], object]:
    """Return (calls, handler) failing with each of ``failures`` in turn, then succeeding."""
    calls: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        if len(calls) <= len(failures):
            failure = failures[len(calls) - 1]
            if isinstance(failure, Exception):
                raise failure
            return failure
        return httpx.Response(200, headers=SSE, content=OK_STREAM)

    return calls, handler


@pytest.mark.asyncio
async def test_openai_request_goes_to_the_compatible_endpoint() -> None:
    calls, handler = flaky()
    await collect(handler, "openai", req=request("Who are you?", enable_thinking=True))

    sent = calls[0]
    assert (
        str(sent.url) == "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions"
    )
    assert sent.headers["authorization"] == "Bearer sk-unit-test-key"
    assert sent.headers["accept"] == "text/event-stream"
    assert json.loads(sent.content)["enable_thinking"] is True


@pytest.mark.asyncio
async def test_dashscope_request_sends_the_sse_header() -> None:
    calls: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        return httpx.Response(200, headers=SSE, content=b"")

    await collect(handler, "dashscope", req=request(model="qwen3-vl-plus"))

    assert calls[0].url.path == "/api/v1/services/aigc/multimodal-generation/generation"
    assert calls[0].headers["x-dashscope-sse"] == "enable"


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_retryable_statuses_are_retried_before_the_first_byte(status: int) -> None:
    calls, handler = flaky(httpx.Response(status), httpx.Response(status))

    result = await collect(handler)

    assert len(calls) == 3
    assert result.content == "Hi"
    assert result.last.kind == "finish"


@pytest.mark.asyncio
async def test_connect_errors_are_retried() -> None:
    calls, handler = flaky(httpx.ConnectError("refused"))

    result = await collect(handler)

    assert len(calls) == 2
    assert result.last.kind == "finish"


@pytest.mark.asyncio
async def test_persistent_429_ends_with_a_retryable_error_event() -> None:
    calls, handler = flaky(*[httpx.Response(429, content=DASHSCOPE_429)] * 10)

    result = await collect(handler, max_retries=2)

    assert len(calls) == 3
    assert [e.kind for e in result.events] == ["error"]
    assert isinstance(result.error, RateLimited)
    assert result.error.retryable is True
    assert result.error.code == "Throttling.RateQuota"


@pytest.mark.asyncio
async def test_persistent_500_is_a_server_error() -> None:
    _, handler = flaky(*[httpx.Response(500)] * 10)

    result = await collect(handler, max_retries=1)

    assert isinstance(result.error, ServerError)


@pytest.mark.asyncio
async def test_client_errors_are_not_retried() -> None:
    body = json.dumps({"code": "DataInspectionFailed", "message": "Input data may contain."})
    calls, handler = flaky(httpx.Response(400, content=body.encode()))

    result = await collect(handler)

    assert len(calls) == 1
    assert isinstance(result.error, ContentRejected)
    assert result.error.retryable is False


@pytest.mark.asyncio
async def test_retry_after_overrides_the_backoff() -> None:
    calls, handler = flaky(httpx.Response(429, headers={"retry-after": "0.05"}))
    started = time.monotonic()

    result = await collect(handler, retry_backoff=30.0)

    assert len(calls) == 2
    assert 0.05 <= time.monotonic() - started < 5
    assert result.last.kind == "finish"


def test_retry_after_reads_seconds_and_dates() -> None:
    assert _retry_after(httpx.Response(429, headers={"retry-after": "3"})) == 3.0
    assert _retry_after(httpx.Response(429, headers={"retry-after": "soon"})) is None
    dated = httpx.Response(429, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert _retry_after(dated) == 0.0


class Body(httpx.AsyncByteStream):
    """A streamed body: the given chunks, then an optional exception or a hang."""

    def __init__(self, chunks: list[bytes], then: Exception | None = None, hang: bool = False):
        self.chunks = chunks
        self.then = then
        self.hang = hang
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.then is not None:
            raise self.then
        if self.hang:
            await asyncio.Event().wait()

    async def aclose(self) -> None:
        self.closed = True


FIRST = b'data: {"choices":[{"delta":{"content":"Hel"},"index":0}],"id":"c1"}\n\n'


@pytest.mark.asyncio
async def test_failures_after_the_first_byte_are_not_retried() -> None:
    calls: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        return httpx.Response(200, headers=SSE, stream=Body([FIRST], httpx.ReadError("reset")))

    result = await collect(handler)

    assert len(calls) == 1
    assert result.content == "Hel"
    assert isinstance(result.error, ConnectionLost)
    assert result.error.retryable is False
    assert result.error.request_id == "c1"


@pytest.mark.asyncio
async def test_read_timeouts_become_timeout_events_without_retry() -> None:
    calls: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        return httpx.Response(200, headers=SSE, stream=Body([], httpx.ReadTimeout("slow")))

    result = await collect(handler, read_timeout=1.5)

    assert len(calls) == 1
    assert isinstance(result.error, UpstreamTimeout)
    assert result.error.code == "timeout"
    assert "1.5 s" in result.error.message


@pytest.mark.asyncio
async def test_invalid_requests_become_error_events_without_a_call() -> None:
    calls, handler = flaky()
    req = request()
    req = type(req)(
        "qwen-plus", (type(req.messages[0])("user", "hi", images=("https://x/y.png",)),)
    )

    result = await collect(handler, req=req)

    assert calls == []
    assert isinstance(result.error, RequestRejected)
    assert result.error.code == "vision_unsupported"


@pytest.mark.asyncio
async def test_a_json_200_instead_of_a_stream_is_mapped() -> None:
    body = json.dumps({"code": "InvalidParameter", "message": "url error, please check url！"})

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, content=body)

    result = await collect(handler, "dashscope")

    assert isinstance(result.error, RequestRejected)
    assert "url error" in result.error.message


@pytest.mark.asyncio
async def test_cancelling_the_consumer_closes_the_response() -> None:
    body = Body([FIRST], hang=True)
    transport = httpx.MockTransport(lambda _: httpx.Response(200, headers=SSE, stream=body))
    first = asyncio.Event()

    async def consume(client: UpstreamClient) -> None:
        async for _event in client.stream(request()):
            first.set()

    async with UpstreamClient(config(), transport=transport) as client:
        task = asyncio.create_task(consume(client))
        await asyncio.wait_for(first.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert body.closed


@pytest.mark.asyncio
async def test_closing_the_generator_early_closes_the_response() -> None:
    body = Body([FIRST], hang=True)
    transport = httpx.MockTransport(lambda _: httpx.Response(200, headers=SSE, stream=body))

    async with UpstreamClient(config(), transport=transport) as client:
        events = client.stream(request())
        assert (await anext(events)).text == "Hel"
        await events.aclose()

    assert body.closed


@pytest.mark.asyncio
async def test_logs_carry_codes_not_keys_or_text(caplog: pytest.LogCaptureFixture) -> None:
    calls, handler = flaky(*[httpx.Response(429, content=DASHSCOPE_429)] * 3)
    caplog.set_level(logging.DEBUG, logger="chat.upstream")

    await collect(handler, req=request("my secret prompt"), max_retries=1)

    assert "Throttling.RateQuota" in caplog.text
    assert "sk-unit-test-key" not in caplog.text
    assert "my secret prompt" not in caplog.text
