"""The aiohttp wire under httpx: a refused or cut connection is the upstream error it was."""

from __future__ import annotations

import asyncio
import socket

from chat.upstream import ChatRequest, ChatTurn, UpstreamClient, UpstreamConfig

REQUEST = ChatRequest(model="qwen-plus", messages=(ChatTurn(role="user", content="Hi"),))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def last_event(base_url: str):
    config = UpstreamConfig(base_url=base_url, api_key="sk-test", max_retries=0)
    async with UpstreamClient(config) as client:
        return [event async for event in client.stream(REQUEST)][-1]


async def test_a_refused_connection_is_connect_failed():
    event = await last_event(f"http://127.0.0.1:{closed_port()}")
    assert (event.kind, event.error.code) == ("error", "connect_failed")


async def test_a_connection_cut_mid_body_is_connection_lost():
    async def half_a_response(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        chunk = b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()
        writer.close()  # no last chunk: the body is cut

    server = await asyncio.start_server(half_a_response, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        event = await last_event(f"http://127.0.0.1:{port}")
    assert (event.kind, event.error.code) == ("error", "connection_lost")
