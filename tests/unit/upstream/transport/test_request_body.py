"""Big request bodies: encoded exactly as json.dumps would, without stalling the loop."""

from __future__ import annotations

import base64
import json
import os
import threading

import httpx
import pytest

from chat.upstream import ChatRequest, ChatTurn, UpstreamClient
from chat.upstream import client as client_module
from chat.upstream.transport import body
from chat.upstream.transport.body import encode_json
from tests.unit.upstream.helpers import SSE, config

OK_STREAMS = {
    "openai": b'data: {"choices":[{"delta":{"content":"Hi"},"index":0,"finish_reason":"stop"}]}'
    b"\n\ndata: [DONE]\n\n",
    "dashscope": b'data:{"output":{"choices":[{"message":{"content":[{"text":"Hi"}]},'
    b'"finish_reason":"stop"}]}}\n\n',
}


def test_the_body_is_what_json_dumps_makes() -> None:
    long_text = ('a"b\\c\n\x00é😀\u2028' * 100_000) + "end"
    value = {
        "model": "qwen3-vl-plus",
        "messages": [{"content": [{"text": long_text}, {"image": "data:x;base64,AAAA"}]}],
        "n": [1, 2.5, True, False, None],
        "empty": {},
        "tuple": ("x",),
    }
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert encode_json(value) == expected
    assert json.loads(encode_json(value)) == json.loads(expected)


def test_long_strings_are_escaped_a_slice_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each call holds the GIL: a short one lets the event loop's thread run in between."""
    lengths: list[int] = []
    real_dumps = body.json.dumps

    def dumps(value: object, **kwargs: object) -> str:
        lengths.append(len(value) if isinstance(value, str) else 0)
        return real_dumps(value, **kwargs)

    monkeypatch.setattr(body.json, "dumps", dumps)
    encoded = encode_json({"image": "A" * 13_000_000})
    assert len(encoded) == 13_000_000 + len('{"image":""}')
    assert max(lengths) <= 256 * 1024


def test_values_json_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError):
        encode_json({"x": float("nan")})
    with pytest.raises(TypeError):
        encode_json({1: "x"})


def big_request(images: int, megabytes_each: float) -> ChatRequest:
    raw = os.urandom(int(megabytes_each * 1_000_000 * 3 / 4))
    url = "data:image/png;base64," + base64.b64encode(raw).decode()
    turn = ChatTurn("user", "What differs?", images=tuple(url + str(i) for i in range(images)))
    return ChatRequest(model="qwen3-vl-plus", messages=(turn,))


@pytest.mark.parametrize("protocol", ["openai", "dashscope"])
async def test_a_20_mb_body_is_built_and_encoded_off_the_event_loop(
    protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body is built and JSON-encoded in a worker thread, never on the loop's thread.

    (How long the loop pauses while a big body is sent is a benchmark's figure, measured
    in the README: about 15 ms in a thread against 200-330 ms on the loop.)
    """
    request = big_request(images=2, megabytes_each=10)
    bodies: list[bytes] = []
    encoded_in: list[threading.Thread] = []
    real_encode = client_module.encode_json

    def encode(value: object) -> bytes:
        encoded_in.append(threading.current_thread())
        return real_encode(value)

    monkeypatch.setattr(client_module, "encode_json", encode)

    def handler(sent: httpx.Request) -> httpx.Response:
        bodies.append(sent.content)
        return httpx.Response(200, headers=SSE, content=OK_STREAMS[protocol])

    async with UpstreamClient(config(protocol), transport=httpx.MockTransport(handler)) as client:
        events = [event async for event in client.stream(request)]

    assert events[-1].kind == "finish"
    sent = json.loads(bodies[0])
    messages = sent["messages"] if protocol == "openai" else sent["input"]["messages"]
    assert len(bodies[0]) > 20_000_000 and len(messages[0]["content"]) == 3
    assert encoded_in and threading.main_thread() not in encoded_in
