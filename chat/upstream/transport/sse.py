"""Server-sent events, parsed a network read at a time.

A generic SSE reader walks the body line by line and builds an object per line; at a
few thousand pieces a second that is most of a worker's parsing time. This one splits
each read on blank lines and parses whole events (one ``data:`` line, usually) at once.
It follows the SSE rules the upstream uses: ``\\r\\n``, ``\\r`` or ``\\n`` line ends,
``field: value`` with one optional space, comments (``:``), multi-line ``data``, the
``message`` default event type, and an unfinished event at the end is dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx


def _normalise(buffer: bytes) -> bytes:
    return buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def parse_event(block: bytes) -> tuple[str, str] | None:
    """Return ``(event type, data)`` of one event's lines; None when it has no data."""
    if block.startswith(b"data:") and b"\n" not in block:  # the common case
        payload = block[6:] if block[5:6] == b" " else block[5:]
        return "message", payload.decode("utf-8", "replace")
    event, data = "message", list[str]()
    for line in block.decode("utf-8", "replace").split("\n"):
        if not line or line[0] == ":":
            continue
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    return (event, "\n".join(data)) if data else None


async def iter_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """Yield ``(event type, data)`` for every complete event of an SSE response body."""
    buffer = b""
    async for chunk in response.aiter_bytes():
        buffer += chunk
        if b"\r" in buffer:
            # A "\r" that ends the read may be the first half of "\r\n": keep it for later.
            held = buffer[-1:] == b"\r"
            buffer = _normalise(buffer[:-1] if held else buffer) + (b"\r" if held else b"")
        if b"\n\n" in buffer:
            *blocks, buffer = buffer.split(b"\n\n")
            for parsed in map(parse_event, blocks):
                if parsed is not None:
                    yield parsed
    if buffer.endswith(b"\r"):  # the body ended: that "\r" was a line end after all
        for parsed in map(parse_event, _normalise(buffer).split(b"\n\n")[:-1]):
            if parsed is not None:
                yield parsed
