"""The floor: the least any relay can do, to measure Ponder against in the same run.

One process, one event loop, no Django, Redis or database: per websocket, httpx reads
the upstream's OpenAI-compatible SSE stream, one 50 ms beat for every stream coalesces
the pieces received since the last beat into one frame, and the ``websockets`` library
sends it. Nothing is stored, nothing survives a restart: this is what the machine
allows, not a design to copy.

``python -m bench.floor --upstream URL --api-key KEY [--port 0]`` prints
``FLOOR_LISTENING ws://host:port``. A client connects and sends
``{"prompt": "...", "message_id": "..."}``; it receives frames shaped like Ponder's
(``{"type":"delta","message_id","seq","reasoning","content"}``), then
``{"type":"status","status":"complete"|"failed","request_id":...}``, so the benchmark
analyses both relays with the same code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

import httpx
from websockets.asyncio.server import ServerConnection, serve

PATH = "/compatible-mode/v1/chat/completions"
MODEL = "qwen-plus"


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


class FloorStream:
    """One relayed reply: pieces waiting for the next beat, and the socket they go to."""

    def __init__(self, ws: ServerConnection, message_id: str) -> None:
        self.ws = ws
        self.message_id = message_id
        self.seq = 0
        self.reasoning: list[str] = []
        self.content: list[str] = []

    async def flush(self) -> None:
        if not (self.reasoning or self.content):
            return
        self.seq += 1
        event = {
            "type": "delta",
            "message_id": self.message_id,
            "seq": self.seq,
            "reasoning": "".join(self.reasoning),
            "content": "".join(self.content),
        }
        self.reasoning.clear()
        self.content.clear()
        await self.ws.send(encode(event))


class Floor:
    def __init__(self, upstream: str, api_key: str, coalesce: float) -> None:
        self.client = httpx.AsyncClient(
            base_url=upstream,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(300.0),
            limits=httpx.Limits(max_connections=2000, max_keepalive_connections=2000),
        )
        self.coalesce = coalesce
        self.streams: set[FloorStream] = set()

    async def beat(self) -> None:
        while True:
            await asyncio.sleep(self.coalesce)
            for stream in list(self.streams):
                try:
                    await stream.flush()
                except Exception:
                    self.streams.discard(stream)  # the client went away

    async def handle(self, ws: ServerConnection) -> None:
        request = json.loads(await ws.recv())
        stream = FloorStream(ws, request["message_id"])
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": request["prompt"]}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "enable_thinking": True,
        }
        status, request_id = "failed", ""
        self.streams.add(stream)
        try:
            async with self.client.stream("POST", PATH, json=body) as response:
                request_id = response.headers.get("x-request-id", "")
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        status = "complete"
                        break
                    for choice in json.loads(data).get("choices") or ():
                        delta = choice.get("delta") or {}
                        if delta.get("reasoning_content"):
                            stream.reasoning.append(delta["reasoning_content"])
                        if delta.get("content"):
                            stream.content.append(delta["content"])
        finally:
            self.streams.discard(stream)
        await stream.flush()
        final = {
            "type": "status",
            "message_id": stream.message_id,
            "seq": stream.seq + 1,
            "status": status,
            "request_id": request_id,
        }
        await ws.send(encode(final))
        await ws.wait_closed()


async def run(host: str, port: int, upstream: str, api_key: str, coalesce: float) -> None:
    floor = Floor(upstream, api_key, coalesce)
    beat = asyncio.create_task(floor.beat())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serve(
        floor.handle, host, port, max_size=None, ping_interval=None, compression=None
    ) as server:
        bound = next(iter(server.sockets)).getsockname()
        print(f"FLOOR_LISTENING ws://{bound[0]}:{bound[1]}", flush=True)
        await stop.wait()
    beat.cancel()
    await floor.client.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--upstream", required=True, help="the simulator's base URL")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--coalesce", type=float, default=0.05, help="seconds per beat")
    args = parser.parse_args(argv)
    asyncio.run(run(args.host, args.port, args.upstream, args.api_key, args.coalesce))
    return 0


if __name__ == "__main__":
    sys.exit(main())
