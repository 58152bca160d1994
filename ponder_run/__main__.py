"""``python -m ponder_run serve`` (make run) and ``python -m ponder_run test`` (make test)."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .commands import daphne_argv, worker_argv, worker_processes
from .procs import Child, log, stop_all
from .services import project_env, start_bundled_redis, start_simulator, wait_for_http

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("PONDER_VAR_DIR", ROOT / "var"))
SIMULATOR_API_KEY = "sk-ponder-simulator"


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


def bundled_redis_socket() -> Path:
    sys.path.insert(0, str(ROOT))
    from config.env import bundled_redis_socket as socket_for

    return socket_for(VAR)


def serve() -> int:
    """Migrate, then supervise Redis, the simulator (without a key), daphne and the workers."""
    port = os.environ.get("PORT", "8000")
    env = project_env()
    children: list[Child] = []
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, request_stop)
    # Started from a shell's background job, SIGINT arrives ignored, and Python then keeps
    # ignoring it: Ctrl-C (or an orchestrator's SIGINT) must stop us all the same.
    signal.signal(signal.SIGINT, request_stop)
    try:
        if not env.get("REDIS_URL"):
            child, env["REDIS_URL"] = start_bundled_redis(
                VAR / "redis", bundled_redis_socket(), env
            )
            children.append(child)
            log("ponder", f"bundled Redis on {env['REDIS_URL']}")
        if not env.get("DASHSCOPE_API_KEY"):
            child, base_url = start_simulator(env)
            children.append(child)
            env.update(
                DASHSCOPE_API_KEY=SIMULATOR_API_KEY,
                DASHSCOPE_BASE_URL=base_url,
                PONDER_SIMULATOR="1",
            )
            log("ponder", f"no DASHSCOPE_API_KEY: replies come from the simulator at {base_url}")
        manage("migrate", "--noinput", env=env)
        manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
        web = Child("web", daphne_argv(port), env)
        children.append(web)
        count = worker_processes(env)
        for i in range(1, count + 1):
            # One node name per process, so pings and the health check count each one.
            name, node = ("worker", None) if count == 1 else (f"worker-{i}", f"worker{i}@%h")
            children.append(Child(name, worker_argv(name=node, env=env), env))
        wait_for_http(f"http://127.0.0.1:{port}/accounts/login/", web)
        log("ponder", f"Ponder is running on http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
        while True:
            for child in children:
                if child.proc.poll() is not None:
                    log("ponder", f"{child.name} exited with {child.proc.returncode}; stopping")
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        stopping = True
        return 0
    finally:
        log("ponder", "stopping…" if stopping else "shutting down")
        stop_all(children)


# Debian packages the suite runs: the browser tests' Chromium, and GNU gettext, whose
# xgettext the translation-catalog test runs to find strings missing from the catalogs.
TEST_TOOLS = {"chromium": "chromium", "xgettext": "gettext"}


def ensure_test_tools() -> None:
    """Install the Debian packages of missing test tools, when we are root."""
    missing = [pkg for cmd, pkg in TEST_TOOLS.items() if not shutil.which(cmd)]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("ponder", f"missing {', '.join(missing)} and cannot install them; tests will fail")
        return
    log("ponder", f"installing Debian's {', '.join(missing)} for the tests")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def test(pytest_args: list[str]) -> int:
    """Start what the suite needs (Redis, Chromium), then run pytest."""
    env = project_env()
    children: list[Child] = []
    try:
        ensure_test_tools()
        if not env.get("REDIS_URL"):
            # A separate server from `make run`'s, so a running dev worker never eats test tasks.
            socket_path = VAR / "redis-test" / "redis.sock"
            child, env["REDIS_URL"] = start_bundled_redis(VAR / "redis-test", socket_path, env)
            children.append(child)
        return subprocess.run(
            [sys.executable, "-m", "pytest", *pytest_args], env=env, cwd=ROOT
        ).returncode
    finally:
        stop_all(children)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ponder_run")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the whole app (make run)")
    sub.add_parser("test", help="run the test suite (make test)")
    args, rest = parser.parse_known_args(argv)
    if args.command == "serve":
        return serve()
    return test(rest)


if __name__ == "__main__":
    sys.exit(main())
