"""Drive N concurrent reasoning streams through a real, private Ponder stack.

``python -m bench.streams --streams 10,100,300 [--protocol openai|dashscope]
[--tokens N] [--rate R] [--direct D]`` (also ``make bench``). What each number means is
in bench/README.md; in short, per round of N streams:

* the stack is Redis, the simulator, one daphne and ``--workers`` Celery worker
  processes on one queue (their CPU and RSS are reported summed and per process);
* N users, each with a session and a conversation (made with the ORM), open N
  websockets to daphne; then all N send one message at the same moment over the HTTP
  API, and D "direct" clients stream the same kind of reply straight from the
  simulator on the same event loop;
* the simulator (``--trace-file``) records when it wrote every piece; each websocket
  frame's arrival time is matched to the pieces it carries, so the latency of every
  piece is measured simulator write → websocket frame (same machine clock); the direct
  clients give the same measurement without Ponder in between;
* text is compared with the simulator's script (tokens lost), seq numbers are checked,
  ``chat_message`` writes are counted by triggers, and CPU and RSS are read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.profile import find_py_spy
from bench.stack import (
    API_KEY,
    ROOT,
    RssSampler,
    Stack,
    cpu_seconds,
    machine_cpu_seconds,
    memory_kib,
    runqueue_wait_seconds,
    signed_in,
    start_stack,
    wait_for_quiet,
)

MODEL = "qwen-plus"
FINAL = ("complete", "cancelled", "failed", "interrupted")


# --- one stream's record ------------------------------------------------------------------


@dataclass
class PipelineStream:
    index: int
    conversation_id: str
    session_key: str
    csrf: str
    prompt: str
    ws: Any = None
    ws_extensions: str = ""
    ws_wire_bytes: int = 0  # bytes the socket received from its handshake to the final event
    post_start: float = 0.0
    post_end: float = 0.0
    post_status: int = 0
    post_error: str = ""
    message_id: str = ""
    user_message_id: str = ""
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    final_status: str = ""
    done_at: float = 0.0
    ws_error: str = ""


@dataclass
class DirectStream:
    index: int
    prompt: str
    request_id: str = ""
    arrivals: list[float] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""


def prompt_for(kind: str, tag: str, index: int, tokens: int, rate: float) -> str:
    return (
        f"{kind} {tag}-{index}: how should a team plan a {index % 7 + 2}-step database "
        f"migration? [[sim:rate={rate:g} reasoning_tokens={tokens} answer_tokens={tokens}]]"
    )


def expected_pieces(prompt: str) -> list[tuple[str, str]]:
    """The pieces the simulator streams for ``prompt``: ("reasoning"|"content", text)."""
    from simulator.directives import parse_directives, strip_directives
    from simulator.script import build_script

    script = build_script(
        strip_directives(prompt), parse_directives(prompt), thinking=True, budget=None
    )
    return [("reasoning", p) for p in script.reasoning] + [("content", p) for p in script.answer]


# --- setup with the ORM (sync) --------------------------------------------------------------


def prepare_streams(tag: str, n: int, tokens: int, rate: float) -> list[PipelineStream]:
    """Create n users, a session and a conversation each."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from chat.models import Conversation

    prefix = f"bench-{tag}-"
    unusable = make_password(None)
    User.objects.bulk_create([User(username=f"{prefix}{i}", password=unusable) for i in range(n)])
    users = sorted(
        User.objects.filter(username__startswith=prefix),
        key=lambda u: int(u.username[len(prefix) :]),
    )
    conversations = Conversation.objects.bulk_create([Conversation(owner=user) for user in users])
    streams = []
    for i, (user, conversation) in enumerate(zip(users, conversations, strict=True)):
        session_key, csrf = signed_in(user)
        prompt = prompt_for("Question", tag, i, tokens, rate)
        streams.append(PipelineStream(i, str(conversation.id), session_key, csrf, prompt))
    return streams


# --- the round (async) ---------------------------------------------------------------------


async def open_websocket(stack: Stack, stream: PipelineStream, gate: asyncio.Semaphore) -> None:
    from websockets.asyncio.client import connect

    url = (
        stack.base_url.replace("http://", "ws://") + f"/ws/conversations/{stream.conversation_id}/"
    )
    cookie = f"sessionid={stream.session_key}; csrftoken={stream.csrf}"
    async with gate:
        try:
            stream.ws = await connect(
                url,
                create_connection=wire_counting_connection(),
                additional_headers={"Cookie": cookie},
                origin=stack.base_url,
                open_timeout=120,
                ping_interval=None,
                max_size=None,
            )
            stream.ws_extensions = stream.ws.response.headers.get("Sec-WebSocket-Extensions", "")
        except Exception as exc:  # recorded; the round goes on without this stream
            stream.ws_error = f"connect: {exc!r}"


def wire_counting_connection() -> type:
    """A websocket client connection that counts the bytes it receives (``wire_bytes``):
    with permessage-deflate, the wire carries less than the frames' decoded payload."""
    from websockets.asyncio.client import ClientConnection

    class WireCountingConnection(ClientConnection):
        wire_bytes = 0

        def data_received(self, data: bytes) -> None:
            self.wire_bytes += len(data)
            super().data_received(data)

    return WireCountingConnection


async def read_frames(stream: PipelineStream, deadline: float) -> None:
    """Keep every frame with its arrival time until the reply's final status event."""
    loop = asyncio.get_running_loop()
    ws = stream.ws
    handshake = getattr(ws, "wire_bytes", 0)
    try:
        while True:
            raw = await asyncio.wait_for(ws.recv(decode=False), deadline - loop.time())
            now = time.time()
            stream.frames.append((now, raw))
            # The end comes as a status event, or as a snapshot (the consumer's catch-up
            # from the database when the reply went quiet before its status came live).
            if b'"type":"status"' in raw or b'"type":"snapshot"' in raw:
                event = json.loads(raw)
                if event.get("status") in FINAL:
                    stream.final_status, stream.done_at = event["status"], now
                    stream.ws_wire_bytes = getattr(ws, "wire_bytes", 0) - handshake
                    return
    except TimeoutError:
        stream.ws_error = "timed out waiting for the final status event"
    except Exception as exc:
        stream.ws_error = f"recv: {exc!r}"


async def send_message(client: Any, stream: PipelineStream) -> None:
    body = {"content": stream.prompt, "model": MODEL, "enable_thinking": True}
    stream.post_start = time.time()
    try:
        response = await client.post(
            f"/api/conversations/{stream.conversation_id}/messages/", json=body
        )
    except Exception as exc:  # no response: say how long the client waited for one
        stream.post_error = f"{exc!r} after {time.time() - stream.post_start:.1f} s"
        return
    stream.post_end = time.time()
    stream.post_status = response.status_code
    if response.status_code == 202:
        data = response.json()
        stream.message_id = data["assistant_message"]["id"]
        stream.user_message_id = data["user_message"]["id"]
    else:
        stream.post_error = response.text[:300]


async def stream_direct(client: Any, direct: DirectStream) -> None:
    from chat.upstream import ChatRequest, ChatTurn

    request = ChatRequest(
        model=MODEL, messages=(ChatTurn("user", direct.prompt),), enable_thinking=True
    )
    async for event in client.stream(request):
        if event.kind in ("reasoning", "content") and event.text:
            direct.arrivals.append(time.time())
            direct.texts.append((event.kind, event.text))
            direct.request_id = event.request_id or direct.request_id
        elif event.kind == "error":
            direct.error = repr(event.error)


async def drive(
    stack: Stack,
    streams: list[PipelineStream],
    directs: list[DirectStream],
    timeout: float,
    tag: str,
    py_spy: str | None,
    steady: tuple[float, float] = (0.0, 0.0),
) -> dict[str, Any]:
    """Open the websockets, then start every send and direct stream at once; measure.

    ``steady``: seconds after the sends between which the streams are all flowing (no
    claim, no end); each process's CPU in that window is reported too.
    """
    import httpx
    import redis

    from bench.profile import Profiler
    from bench.redisstats import BacklogSampler, command_delta, command_stats
    from chat.upstream import UpstreamClient, UpstreamConfig

    gate = asyncio.Semaphore(50)
    await asyncio.gather(*(open_websocket(stack, s, gate) for s in streams))
    connected = [s for s in streams if s.ws is not None]
    limits = httpx.Limits(max_connections=len(streams) + 10, max_keepalive_connections=0)
    transport = httpx.AsyncHTTPTransport(limits=limits)
    clients = {
        s.index: httpx.AsyncClient(
            base_url=stack.base_url,
            transport=transport,
            cookies={"sessionid": s.session_key, "csrftoken": s.csrf},
            headers={"X-CSRFToken": s.csrf},
            timeout=httpx.Timeout(300.0),
        )
        for s in connected
    }
    config = UpstreamConfig(
        base_url=stack.simulator_url, api_key=API_KEY, protocol=stack_protocol(stack)
    )
    direct_client = UpstreamClient(config)
    pids = {**stack.pids(), "bench": os.getpid()}
    loop = asyncio.get_running_loop()
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    waits_before = {name: runqueue_wait_seconds(pid) for name, pid in pids.items()}
    machine_before = machine_cpu_seconds()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)  # py-spy, once waited for
    redis_client = redis.Redis.from_url(stack.env["REDIS_URL"])
    commands_before = command_stats(redis_client)
    profiler = (
        Profiler(py_spy, {name: pids[name] for name in (*stack.workers, "web")}, stack.var_dir, tag)
        if py_spy
        else None
    )
    with (
        RssSampler(pids) as sampler,
        BacklogSampler(stack.env["REDIS_URL"]) as backlog,
        profiler or contextlib.nullcontext(),
    ):
        started = time.time()
        deadline = loop.time() + timeout
        readers = [asyncio.create_task(read_frames(s, deadline)) for s in connected]
        direct_tasks = [asyncio.create_task(stream_direct(direct_client, d)) for d in directs]
        await asyncio.gather(*(send_message(clients[s.index], s) for s in connected))
        await asyncio.gather(*readers)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*direct_tasks), max(1.0, deadline - loop.time()))
        ended = time.time()
    cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    waits_after = {name: runqueue_wait_seconds(pid) for name, pid in pids.items()}
    machine_after = machine_cpu_seconds()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    profiler_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    commands = command_delta(commands_before, command_stats(redis_client), backlog.own_calls)
    redis_client.close()
    memory = {name: memory_kib(pid) for name, pid in pids.items() if name != "bench"}
    await asyncio.gather(*(s.ws.close() for s in connected), return_exceptions=True)
    await direct_client.aclose()
    await transport.aclose()
    wall = ended - started
    ours = sum(cpu_after[name] - cpu_before[name] for name in pids)
    busy = machine_after[0] - machine_before[0]
    capacity = machine_after[1] - machine_before[1]
    processes = {
        name: {
            "cpu_seconds": round(cpu_after[name] - cpu_before[name], 2),
            "cpu_percent_of_one_core": round(100 * (cpu_after[name] - cpu_before[name]) / wall, 1),
            # runnable but waiting for a CPU (another process had it): CPU starvation
            "runqueue_wait_seconds": round(waits_after[name] - waits_before[name], 2),
            "rss_peak_mib": round(sampler.peak_kib[name] / 1024, 1),
            **({"vm_hwm_mib": round(memory[name]["VmHWM"] / 1024, 1)} if name in memory else {}),
            "cpu_steady_seconds": sampler.cpu_between(
                name, started + steady[0], started + steady[1]
            ),
            "rss_curve_mib": sampler.rss_curve(name) if name in stack.workers else None,
        }
        for name in pids
    }
    # "worker": every worker process summed (RSS: the sum of each process' own peak).
    workers = [processes[name] for name in stack.workers]
    processes["worker"] = {
        key: round(sum(w[key] for w in workers), 2)
        for key in ("cpu_seconds", "cpu_percent_of_one_core", "runqueue_wait_seconds",
                    "rss_peak_mib", "vm_hwm_mib")
    }  # fmt: skip
    processes["worker"]["processes"] = list(stack.workers)
    return {
        "started_at": started,
        "wall_seconds": wall,
        "machine": {
            "cpu_busy_percent": round(100 * busy / capacity, 1) if capacity else None,
            "cpu_seconds_all_processes": round(busy, 2),
            "cpu_seconds_profiler": round(profiler_cpu, 2),
            "cpu_seconds_other_processes": round(busy - ours - profiler_cpu, 2),
            "loadavg_1min_at_end": os.getloadavg()[0],
        },
        "processes": processes,
        "redis": {
            "calls": sum(c["calls"] for c in commands.values()),
            "busy_seconds": round(sum(c["usec"] for c in commands.values()) / 1e6, 2),
            "commands": commands,
            **backlog.summary(),
        },
        "profile": profiler.summary() if profiler else None,
    }


def stack_protocol(stack: Stack) -> str:
    return stack.env["DASHSCOPE_PROTOCOL"]


# --- analysis (sync) ----------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def distribution(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "p50_ms": ms(percentile(values, 50)),
        "p90_ms": ms(percentile(values, 90)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(max(values) if values else None),
    }


def load_trace(path: Path, request_ids: set[str]) -> dict[str, dict[int, float]]:
    """{request id: {piece index: unix time the simulator wrote it}} for some requests."""
    trace: dict[str, dict[int, float]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            request_id, index, written_at = line.split()
            if request_id in request_ids:
                trace.setdefault(request_id, {})[int(index)] = float(written_at)
    return trace


def common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def write_results(directory: Path, name: str, report: dict[str, Any]) -> Path:
    """Write ``report`` as ``<directory>/<name>.json``; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{name}.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return out


def frame_header_bytes(payload: int) -> int:
    """Server-to-client frames are unmasked: 2 bytes of header, +2 or +8 for long payloads."""
    return 2 if payload < 126 else 4 if payload < 65536 else 10


def analyse_pipeline(
    stream: PipelineStream, row: Any, trace: dict[int, float] | None
) -> dict[str, Any]:
    pieces = expected_pieces(stream.prompt)
    expected = {
        kind: "".join(text for k, text in pieces if k == kind) for kind in ("reasoning", "content")
    }
    events = [(at, json.loads(raw)) for at, raw in stream.frames]
    own = [(at, e) for at, e in events if e.get("message_id") == stream.message_id]
    seqs = [e["seq"] for _at, e in own]
    duplicates = len(seqs) - len(set(seqs))
    missing = len(set(range(1, max(seqs, default=0) + 1)) - set(seqs))
    out_of_order = sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b <= a)
    deltas = [(at, e) for at, e in own if e["type"] == "delta"]
    received = {kind: "" for kind in expected}
    for _at, e in own:  # a snapshot replaces the text so far, as the browser does
        for kind in expected:
            if e["type"] == "snapshot":
                received[kind] = e.get(kind, "")
            elif e["type"] == "delta":
                received[kind] += e.get(kind, "")
    prefix = {kind: common_prefix(received[kind], expected[kind]) for kind in expected}

    # Piece k is delivered by the first frame whose running text covers its last character.
    ends: dict[str, list[tuple[int, int]]] = {"reasoning": [], "content": []}
    offsets = {"reasoning": 0, "content": 0}
    for k, (kind, text) in enumerate(pieces):
        offsets[kind] += len(text)
        ends[kind].append((offsets[kind], k))
    lost = sum(1 for kind in ends for end, _k in ends[kind] if end > prefix[kind])
    latencies: list[tuple[float, float]] = []  # every piece: (written at, latency)
    newest: list[float] = []  # the newest piece of each frame (least coalescing wait)
    if trace:
        covered = {"reasoning": 0, "content": 0}
        cursor = {"reasoning": 0, "content": 0}
        for at, event in deltas:
            frame_pieces = []
            for kind in ends:
                covered[kind] = min(covered[kind] + len(event.get(kind, "")), prefix[kind])
                while (
                    cursor[kind] < len(ends[kind]) and ends[kind][cursor[kind]][0] <= covered[kind]
                ):
                    frame_pieces.append(ends[kind][cursor[kind]][1])
                    cursor[kind] += 1
            frame_pieces = [k for k in frame_pieces if k in trace]
            latencies.extend((trace[k], at - trace[k]) for k in frame_pieces)
            if frame_pieces:
                newest.append(at - trace[max(frame_pieces)])
    payload = sum(len(raw) for _at, raw in stream.frames)
    # What the socket received, or (a connection that does not count) what the frames
    # would take uncompressed.
    wire = stream.ws_wire_bytes or sum(
        len(raw) + frame_header_bytes(len(raw)) for _at, raw in stream.frames
    )
    text_bytes = sum(len(received[kind].encode()) for kind in received)  # as delivered
    first_delta = deltas[0][0] if deltas else None
    last_piece_at = trace.get(len(pieces) - 1) if trace else None
    return {
        "index": stream.index,
        "message_id": stream.message_id,
        "final_status": stream.final_status or None,
        "db_status": row.status if row else None,
        "error": "; ".join(e for e in (stream.post_error, stream.ws_error) if e) or None,
        "pieces": len(pieces),
        "tokens_lost": lost,
        "exact_on_websocket": received == expected,
        "exact_in_db": bool(row)
        and row.reasoning == expected["reasoning"]
        and row.content == expected["content"],
        "events": len(own),
        "delta_events": len(deltas),
        "snapshots": sum(1 for _at, e in own if e["type"] == "snapshot"),
        "seq_duplicates": duplicates,
        "seq_missing": missing,
        "seq_out_of_order": out_of_order,
        "latencies": latencies,
        "newest_latencies": newest,
        "ws_payload_bytes": payload,
        "ws_wire_bytes": wire,
        "text_bytes": text_bytes,
        "post_seconds": stream.post_end - stream.post_start if stream.post_end else None,
        "ttft_seconds": first_delta - stream.post_start if first_delta else None,
        "final_after_last_piece": stream.done_at - last_piece_at
        if stream.done_at and last_piece_at
        else None,
        "request_id": row.upstream_request_id if row else "",
    }


def analyse_direct(direct: DirectStream, trace: dict[int, float] | None) -> dict[str, Any]:
    pieces = expected_pieces(direct.prompt)
    exact = [text for _kind, text in pieces] == [text for _kind, text in direct.texts]
    latencies = []
    if trace and exact:
        latencies = [at - trace[k] for k, at in enumerate(direct.arrivals) if k in trace]
    return {"exact": exact, "latencies": latencies, "error": direct.error or None}


def diagnose_incomplete(stack: Stack, stream: PipelineStream, row: Any) -> dict[str, Any]:
    """For a stream that never ended on the websocket: where did its events stop?"""
    import redis

    from chat.streaming import bus

    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        buffered = client.xlen(bus.replay_key(stream.message_id)) if stream.message_id else 0
        last = client.xrevrange(bus.replay_key(stream.message_id), count=1) if buffered else []
    finally:
        client.close()
    seqs = [json.loads(raw).get("seq", 0) for _at, raw in stream.frames]
    return {
        "index": stream.index,
        "message_id": stream.message_id,
        "db_status": row.status if row else None,
        "replay_buffer_events": buffered,
        "replay_buffer_last": json.loads(last[0][1][b"e"]) if last else None,
        "last_seq_received": max(seqs, default=0),
        "frames_received": len(stream.frames),
        "post_status": stream.post_status or None,  # None: no HTTP response at all
        "post_error": stream.post_error or None,
        "error": stream.ws_error or None,
    }


def log_findings(stack: Stack, offsets: dict[str, int]) -> dict[str, dict[str, int]]:
    """Count telling lines each process logged during the round."""
    needles = {
        "over_capacity": "over capacity",
        "tracebacks": "Traceback",
        "errors": " ERROR ",
        "warnings": " WARNING ",
    }
    findings = {}
    for name in (*stack.workers, "web"):
        text = stack.procs[name].output()[offsets[name] :]
        findings[name] = {key: text.count(needle) for key, needle in needles.items()}
        # which worker process took the replies (Celery logs "Task <name>[<id>] received")
        findings[name]["replies_received"] = len(
            re.findall(r"generate_reply\[[^\]]*\] received", text)
        )
    return findings


def run_round(
    stack: Stack,
    tag: str,
    n: int,
    *,
    tokens: int,
    rate: float,
    direct_count: int,
    dump: bool = False,
    py_spy: str | None = None,
    quiet_wait: float = 0,
) -> dict[str, Any]:
    from bench import dbwrites
    from chat.models import Message

    streams = prepare_streams(tag, n, tokens, rate)
    directs = [
        DirectStream(i, prompt_for("Direct", tag, i, tokens, rate)) for i in range(direct_count)
    ]
    nominal = 2 * tokens / rate if rate else 5.0
    timeout = max(60.0, 4 * nominal + 30 + 0.2 * n)
    steady = (0.35 * nominal, 0.85 * nominal)
    quiet = wait_for_quiet(quiet_wait) if quiet_wait else None
    dbwrites.reset()
    offsets = {name: len(stack.procs[name].output()) for name in (*stack.workers, "web")}
    measured = asyncio.run(drive(stack, streams, directs, timeout, tag, py_spy, steady))
    time.sleep(1.0)  # let the simulator flush the trace of the last responses
    stack.check_alive()

    ids = [s.message_id for s in streams if s.message_id]
    rows = {str(m.id): m for m in Message.objects.filter(id__in=ids)}
    request_ids = {m.upstream_request_id for m in rows.values() if m.upstream_request_id}
    request_ids |= {d.request_id for d in directs if d.request_id}
    trace = load_trace(stack.trace_path, request_ids)

    per_stream = []
    for stream in streams:
        row = rows.get(stream.message_id)
        rid = row.upstream_request_id if row else ""
        per_stream.append(analyse_pipeline(stream, row, trace.get(rid)))
    if dump:  # raw material for digging into one round: frames, trace, latencies
        with open(stack.var_dir / f"dump-{tag}.jsonl", "w", encoding="utf-8") as handle:
            for stream, result in zip(streams, per_stream, strict=True):
                record = {
                    "index": stream.index,
                    "message_id": stream.message_id,
                    "post": [stream.post_start, stream.post_end],
                    "frames": [[at, raw.decode()] for at, raw in stream.frames],
                    "trace": trace.get(result["request_id"], {}),
                    "latencies": result["latencies"],
                }
                handle.write(json.dumps(record) + "\n")
    per_direct = [analyse_direct(d, trace.get(d.request_id)) for d in directs]
    incomplete = [
        diagnose_incomplete(stack, s, rows.get(s.message_id))
        for s in streams
        if s.final_status != "complete"
    ]

    writes = dbwrites.counts()
    key = dbwrites.row_key
    import uuid as uuid_module

    reply_writes, send_writes, reply_updates = [], [], []
    for s in streams:
        if not s.message_id:
            continue
        reply = key(uuid_module.UUID(s.message_id))
        question = key(uuid_module.UUID(s.user_message_id))
        conversation = key(uuid_module.UUID(s.conversation_id))
        updates = writes[("chat_message", "UPDATE", reply)]
        inserts = writes[("chat_message", "INSERT", reply)]
        reply_updates.append(updates)
        reply_writes.append(updates + inserts)
        send_writes.append(
            updates
            + inserts
            + writes[("chat_message", "INSERT", question)]
            + writes[("chat_message", "UPDATE", question)]
            + writes[("chat_conversation", "UPDATE", conversation)]
        )

    timed_latencies = [x for r in per_stream for x in r.pop("latencies")]
    pipeline_latencies = [latency for _at, latency in timed_latencies]
    by_second: dict[int, list[float]] = {}
    for written_at, latency in timed_latencies:
        by_second.setdefault(int(written_at - measured["started_at"]), []).append(latency)
    newest_latencies = [x for r in per_stream for x in r.pop("newest_latencies")]
    direct_latencies = [x for r in per_direct for x in r.pop("latencies")]
    pipeline = distribution(pipeline_latencies)
    direct = distribution(direct_latencies)
    completed = sum(1 for r in per_stream if r["final_status"] == "complete")
    payload = sum(r["ws_payload_bytes"] for r in per_stream)
    wire = sum(r["ws_wire_bytes"] for r in per_stream)
    text = sum(r["text_bytes"] for r in per_stream) or 1

    def added(p: str) -> float | None:
        if pipeline[p] is None or direct[p] is None:
            return None
        return round(pipeline[p] - direct[p], 1)

    def seconds(values: list[float | None], p: float) -> float | None:
        value = percentile([v for v in values if v is not None], p)
        return None if value is None else round(value, 3)

    return {
        "streams": n,
        "tokens_per_phase": tokens,
        "rate_per_stream": rate,
        "steady_window_seconds": steady,
        "completed": completed,
        "tokens_expected": sum(r["pieces"] for r in per_stream),
        "tokens_lost": sum(r["tokens_lost"] for r in per_stream),
        "exact_on_websocket": sum(1 for r in per_stream if r["exact_on_websocket"]),
        "exact_in_db": sum(1 for r in per_stream if r["exact_in_db"]),
        "seq_duplicates": sum(r["seq_duplicates"] for r in per_stream),
        "seq_missing": sum(r["seq_missing"] for r in per_stream),
        "seq_out_of_order": sum(r["seq_out_of_order"] for r in per_stream),
        "snapshots": sum(r["snapshots"] for r in per_stream),
        "latency_pipeline": pipeline,
        "latency_pipeline_newest_piece_per_frame": distribution(newest_latencies),
        # second of the round (by simulator write time): [pieces, p50 ms, p99 ms]
        "latency_pipeline_by_second": {
            second: [len(v), ms(percentile(v, 50)), ms(percentile(v, 99))]
            for second, v in sorted(by_second.items())
        },
        "latency_direct": {
            **direct,
            "streams": len(directs),
            "exact": sum(1 for r in per_direct if r["exact"]),
        },  # fmt: skip
        "added_latency_p50_ms": added("p50_ms"),
        "added_latency_p99_ms": added("p99_ms"),
        "send_seconds_p50": seconds([r["post_seconds"] for r in per_stream], 50),
        "send_seconds_p99": seconds([r["post_seconds"] for r in per_stream], 99),
        "ttft_seconds_p50": seconds([r["ttft_seconds"] for r in per_stream], 50),
        "ttft_seconds_p99": seconds([r["ttft_seconds"] for r in per_stream], 99),
        "final_event_after_last_piece_p99_s": seconds(
            [r["final_after_last_piece"] for r in per_stream], 99
        ),
        "events_per_stream": round(sum(r["events"] for r in per_stream) / max(1, n), 1),
        "db_writes_per_reply": round(sum(reply_writes) / max(1, len(reply_writes)), 2),
        "db_updates_per_reply_max": max(reply_updates, default=0),
        "db_writes_per_send": round(sum(send_writes) / max(1, len(send_writes)), 2),
        "ws_payload_bytes_per_text_byte": round(payload / text, 3),
        "ws_wire_bytes_per_text_byte": round(wire / text, 3),
        "ws_extensions": sorted({s.ws_extensions for s in streams if s.ws}),
        "redis_calls_per_event": round(
            measured["redis"]["calls"] / max(1, sum(r["events"] for r in per_stream)), 1
        ),
        **measured,
        "quiet_wait": quiet,
        "logs": log_findings(stack, offsets),
        "incomplete": incomplete[:20],
        "incomplete_count": len(incomplete),
        "errors": sorted({r["error"] for r in per_stream if r["error"]})[:10],
        "direct_errors": sorted({r["error"] for r in per_direct if r["error"]})[:10],
    }


# --- output -------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _worker_cells(p: dict[str, Any]) -> tuple[str, str]:
    """Worker CPU and RSS cells: the sum, then each process when there are several."""
    w = p["worker"]
    cpu = f"{w['cpu_seconds']:g} ({w['cpu_percent_of_one_core']:g}%)"
    rss = f"{w['rss_peak_mib']:g}"
    if len(w["processes"]) > 1:
        each = [p[name] for name in w["processes"]]
        cpu += " = " + " + ".join(f"{e['cpu_seconds']:g}" for e in each)
        rss += " = " + " + ".join(f"{e['rss_peak_mib']:g}" for e in each)
    return cpu, rss


def markdown(rounds: list[dict[str, Any]]) -> str:
    head1 = (
        "| streams | completed | tokens lost | seq dup / missing | Ponder p50 / p99 ms "
        "| direct p50 / p99 ms | added p50 / p99 ms | TTFT p50 / p99 s | events / stream "
        "| DB writes / reply | ws bytes / text byte |"
    )
    rows1 = [head1, "|" + "---|" * 11]
    head2 = (
        "| streams | wall s | worker CPU s (% core) | worker RSS peak MiB | daphne CPU s (% core) "
        "| daphne RSS peak MiB | redis CPU s | simulator CPU s | bench client CPU s "
        "| channel backlog max | machine busy (others' CPU s) |"
    )
    rows2 = [head2, "|" + "---|" * 11]
    for r in rounds:
        lp, ld, p = r["latency_pipeline"], r["latency_direct"], r["processes"]
        worker_cpu, worker_rss = _worker_cells(p)
        rows1.append(
            f"| {r['streams']} | {r['completed']}/{r['streams']} "
            f"| {r['tokens_lost']} of {r['tokens_expected']} "
            f"| {r['seq_duplicates']} / {r['seq_missing']} "
            f"| {_fmt(lp['p50_ms'])} / {_fmt(lp['p99_ms'])} "
            f"| {_fmt(ld['p50_ms'])} / {_fmt(ld['p99_ms'])} "
            f"| {_fmt(r['added_latency_p50_ms'])} / {_fmt(r['added_latency_p99_ms'])} "
            f"| {_fmt(r['ttft_seconds_p50'])} / {_fmt(r['ttft_seconds_p99'])} "
            f"| {_fmt(r['events_per_stream'])} "
            f"| {_fmt(r['db_writes_per_reply'])} | {_fmt(r['ws_wire_bytes_per_text_byte'])} |"
        )
        rows2.append(
            f"| {r['streams']} | {r['wall_seconds']:.1f} "
            f"| {worker_cpu} | {worker_rss} "
            f"| {p['web']['cpu_seconds']:g} ({p['web']['cpu_percent_of_one_core']:g}%) "
            f"| {p['web']['rss_peak_mib']:g} | {p['redis']['cpu_seconds']:g} "
            f"| {p['simulator']['cpu_seconds']:g} | {p['bench']['cpu_seconds']:g} "
            f"| {r['redis']['channel_backlog_max']} "
            f"| {r['machine']['cpu_busy_percent']:g}% "
            f"({r['machine']['cpu_seconds_other_processes']:g}) |"
        )
    return "\n".join(rows1) + "\n\n" + "\n".join(rows2)


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.streams", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--streams", default="10,100,300", help="comma-separated N per round")
    parser.add_argument(
        "--protocol",
        choices=("openai", "dashscope"),
        default=os.environ.get("DASHSCOPE_PROTOCOL", "openai"),
    )
    parser.add_argument(
        "--tokens", type=int, default=200, help="reasoning pieces, and answer pieces"
    )
    parser.add_argument("--rate", type=float, default=40.0, help="pieces per second per stream")
    parser.add_argument("--direct", type=int, default=10, help="direct simulator clients per round")
    parser.add_argument(
        "--workers", type=int, default=1, help="Celery worker processes (one queue)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=400, help="Celery threads per worker process"
    )
    parser.add_argument(
        "--settings",
        default="config.settings",
        help="DJANGO_SETTINGS_MODULE of every process of the stack",
    )
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="before each round, wait up to this many seconds for the machine to be idle",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary directory (logs, trace, and dump-*.jsonl of every frame)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the workers and daphne during each round"
    )
    parser.add_argument("--py-spy", help="path of the py-spy binary (default: on PATH)")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    return parser.parse_args(argv)


def git_commit() -> str:
    """The checkout's HEAD, with ``+dirty`` when tracked files differ from it."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = [int(n) for n in args.streams.split(",") if n.strip()]
    database_url = os.environ.get("DATABASE_URL") or None
    var_dir = Path(tempfile.mkdtemp(prefix="ponder-bench-"))
    print(f"bench: private stack in {var_dir} ({args.protocol}, "
          f"{'DATABASE_URL' if database_url else 'SQLite'}, {args.workers} worker(s))",
          flush=True)  # fmt: skip
    stack = start_stack(
        var_dir,
        protocol=args.protocol,
        rate=args.rate,
        database_url=database_url,
        concurrency=args.concurrency,
        workers=args.workers,
        settings_module=args.settings,
    )
    try:
        os.environ.update(stack.env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connection

        from bench import dbwrites

        dbwrites.install()
        py_spy = find_py_spy(args.py_spy) if args.profile else None
        if args.profile and not py_spy:
            print("bench: --profile needs py-spy (on PATH or --py-spy PATH); not profiling")
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        if not args.no_warmup:
            run_round(stack, f"{run_id}-warmup", 5, tokens=20, rate=100, direct_count=2)
        rounds = []
        for n in counts:
            print(f"bench: {n} streams…", flush=True)
            result = run_round(
                stack, f"{run_id}-{n}", n, tokens=args.tokens, rate=args.rate,
                direct_count=min(args.direct, n), dump=args.keep, py_spy=py_spy,
                quiet_wait=args.quiet_wait,
            )  # fmt: skip
            rounds.append(result)
            print(
                f"bench: {n} streams: {result['completed']}/{n} complete, "
                f"{result['tokens_lost']} tokens lost, p99 {result['latency_pipeline']['p99_ms']} ms",
                flush=True,
            )
        report = {
            "run_id": run_id,
            "command": " ".join(["python -m bench.streams", *(argv or sys.argv[1:])]),
            "protocol": args.protocol,
            "database": connection.vendor,
            "settings": args.settings,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "loadavg_at_end": os.getloadavg(),
            },
            "commit": git_commit(),
            "workers": args.workers,
            "worker_concurrency": args.concurrency,
            "rounds": rounds,
        }
        out = write_results(
            args.results_dir, f"{run_id}-{args.protocol}-{connection.vendor}", report
        )
        print()
        print(markdown(rounds))
        print(f"\nbench: results in {out}")
        if args.keep:
            print(f"bench: logs and trace kept in {var_dir}")
        return 0
    finally:
        stack.stop()
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
