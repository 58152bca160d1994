"""One exchange on aiohttp: read the request, then answer whole or as a stream of chunks."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

SPLIT_PAUSE = 0.005  # seconds between the halves of a split chunk


@dataclass(frozen=True, slots=True)
class Request:
    """The parts of an HTTP request the simulator looks at."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @classmethod
    async def read(cls, request: web.BaseRequest) -> Request:
        """Read the whole request; raise ``web.HTTPRequestEntityTooLarge`` past the limit."""
        headers = {name.lower(): value for name, value in request.headers.items()}
        body = await request.read()
        return cls(request.method, request.rel_url.raw_path, headers, body)


class Responder:
    """Answer one request: a complete response, or a chunked stream that may stop short."""

    def __init__(self, request: web.BaseRequest) -> None:
        self._request = request
        self._response: web.StreamResponse | None = None
        self.status = 0
        self.streaming = False
        self.closed = False

    @property
    def response(self) -> web.StreamResponse:
        """Return the response for aiohttp to finish once the handler returns."""
        if self._response is None:
            raise RuntimeError("the request was never answered")
        return self._response

    @property
    def client_gone(self) -> bool:
        """Return True once the client has closed or reset the connection."""
        transport = self._request.transport
        return self.closed or transport is None or transport.is_closing()

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Answer with a complete response, written when the handler returns."""
        self.status = status
        self._response = web.Response(status=status, body=body, headers=headers)

    def reply_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        """Answer with a complete JSON response (raw UTF-8, compact)."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.reply(status, body, {"content-type": "application/json", **(headers or {})})

    async def start_stream(self, headers: dict[str, str]) -> None:
        """Send a 200 head for an event stream (chunked on HTTP/1.1: it has no length)."""
        self.status = 200
        self.streaming = True
        self._response = web.StreamResponse(status=200, headers=headers)
        try:
            await self._response.prepare(self._request)
        except ConnectionError:
            self.closed = True

    async def write_chunk(self, data: bytes, *, split_utf8: bool = False) -> None:
        """Send ``data`` as one HTTP chunk, or as two split inside a UTF-8 character."""
        cut = _mid_character(data) if split_utf8 else None
        if cut is None:
            await self._write(data)
            return
        await self._write(data[:cut])
        await asyncio.sleep(SPLIT_PAUSE)  # so the halves leave as separate TCP segments
        await self._write(data[cut:])

    async def end_stream(self) -> None:
        """Send the last chunk of a streamed body."""
        if self.client_gone:
            self.closed = True
            return
        try:
            await self.response.write_eof()
        except ConnectionError:
            self.closed = True

    def abort(self) -> None:
        """Drop the connection without finishing the response."""
        self.closed = True
        transport = self._request.transport
        if transport is not None:
            transport.close()

    async def _write(self, data: bytes) -> None:
        if self.client_gone:
            self.closed = True
            return
        response = self.response
        try:
            await response.write(data)
            # write() drains only past 64 KiB of output; wait here whenever a slow
            # client has let the socket buffer fill, as every chunk did before.
            await self._request.writer.drain()
        except ConnectionError:
            self.closed = True


def _mid_character(data: bytes) -> int | None:
    for index, byte in enumerate(data):
        if byte >= 0xC0:  # the lead byte of a multi-byte UTF-8 sequence
            return index + 1
    return None
