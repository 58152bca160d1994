"""The simulator's opt-in ``--trace-file``: one line per written piece (used by ``bench/``)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from chat.upstream import ChatRequest, ChatTurn, UpstreamClient, UpstreamConfig
from simulator import Simulator, SimulatorThread

ROOT = Path(__file__).resolve().parents[3]


def test_tracing_is_off_by_default():
    assert Simulator().trace is None
    assert SimulatorThread().simulator.trace is None


@pytest.mark.parametrize("protocol", ["openai", "dashscope"])
async def test_trace_file_has_one_line_per_piece_with_the_request_id(tmp_path, protocol):
    trace_path = tmp_path / "trace.txt"
    argv = [sys.executable, "-m", "simulator", "--port", "0", "--rate", "0"]
    proc = subprocess.Popen(
        [*argv, "--trace-file", str(trace_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().split()[-1]  # "SIMULATOR_LISTENING http://…"
        config = UpstreamConfig(base_url=base_url, api_key="sk-test", protocol=protocol)
        prompt = "Trace me. [[sim:reasoning_tokens=7 answer_tokens=5]]"
        request = ChatRequest(
            model="qwen-plus", messages=(ChatTurn("user", prompt),), enable_thinking=True
        )
        before = time.time()
        request_ids, texts = set(), 0
        async with UpstreamClient(config) as client:
            async for event in client.stream(request):
                if event.kind in ("reasoning", "content") and event.text:
                    texts += 1
                    request_ids.add(event.request_id)
        after = time.time()
        deadline = time.monotonic() + 5  # flushed right after the response's last write
        while len(trace_path.read_text().splitlines()) < texts and time.monotonic() < deadline:
            time.sleep(0.01)
        lines = [line.split() for line in trace_path.read_text().splitlines()]
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()

    assert texts == 12 and len(request_ids) == 1
    assert [int(index) for _rid, index, _at in lines] == list(range(12))
    assert {rid for rid, _index, _at in lines} == request_ids
    times = [float(at) for _rid, _index, at in lines]
    assert times == sorted(times) and before <= times[0] and times[-1] <= after
