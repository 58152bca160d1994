"""The simulator refuses what Model Studio refuses, in each protocol's error shape."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat.upstream import (
    AuthenticationError,
    ChatRequest,
    ChatTurn,
    ModelNotFound,
)
from chat.upstream.request import DASHSCOPE_MULTIMODAL_PATH, DASHSCOPE_TEXT_PATH, OPENAI_PATH
from simulator import SimulatorThread
from tests.integration.upstream.helpers import API_KEY, ask, directive, run, sim_requests

ROOT = Path(__file__).resolve().parents[3]
AUTH = {"Authorization": f"Bearer {API_KEY}"}
SSE = {**AUTH, "X-DashScope-SSE": "enable"}


def oa_body(model: str = "qwen-plus", content: Any = "hi", **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "stream": True,
        **extra,
    }


def ds_body(model: str = "qwen-plus", content: Any = "hi", **parameters: Any) -> dict[str, Any]:
    return {
        "model": model,
        "input": {"messages": [{"role": "user", "content": content}]},
        "parameters": {"result_format": "message", "incremental_output": True, **parameters},
    }


def post(base: str, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{base}{path}", json=body, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("path", "body", "shape"),
    [
        (OPENAI_PATH, oa_body(), "openai"),
        (DASHSCOPE_TEXT_PATH, ds_body(), "dashscope"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer", "Basic abc"])
def test_missing_key_is_401_invalid_api_key(
    upstream_sim: SimulatorThread, path: str, body: Any, shape: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = post(upstream_sim.base_url, path, body, headers)

    assert response.status_code == 401
    payload = response.json()
    if shape == "openai":
        assert payload["error"]["code"] == "invalid_api_key"
    else:
        assert payload["code"] == "InvalidApiKey"
        assert payload["request_id"]


@pytest.mark.asyncio
async def test_our_client_maps_a_rejected_key(upstream_sim: SimulatorThread, wire: str) -> None:
    result = await run(upstream_sim.base_url, wire, ask(f"hi {directive(fault=401)}"))

    assert isinstance(result.error, AuthenticationError)
    assert result.error.http_status == 401


@pytest.mark.asyncio
async def test_an_empty_key_fails_without_a_request(upstream_sim: SimulatorThread) -> None:
    result = await run(upstream_sim.base_url, "openai", ask("hi"), api_key=" ")

    assert isinstance(result.error, AuthenticationError)
    assert result.error.code == "missing_api_key"


def test_unknown_model(upstream_sim: SimulatorThread) -> None:
    oa = post(upstream_sim.base_url, OPENAI_PATH, oa_body("gpt-4o"), AUTH)
    ds = post(upstream_sim.base_url, DASHSCOPE_TEXT_PATH, ds_body("gpt-4o"), SSE)

    assert (oa.status_code, oa.json()["error"]["code"]) == (404, "model_not_found")
    assert (ds.status_code, ds.json()["code"]) == (400, "InvalidParameter")
    assert ds.json()["message"] == "Model not exist."


@pytest.mark.asyncio
async def test_our_client_maps_an_unknown_model(upstream_sim: SimulatorThread, wire: str) -> None:
    result = await run(upstream_sim.base_url, wire, ask("hi", model="no-such-model"))

    assert isinstance(result.error, ModelNotFound)


def test_qwen35_on_the_text_endpoint_is_a_url_error(upstream_sim: SimulatorThread) -> None:
    response = post(upstream_sim.base_url, DASHSCOPE_TEXT_PATH, ds_body("qwen3.5-plus"), SSE)

    assert response.status_code == 400
    assert response.json()["message"].startswith("url error")


def test_qwen35_on_the_multimodal_endpoint_thinks_by_default(upstream_sim: SimulatorThread) -> None:
    response = post(
        upstream_sim.base_url,
        DASHSCOPE_MULTIMODAL_PATH,
        {
            "model": "qwen3.5-plus",
            "input": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]},
        },
        AUTH,  # no SSE header: one JSON body
    )

    assert response.status_code == 200
    message = response.json()["output"]["choices"][0]["message"]
    assert message["reasoning_content"]
    assert message["content"][0]["text"]


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        (OPENAI_PATH, oa_body("deepseek-r1", enable_thinking=False), AUTH),
        (DASHSCOPE_TEXT_PATH, ds_body("qwq-plus", enable_thinking=False), SSE),
    ],
)
def test_thinking_only_models_refuse_thinking_off(
    upstream_sim: SimulatorThread, path: str, body: Any, headers: dict[str, str]
) -> None:
    response = post(upstream_sim.base_url, path, body, headers)

    assert response.status_code == 400
    assert "enable_thinking" in response.text


def test_images_for_a_text_model_are_refused(upstream_sim: SimulatorThread) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
    response = post(
        upstream_sim.base_url,
        OPENAI_PATH,
        oa_body(content=[image, {"type": "text", "text": "?"}]),
        AUTH,
    )

    assert response.status_code == 400
    assert "image" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("model", "budget", "status"),
    [
        ("qwen-plus", 0, 400),
        ("qwen-plus", "50", 400),
        ("qwq-plus", 50, 400),
        ("qwen-plus", 50, 200),
    ],
)
def test_thinking_budget_is_validated(
    upstream_sim: SimulatorThread, model: str, budget: Any, status: int
) -> None:
    body = oa_body(model, enable_thinking=True, thinking_budget=budget)

    assert post(upstream_sim.base_url, OPENAI_PATH, body, AUTH).status_code == status


def test_streaming_only_models_refuse_non_streaming(upstream_sim: SimulatorThread) -> None:
    body = oa_body("qwq-plus", stream=False)

    response = post(upstream_sim.base_url, OPENAI_PATH, body, AUTH)

    assert response.status_code == 400
    assert "stream" in response.json()["error"]["message"]


def test_non_streaming_answers_one_json_body(upstream_sim: SimulatorThread) -> None:
    response = post(upstream_sim.base_url, OPENAI_PATH, oa_body(stream=False), AUTH)

    payload = response.json()
    assert payload["object"] == "chat.completion"
    assert payload["choices"][0]["finish_reason"] == "stop"
    assert payload["usage"]["total_tokens"] > 0


def test_streams_are_raw_utf8_with_the_seed_framing(upstream_sim: SimulatorThread) -> None:
    with httpx.stream(
        "POST", f"{upstream_sim.base_url}{DASHSCOPE_TEXT_PATH}", json=ds_body(), headers=SSE
    ) as response:
        raw = response.read()

    assert response.headers["content-type"].startswith("text/event-stream")
    assert raw.startswith(b'id:1\nevent:result\n:HTTP_STATUS/200\ndata:{"output":')
    assert "小".encode() in raw and "🚀".encode() in raw and b"\\u" not in raw
    assert b'"finish_reason":"stop"' in raw.split(b"\n\n")[-2]


@pytest.mark.asyncio
async def test_request_log_redacts_the_key_and_can_be_cleared(
    upstream_sim: SimulatorThread,
) -> None:
    marker = uuid.uuid4().hex
    await run(
        upstream_sim.base_url, "openai", ChatRequest("qwen-plus", (ChatTurn("user", marker),))
    )

    logged = [r for r in sim_requests(upstream_sim.base_url) if marker in json.dumps(r["body"])]
    assert logged[0]["headers"]["authorization"] == "Bearer ***"
    assert API_KEY not in json.dumps(sim_requests(upstream_sim.base_url))
    assert logged[0]["path"] == OPENAI_PATH
    assert logged[0]["outcome"] == "completed"

    assert httpx.delete(f"{upstream_sim.base_url}/_sim/requests").status_code == 204
    assert sim_requests(upstream_sim.base_url) == []


def test_health(upstream_sim: SimulatorThread) -> None:
    assert httpx.get(f"{upstream_sim.base_url}/_sim/health").json() == {"status": "ok"}


def test_invalid_json_is_a_bad_request(upstream_sim: SimulatorThread) -> None:
    response = httpx.post(
        f"{upstream_sim.base_url}{DASHSCOPE_TEXT_PATH}", content=b"{nope", headers=SSE
    )

    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameter"


def test_cli_prints_its_url_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--rate", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("SIMULATOR_LISTENING http://127.0.0.1:")
        url = line.split()[1]
        assert httpx.get(f"{url}/_sim/health", timeout=5).status_code == 200
    finally:
        process.terminate()
        assert process.wait(10) == 0
        if process.stdout is not None:
            process.stdout.close()


def test_request_log_shortens_huge_images(upstream_sim: SimulatorThread) -> None:
    image = "data:image/png;base64," + "A" * 100_000
    marker = uuid.uuid4().hex
    content = [{"image": image}, {"text": marker}]

    post(upstream_sim.base_url, DASHSCOPE_MULTIMODAL_PATH, ds_body("qwen3-vl-plus", content), SSE)

    logged = [r for r in sim_requests(upstream_sim.base_url) if marker in json.dumps(r["body"])]
    shown = logged[0]["body"]["input"]["messages"][0]["content"][0]["image"]
    assert shown.startswith("data:image/png;base64,AAA")
    assert shown.endswith("…[100022 chars]")
