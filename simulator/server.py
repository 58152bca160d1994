"""Run the simulator: as a CLI process, or in a background thread for tests."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from aiohttp import web

from simulator.app import Simulator

DEFAULT_RATE = 40.0
MAX_BODY_BYTES = 64 * 1024 * 1024  # base64 images make big request bodies
MAX_HEADER_BYTES = 64 * 1024
IDLE_TIMEOUT = 75.0  # seconds an idle keep-alive connection stays open
SHUTDOWN_GRACE = 1.0  # seconds a request may take to finish once the server stops


def make_app(simulator: Simulator) -> web.Application:
    """Return an aiohttp application that hands every request to ``simulator``."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    # One catch-all route: the simulator does its own routing, so unknown paths get
    # Model Studio's error shape and show up in the request log.
    app.router.add_route("*", "/{path:.*}", simulator.handle)

    async def drop_open_streams(_app: web.Application) -> None:
        simulator.close_connections()

    app.on_shutdown.append(drop_open_streams)
    return app


async def start_server(
    simulator: Simulator, host: str = "127.0.0.1", port: int = 0
) -> web.AppRunner:
    """Start listening; the caller owns the returned runner and ends it with ``cleanup()``."""
    runner = web.AppRunner(
        make_app(simulator),
        handle_signals=False,
        access_log=None,
        shutdown_timeout=SHUTDOWN_GRACE,
        keepalive_timeout=IDLE_TIMEOUT,
        max_line_size=MAX_HEADER_BYTES,
        max_field_size=MAX_HEADER_BYTES,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, backlog=1024).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def _url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


async def serve(host: str, port: int, rate: float, trace: TextIO | None = None) -> None:
    """Serve until SIGINT or SIGTERM; print the listening line first."""
    runner = await start_server(Simulator(rate=rate, trace=trace), host, port)
    print(f"SIMULATOR_LISTENING {_url(runner)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="A local Model Studio stand-in speaking both wire protocols.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="token pieces per second per stream; 0 = as fast as possible",
    )
    parser.add_argument(
        "--trace-file",
        metavar="PATH",
        help="append '<request id> <piece index> <unix time>' per streamed piece (benchmarks)",
    )
    args = parser.parse_args(argv)
    trace = open(args.trace_file, "a", encoding="utf-8") if args.trace_file else None  # noqa: SIM115
    try:
        asyncio.run(serve(args.host, args.port, args.rate, trace))
    except KeyboardInterrupt:
        pass
    finally:
        if trace is not None:
            trace.close()
    return 0


class SimulatorThread:
    """The simulator on its own event loop in a daemon thread.

    ``base_url = sim.start()`` … ``sim.stop()``, or use it as a context manager.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, rate: float = 0.0) -> None:
        self.host = host
        self.port = port
        self.simulator = Simulator(rate=rate)
        self.base_url = ""
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def start(self) -> str:
        """Start serving and return the base URL (``http://127.0.0.1:PORT``)."""
        self._thread = threading.Thread(target=self._run, name="upstream-simulator", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError("the simulator did not start") from self._error
        return self.base_url

    def stop(self) -> None:
        """Stop serving, drop open connections and join the thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> SimulatorThread:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(); a thread has nowhere else to raise
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = await start_server(self.simulator, self.host, self.port)
        self.base_url = _url(runner)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
