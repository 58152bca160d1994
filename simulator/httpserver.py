"""A small HTTP/1.1 server on asyncio streams: keep-alive, chunked streaming, aborts."""

from __future__ import annotations

import asyncio
import email.utils
import json
from dataclasses import dataclass
from typing import Any

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
IDLE_TIMEOUT = 75.0

_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class BadHTTPRequest(Exception):
    """The client sent something that is not HTTP/1.1 we understand."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Return the next request on the connection, or None when the client is done."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
        return None
    except asyncio.LimitOverrunError:
        raise BadHTTPRequest(400, "request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise BadHTTPRequest(400, "malformed request line") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            raise BadHTTPRequest(413, "request body too large")
        body = await reader.readexactly(length) if length else b""
    return Request(method.upper(), target.split("?", 1)[0], headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are expected
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)
        if len(body) > MAX_BODY_BYTES:
            raise BadHTTPRequest(413, "request body too large")


class Responder:
    """Write one response: whole, or streamed as HTTP chunks."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.status = 0
        self.streaming = False
        self.closed = False

    @property
    def client_gone(self) -> bool:
        """Return True once the client has closed or reset the connection."""
        return self.closed or self._reader.at_eof() or self._writer.is_closing()

    def _head(self, status: int, headers: dict[str, str]) -> bytes:
        self.status = status
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
        lines.append(f"date: {email.utils.formatdate(usegmt=True)}")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Write a complete response."""
        all_headers = {"content-length": str(len(body)), **(headers or {})}
        await self._write(self._head(status, all_headers) + body)

    async def send_json(
        self, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        """Write a complete JSON response (raw UTF-8, compact)."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        await self.send(status, body, {"content-type": "application/json", **(headers or {})})

    async def start_stream(self, headers: dict[str, str]) -> None:
        """Write a 200 head for a chunked event stream."""
        self.streaming = True
        await self._write(self._head(200, {**headers, "transfer-encoding": "chunked"}))

    async def write_chunk(self, data: bytes, *, split_utf8: bool = False) -> None:
        """Write ``data`` as one HTTP chunk, or two split inside a UTF-8 character."""
        cut = _mid_character(data) if split_utf8 else None
        if cut is None:
            await self._write(b"%x\r\n%s\r\n" % (len(data), data))
            return
        await self._write(b"%x\r\n%s\r\n" % (cut, data[:cut]))
        await asyncio.sleep(0.005)  # make the halves separate TCP segments
        await self._write(b"%x\r\n%s\r\n" % (len(data) - cut, data[cut:]))

    async def end_stream(self) -> None:
        """Write the last chunk of a streamed body."""
        await self._write(b"0\r\n\r\n")

    def abort(self) -> None:
        """Close the connection without finishing the response."""
        self.closed = True
        self._writer.close()

    async def _write(self, data: bytes) -> None:
        if self.client_gone:
            self.closed = True
            return
        self._writer.write(data)
        try:
            await self._writer.drain()
        except (ConnectionError, OSError):
            self.closed = True


def _mid_character(data: bytes) -> int | None:
    for index, byte in enumerate(data):
        if byte >= 0xC0:  # the lead byte of a multi-byte UTF-8 sequence
            return index + 1
    return None
