"""The SSE reader parses whole events per network read, however the reads split them."""

from __future__ import annotations

import httpx
import pytest

from chat.upstream.transport.sse import iter_events


class Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk


async def events(chunks: list[bytes]) -> list[tuple[str, str]]:
    response = httpx.Response(200, stream=Chunks(chunks))
    return [event async for event in iter_events(response)]


BODY = (
    b'data: {"a":1}\n\n'
    b": a comment\n\n"
    b'id:7\nevent:result\n:HTTP_STATUS/200\ndata:{"b":\n'
    b"data:2}\n\n"
    b'data: {"c":"\xe4\xbd\xa0\xe5\xa5\xbd"}\n\n'
    b"data: [DONE]\n\n"
)
EXPECTED = [
    ("message", '{"a":1}'),
    ("result", '{"b":\n2}'),
    ("message", '{"c":"你好"}'),
    ("message", "[DONE]"),
]


async def test_a_body_in_one_read_gives_every_event_in_order():
    assert await events([BODY]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 7])
async def test_any_split_of_the_reads_gives_the_same_events(size):
    # Splits fall inside UTF-8 characters, inside "\n\n" and inside field names.
    assert await events([BODY[i : i + size] for i in range(0, len(BODY), size)]) == EXPECTED


@pytest.mark.parametrize("size", [1, 5, len(BODY)])
async def test_crlf_and_cr_line_ends_are_line_ends(size):
    crlf = BODY.replace(b"\n", b"\r\n")
    assert await events([crlf[i : i + size] for i in range(0, len(crlf), size)]) == EXPECTED
    assert await events([BODY.replace(b"\n", b"\r")]) == EXPECTED


async def test_an_event_the_body_did_not_finish_is_dropped():
    assert await events([b"data: 1\n\ndata: 2\n"]) == [("message", "1")]


async def test_a_value_keeps_all_but_one_leading_space():
    assert await events([b"data:  two spaces\n\n"]) == [("message", " two spaces")]
