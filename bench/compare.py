"""Ponder against the floor, side by side in one run: same upstream, same load client.

``python -m bench.compare --streams 10,100,200,300 [--fast] [--workers N]`` starts the
private stack of ``bench.streams`` (Redis, the simulator, daphne, Celery workers) and the
floor relay of ``bench.floor`` next to it, on the same simulator. For each N it runs a
round through the floor, then the same round through Ponder (each after waiting for a
quiet machine), and reports for both: completion, tokens lost, p50/p99 added latency
(piece written by the simulator → websocket frame carrying it, minus the p50/p99 of
direct simulator clients in the same round), the ratio of Ponder's p99 to the floor's,
relay CPU µs per upstream piece (Ponder: the worker processes; the floor: its process;
from /proc/<pid>/stat), DB row writes per message per second, websocket bytes per text
byte, events per stream per second, peak RSS, and the machine's load.

``--fast`` adds the fast-model profile (20 streams at 1,500 pieces/s). ``--soak S`` adds
a round of 100 streams lasting S seconds and samples the worker's RSS every 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.stack import (
    API_KEY,
    ROOT,
    Proc,
    RssSampler,
    Stack,
    cpu_seconds,
    machine_cpu_seconds,
    start_stack,
    wait_for_quiet,
)
from bench.streams import (
    DirectStream,
    PipelineStream,
    analyse_direct,
    analyse_pipeline,
    distribution,
    git_commit,
    load_trace,
    prompt_for,
    read_frames,
    run_round,
    stream_direct,
    wire_counting_connection,
    write_results,
)

FAST = {"streams": 20, "rate": 1500.0, "tokens": 3000}


# --- the floor's round ----------------------------------------------------------------------


def start_floor(stack: Stack) -> tuple[Proc, str]:
    argv = [
        sys.executable, "-m", "bench.floor",
        "--upstream", stack.simulator_url, "--api-key", API_KEY,
    ]  # fmt: skip
    proc = Proc("floor", argv, stack.env, stack.log_dir)
    return proc, proc.wait_for("FLOOR_LISTENING").split()[-1]


async def drive_floor(
    url: str,
    stack: Stack,
    floor_pid: int,
    streams: list[PipelineStream],
    directs: list[DirectStream],
    timeout: float,
    steady: tuple[float, float],
) -> dict[str, Any]:
    """Open N sockets to the floor, start every stream and direct client at once; measure."""
    from websockets.asyncio.client import connect

    from chat.upstream import UpstreamClient, UpstreamConfig

    gate = asyncio.Semaphore(50)

    async def open_socket(stream: PipelineStream) -> None:
        async with gate:
            stream.ws = await connect(
                url,
                create_connection=wire_counting_connection(),
                open_timeout=120,
                ping_interval=None,
                max_size=None,
                compression=None,
            )

    await asyncio.gather(*(open_socket(s) for s in streams))
    config = UpstreamConfig(
        base_url=stack.simulator_url, api_key=API_KEY, protocol=stack.env["DASHSCOPE_PROTOCOL"]
    )
    direct_client = UpstreamClient(config)
    pids = {"floor": floor_pid, "simulator": stack.procs["simulator"].pid, "bench": os.getpid()}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    machine_before = machine_cpu_seconds()
    loop = asyncio.get_running_loop()
    with RssSampler(pids) as sampler:
        started = time.time()
        deadline = loop.time() + timeout
        readers = [asyncio.create_task(read_frames(s, deadline)) for s in streams]
        direct_tasks = [asyncio.create_task(stream_direct(direct_client, d)) for d in directs]
        for stream in streams:
            stream.post_start = stream.post_end = time.time()
            request = {"prompt": stream.prompt, "message_id": stream.message_id}
            await stream.ws.send(json.dumps(request))
        await asyncio.gather(*readers)
        await asyncio.wait_for(asyncio.gather(*direct_tasks), max(1.0, deadline - loop.time()))
        ended = time.time()
    cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    machine_after = machine_cpu_seconds()
    await asyncio.gather(*(s.ws.close() for s in streams), return_exceptions=True)
    await direct_client.aclose()
    wall = ended - started
    busy = machine_after[0] - machine_before[0]
    capacity = machine_after[1] - machine_before[1]
    return {
        "started_at": started,
        "wall_seconds": wall,
        "machine": {
            "cpu_busy_percent": round(100 * busy / capacity, 1) if capacity else None,
            "loadavg_1min_at_end": os.getloadavg()[0],
        },
        "processes": {
            name: {
                "cpu_seconds": round(cpu_after[name] - cpu_before[name], 2),
                "rss_peak_mib": round(sampler.peak_kib[name] / 1024, 1),
                "cpu_steady_seconds": sampler.cpu_between(
                    name, started + steady[0], started + steady[1]
                ),
            }
            for name in pids
        },
    }


def run_floor_round(
    stack: Stack, floor: Proc, url: str, tag: str, n: int, *, tokens: int, rate: float,
    direct_count: int, quiet_wait: float,
) -> dict[str, Any]:  # fmt: skip
    streams = [
        PipelineStream(i, "", "", "", prompt_for("Question", tag, i, tokens, rate))
        for i in range(n)
    ]
    for stream in streams:
        stream.message_id = str(uuid.uuid4())
    directs = [
        DirectStream(i, prompt_for("Direct", tag, i, tokens, rate)) for i in range(direct_count)
    ]
    nominal = 2 * tokens / rate
    timeout = max(60.0, 4 * nominal + 30 + 0.2 * n)
    steady = (0.35 * nominal, 0.85 * nominal)
    quiet = wait_for_quiet(quiet_wait) if quiet_wait else None
    measured = asyncio.run(drive_floor(url, stack, floor.pid, streams, directs, timeout, steady))
    time.sleep(1.0)  # let the simulator flush its trace
    request_ids = {}
    for stream in streams:
        for _at, raw in reversed(stream.frames):
            if b'"type":"status"' in raw:
                request_ids[stream.index] = json.loads(raw).get("request_id", "")
                break
    wanted = set(request_ids.values()) | {d.request_id for d in directs if d.request_id}
    trace = load_trace(stack.trace_path, wanted)
    per_stream = [
        analyse_pipeline(s, None, trace.get(request_ids.get(s.index, ""))) for s in streams
    ]
    per_direct = [analyse_direct(d, trace.get(d.request_id)) for d in directs]
    pipeline = distribution([x for r in per_stream for _at, x in r.pop("latencies")])
    direct = distribution([x for r in per_direct for x in r.pop("latencies")])
    text = sum(r["text_bytes"] for r in per_stream) or 1
    return {
        "streams": n,
        "tokens_per_phase": tokens,
        "rate_per_stream": rate,
        "steady_window_seconds": steady,
        "completed": sum(1 for r in per_stream if r["final_status"] == "complete"),
        "tokens_expected": sum(r["pieces"] for r in per_stream),
        "tokens_lost": sum(r["tokens_lost"] for r in per_stream),
        "latency_pipeline": pipeline,
        "latency_direct": direct,
        "events_per_stream": round(sum(r["events"] for r in per_stream) / max(1, n), 1),
        "ws_wire_bytes_per_text_byte": round(sum(r["ws_wire_bytes"] for r in per_stream) / text, 3),
        "errors": sorted({r["error"] for r in per_stream if r["error"]})[:10],
        "quiet_wait": quiet,
        **measured,
    }


# --- one comparable row per relay and round --------------------------------------------------


def added(result: dict[str, Any], p: str) -> float | None:
    pipeline, direct = result["latency_pipeline"][p], result["latency_direct"][p]
    return None if pipeline is None or direct is None else round(pipeline - direct, 1)


def summary(relay: str, result: dict[str, Any]) -> dict[str, Any]:
    """The figures the issue asks for, the same way for the floor and for Ponder."""
    p = result["processes"]
    pieces = max(1, result["tokens_expected"])
    seconds = 2 * result["tokens_per_phase"] / result["rate_per_stream"]  # one reply's length
    relay_processes = ["floor"] if relay == "floor" else p["worker"]["processes"]
    relay_cpu = sum(p[name]["cpu_seconds"] for name in relay_processes)
    window = result["steady_window_seconds"][1] - result["steady_window_seconds"][0]
    steady_cpu = [p[name]["cpu_steady_seconds"] for name in relay_processes]
    steady_pieces = result["streams"] * result["rate_per_stream"] * window
    row = {
        "relay": relay,
        "streams": result["streams"],
        "rate": result["rate_per_stream"],
        "completed": result["completed"],
        "tokens_lost": result["tokens_lost"],
        "tokens_expected": result["tokens_expected"],
        "added_p50_ms": added(result, "p50_ms"),
        "added_p99_ms": added(result, "p99_ms"),
        "direct_p99_ms": result["latency_direct"]["p99_ms"],
        "relay_cpu_us_per_piece": round(1e6 * relay_cpu / pieces, 1),
        "relay_cpu_seconds": round(relay_cpu, 2),
        # While every stream flows (no claim, no end, no title): the cost of a piece alone.
        "relay_cpu_us_per_piece_steady": None
        if None in steady_cpu or not steady_pieces
        else round(1e6 * sum(steady_cpu) / steady_pieces, 1),
        "relay_rss_peak_mib": round(sum(p[name]["rss_peak_mib"] for name in relay_processes), 1),
        "events_per_stream_per_second": round(result["events_per_stream"] / seconds, 1),
        "ws_bytes_per_text_byte": result["ws_wire_bytes_per_text_byte"],
        "machine_busy_percent": result["machine"]["cpu_busy_percent"],
        "loadavg_1min_at_end": round(result["machine"]["loadavg_1min_at_end"], 2),
        "wall_seconds": round(result["wall_seconds"], 1),
    }
    if relay == "ponder" and seconds >= 60:  # a soak: the worker's RSS over time
        row["worker_rss_curve_mib"] = p[relay_processes[0]]["rss_curve_mib"]
    if relay == "ponder":
        row["db_writes_per_message_per_second"] = round(result["db_writes_per_reply"] / seconds, 2)
        row["web_cpu_us_per_piece"] = round(1e6 * p["web"]["cpu_seconds"] / pieces, 1)
        row["redis_cpu_us_per_piece"] = round(1e6 * p["redis"]["cpu_seconds"] / pieces, 1)
    return row


def with_ratio(ponder: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    ours, theirs = ponder["added_p99_ms"], floor["added_p99_ms"]
    ratio = None if ours is None or not theirs or theirs <= 0 else round(ours / theirs, 2)
    return {**ponder, "p99_ratio_to_floor": ratio}


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| streams × pieces/s | relay | completed | lost | added p50 / p99 ms (direct p99) "
        "| p99 × floor | relay CPU µs/piece (steady) | DB writes/msg/s | events/stream/s "
        "| ws bytes/text byte | relay RSS MiB | machine busy, load |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r['streams']} × {_f(r['rate'])} | {r['relay']} "
            f"| {r['completed']}/{r['streams']} | {r['tokens_lost']} of {r['tokens_expected']} "
            f"| {_f(r['added_p50_ms'])} / {_f(r['added_p99_ms'])} ({_f(r['direct_p99_ms'])}) "
            f"| {_f(r.get('p99_ratio_to_floor'))} | {_f(r['relay_cpu_us_per_piece'])} "
            f"({_f(r['relay_cpu_us_per_piece_steady'])}) "
            f"| {_f(r.get('db_writes_per_message_per_second'))} "
            f"| {_f(r['events_per_stream_per_second'])} | {_f(r['ws_bytes_per_text_byte'])} "
            f"| {_f(r['relay_rss_peak_mib'])} "
            f"| {_f(r['machine_busy_percent'])} %, {_f(r['loadavg_1min_at_end'])} |"
        )
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--streams", default="10,100,200,300", help="comma-separated N")
    parser.add_argument("--rate", type=float, default=50.0, help="pieces per second per stream")
    parser.add_argument("--tokens", type=int, default=200, help="reasoning pieces, and answer")
    parser.add_argument("--fast", action="store_true", help="add 20 streams at 1,500 pieces/s")
    parser.add_argument(
        "--soak", type=float, default=0, help="add 100 streams lasting this many seconds"
    )
    parser.add_argument("--direct", type=int, default=10, help="direct clients per round")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="Celery worker processes (default: one per core, as make run starts them)",
    )
    parser.add_argument("--concurrency", type=int, default=400)
    parser.add_argument("--quiet-wait", type=float, default=30)
    parser.add_argument("--only", choices=("floor", "ponder"), help="run one relay only")
    parser.add_argument("--py-spy", help="profile Ponder's workers and daphne with this py-spy")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = [(int(n), args.rate, args.tokens) for n in args.streams.split(",") if n.strip()]
    if args.fast:
        plan.append((FAST["streams"], FAST["rate"], FAST["tokens"]))
    if args.soak:
        plan.append((100, args.rate, int(args.soak * args.rate / 2)))
    var_dir = Path(tempfile.mkdtemp(prefix="ponder-compare-"))
    database_url = os.environ.get("DATABASE_URL") or None
    print(f"compare: private stack in {var_dir}, {args.workers} worker(s)", flush=True)
    stack = start_stack(
        var_dir, protocol="openai", rate=args.rate, database_url=database_url,
        concurrency=args.concurrency, workers=args.workers,
    )  # fmt: skip
    floor, url = start_floor(stack)
    try:
        os.environ.update(stack.env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connection

        from bench import dbwrites

        dbwrites.install()
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        run_round(stack, f"{run_id}-warmup", 5, tokens=20, rate=100, direct_count=2)
        run_floor_round(
            stack, floor, url, f"{run_id}-warmup-floor", 5, tokens=20, rate=100,
            direct_count=2, quiet_wait=0,
        )  # fmt: skip
        rows, raw = [], []
        for n, rate, tokens in plan:
            tag = f"{run_id}-{n}x{rate:g}"
            floor_row = None
            if args.only != "ponder":
                print(f"compare: {n} streams × {rate:g}/s through the floor… ({uptime()})")
                result = run_floor_round(
                    stack, floor, url, f"{tag}-floor", n, tokens=tokens, rate=rate,
                    direct_count=min(args.direct, n), quiet_wait=args.quiet_wait,
                )  # fmt: skip
                raw.append({"relay": "floor", **result})
                floor_row = summary("floor", result)
                rows.append(floor_row)
                print(markdown([floor_row]).splitlines()[-1], flush=True)
            if args.only != "floor":
                print(f"compare: {n} streams × {rate:g}/s through Ponder… ({uptime()})")
                result = run_round(
                    stack, f"{tag}-ponder", n, tokens=tokens, rate=rate,
                    direct_count=min(args.direct, n), quiet_wait=args.quiet_wait,
                    py_spy=args.py_spy, dump=args.keep,
                )  # fmt: skip
                raw.append({"relay": "ponder", **result})
                row = summary("ponder", result)
                rows.append(with_ratio(row, floor_row) if floor_row else row)
                print(markdown([rows[-1]]).splitlines()[-1], flush=True)
        report = {
            "run_id": run_id,
            "command": " ".join(["python -m bench.compare", *(argv or sys.argv[1:])]),
            "database": connection.vendor,
            "commit": git_commit(),
            "workers": args.workers,
            "cpus": os.cpu_count(),
            "rows": rows,
            "rounds": raw,
        }
        out = write_results(args.results_dir, f"{run_id}-compare-{connection.vendor}", report)
        print()
        print(markdown(rows))
        print(f"\ncompare: results in {out}")
        return 0
    finally:
        floor.stop()
        stack.stop()
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)


def uptime() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f}"


if __name__ == "__main__":
    sys.exit(main())
