"""Stream one chat completion from Model Studio over either protocol."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Protocol

import httpx

from chat.upstream.catalog import InvalidRequest
from chat.upstream.errors import (
    AuthenticationError,
    ConnectionLost,
    ProtocolError,
    RateLimited,
    RequestRejected,
    ServerError,
    UpstreamError,
    UpstreamTimeout,
    error_from_body,
    sanitize,
)
from chat.upstream.events import StreamEvent
from chat.upstream.protocols import dashscope, openai_compat
from chat.upstream.request import OPENAI_PATH, ChatRequest, UpstreamConfig
from chat.upstream.transport.body import encode_json
from chat.upstream.transport.httpx_aiohttp import AiohttpTransport
from chat.upstream.transport.sse import iter_events

logger = logging.getLogger(__name__)

_MAX_RETRY_AFTER = 30.0
_SSE_REQUEST_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-store"}


class _Parser(Protocol):
    request_id: str | None
    finish_reason: str | None
    done: bool

    def feed(self, event: str, data: str) -> list[StreamEvent]: ...


class _Prepared:
    """A request's path, headers and encoded body: CPU-bound with images, so built off the loop."""

    __slots__ = ("path", "content", "headers", "protocol")

    def __init__(self, config: UpstreamConfig, request: ChatRequest) -> None:
        self.protocol = config.protocol
        if config.protocol == "dashscope":
            self.path = dashscope.path_for(request.model)
            body = dashscope.build_body(request)
            self.headers = dict(dashscope.SSE_HEADERS)
        else:
            self.path = OPENAI_PATH
            body = openai_compat.build_body(request)
            self.headers = {}
        self.headers["Content-Type"] = "application/json"
        self.content = encode_json(body)

    def parser(self) -> _Parser:
        if self.protocol == "dashscope":
            return dashscope.DashScopeStreamParser()
        return openai_compat.OpenAIStreamParser()


class UpstreamClient:
    """A shared connection pool that turns ChatRequests into StreamEvent streams.

    Consume ``stream()`` with ``contextlib.aclosing`` (or cancel the task that
    iterates it): closing the generator closes the upstream connection.
    """

    def __init__(
        self,
        config: UpstreamConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 1000,
    ) -> None:
        self._config = config
        self._client = httpx.AsyncClient(
            base_url=config.origin,
            headers={"Authorization": f"Bearer {config.api_key}"},
            timeout=httpx.Timeout(
                connect=config.connect_timeout, read=config.read_timeout, write=30.0, pool=30.0
            ),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport or AiohttpTransport(max_connections=max_connections),
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._client.aclose()

    async def __aenter__(self) -> UpstreamClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Yield the request's events; the last one is ``finish`` or ``error``, never a raise.

        Retries 429, 5xx and connection failures with backoff while nothing has
        been yielded yet; once text has arrived, a failure ends the stream with a
        non-retryable error event and the caller keeps what it got.
        """
        if not self._config.api_key.strip():
            yield StreamEvent("error", error=AuthenticationError.build("missing_api_key"))
            return
        try:
            # A body with images is megabytes of JSON: encode it in a thread, not on the loop.
            prepared = await asyncio.to_thread(_Prepared, self._config, request)
        except InvalidRequest as exc:
            yield StreamEvent(
                "error", error=RequestRejected(exc.code, exc.message, retryable=False)
            )
            return
        attempt = 0
        while True:
            parser = prepared.parser()
            yielded = False
            try:
                async with aclosing(self._attempt(prepared, parser)) as events:
                    async for event in events:
                        yielded = True
                        yield event
                return
            except UpstreamError as exc:
                error = exc
            except httpx.HTTPError as exc:
                error = self._transport_error(exc)
            error.request_id = error.request_id or parser.request_id
            if not yielded and attempt < self._config.max_retries and _should_retry(error):
                delay = self._backoff(attempt, error.retry_after)
                attempt += 1
                logger.warning(
                    "upstream retry %s/%s code=%s status=%s request_id=%s in %.2fs",
                    attempt,
                    self._config.max_retries,
                    error.code,
                    error.http_status,
                    error.request_id,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            if yielded:
                error.retryable = False  # a retry would repeat text the caller already has
            logger.warning(
                "upstream error code=%s status=%s request_id=%s model=%s",
                error.code,
                error.http_status,
                error.request_id,
                request.model,
            )
            yield StreamEvent("error", error=error, request_id=error.request_id)
            return

    async def _attempt(
        self, prepared: _Prepared, parser: _Parser
    ) -> AsyncGenerator[StreamEvent, None]:
        started = time.monotonic()
        headers = {**prepared.headers, **_SSE_REQUEST_HEADERS}
        async with self._client.stream(
            "POST", prepared.path, content=prepared.content, headers=headers
        ) as response:
            if response.status_code != 200:
                raise await _error_response(response)
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" not in content_type:
                raise await _unexpected_body(response)
            logger.debug("upstream stream open status=200 after %.3fs", time.monotonic() - started)
            finished = False
            try:
                async for kind, data in iter_events(response):
                    if finished:
                        continue  # drain to the end of the body so the connection is reused
                    if not data.strip():
                        continue
                    for event in parser.feed(kind, data):
                        yield event
                    if _is_complete(prepared.protocol, parser):
                        finished = True
                        yield _finish(parser)
            except httpx.HTTPError:
                if not finished:
                    raise
                return  # the stream was complete; only the drain failed
            if not finished:
                if parser.finish_reason is not None:  # tolerate a missing [DONE]
                    yield _finish(parser)
                    return
                raise ConnectionLost.build(
                    "stream_incomplete",
                    "the stream ended before the model finished",
                    request_id=parser.request_id,
                )

    def _transport_error(self, exc: httpx.HTTPError) -> UpstreamError:
        if isinstance(exc, httpx.ReadTimeout):
            return UpstreamTimeout.build("timeout", f"no data for {self._config.read_timeout:g} s")
        if isinstance(exc, httpx.ConnectTimeout):
            return UpstreamTimeout.build("connect_timeout", "could not connect in time")
        if isinstance(exc, httpx.TimeoutException):
            return UpstreamTimeout.build("timeout", type(exc).__name__)
        if isinstance(exc, httpx.LocalProtocolError):
            # Our own request was unsendable (e.g. a key with a newline); its text may hold it.
            return ProtocolError.build("invalid_request", "the request could not be sent")
        if isinstance(exc, httpx.ConnectError):
            return ConnectionLost.build("connect_failed", "could not connect")
        if isinstance(exc, httpx.TransportError):
            return ConnectionLost.build("connection_lost", "the connection closed mid-response")
        return ProtocolError.build(
            "protocol_error", sanitize(str(exc), secret=self._config.api_key)
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), _MAX_RETRY_AFTER)
        # typeshed types int ** int as Any (a negative power is a float): say what it is.
        base: float = self._config.retry_backoff * (2**attempt)
        return base / 2 + random.random() * base / 2  # equal jitter


def _is_complete(protocol: str, parser: _Parser) -> bool:
    if protocol == "dashscope":
        return parser.finish_reason is not None
    return parser.done and parser.finish_reason is not None


def _finish(parser: _Parser) -> StreamEvent:
    return StreamEvent("finish", finish_reason=parser.finish_reason, request_id=parser.request_id)


def _should_retry(error: UpstreamError) -> bool:
    if isinstance(error, (RateLimited, ServerError, ConnectionLost)):
        return error.retryable
    return error.code == "connect_timeout"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


async def _error_response(response: httpx.Response) -> UpstreamError:
    body = await response.aread()
    return error_from_body(
        response.status_code,
        body,
        request_id=response.headers.get("x-request-id"),
        retry_after=_retry_after(response),
    )


async def _unexpected_body(response: httpx.Response) -> UpstreamError:
    body = await response.aread()
    error = error_from_body(200, body, request_id=response.headers.get("x-request-id"))
    if error.code == "http_200":
        return ProtocolError.build(
            "unexpected_content_type", "expected an event stream", request_id=error.request_id
        )
    return error
